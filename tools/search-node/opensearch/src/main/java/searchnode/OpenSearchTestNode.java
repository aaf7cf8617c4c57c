package searchnode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * A single embedded OpenSearch node for tests: plain HTTP on 127.0.0.1, single-node discovery,
 * modules loaded as classpath plugins (no distribution tarball, no security plugin).
 *
 * <pre>
 * java -cp CLASSPATH searchnode.OpenSearchTestNode --home DIR [--http-port N] [--port-file FILE]
 *      [-Ekey=value ...]
 * </pre>
 *
 * --http-port 0 (the default) binds an ephemeral port; the port actually bound is written to
 * --port-file (atomically) once the node has started, and printed on stdout.
 */
public final class OpenSearchTestNode {

    /** Module plugins loaded from the classpath; a missing one is skipped with a warning, except the
     *  first (netty4: without it the node has no HTTP), which is fatal. */
    static final String[] PLUGINS = {
        "org.opensearch.transport.Netty4Plugin", // HTTP + transport
        "org.opensearch.analysis.common.CommonAnalysisPlugin", // asciifolding, edge_ngram, synonym_graph, ...
        "org.opensearch.index.mapper.MapperExtrasPlugin", // search_as_you_type, scaled_float, rank_feature
        "org.opensearch.index.reindex.ReindexPlugin", // _reindex, _update_by_query, _delete_by_query
    };

    static final String NODE_NAME = "search-test-node";

    private static final String LOG4J2 = String.join("\n",
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n",
        "rootLogger.level = info",
        "rootLogger.appenderRef.console.ref = console",
        "logger.deprecation.name = org.opensearch.deprecation",
        "logger.deprecation.level = error",
        "");

    /** Node subclass only to reach the protected constructor that takes classpath plugins. */
    static final class TestNode extends Node {
        TestNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }

        @Override
        protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {
            // log4j node/cluster id pattern converters are not used
        }
    }

    public static void main(String[] args) throws Exception {
        Path home = null;
        String httpPort = "0";
        Path portFile = null;
        Map<String, String> extra = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--home")) {
                home = Paths.get(args[++i]).toAbsolutePath();
            } else if (a.equals("--http-port")) {
                httpPort = args[++i];
            } else if (a.equals("--port-file")) {
                portFile = Paths.get(args[++i]).toAbsolutePath();
            } else if (a.startsWith("-E") && a.indexOf('=') > 2) {
                int eq = a.indexOf('=');
                extra.put(a.substring(2, eq), a.substring(eq + 1));
            } else {
                System.err.println("unknown argument: " + a);
                System.exit(2);
            }
        }
        if (home == null) {
            System.err.println("usage: OpenSearchTestNode --home DIR [--http-port N] [--port-file FILE] [-Ek=v ...]");
            System.exit(2);
        }

        try {
            final Node node = startNode(home, httpPort, extra);
            HttpServerTransport http = node.injector().getInstance(HttpServerTransport.class);
            int port = http.boundAddress().publishAddress().getPort();
            if (portFile != null) {
                Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
                Files.write(tmp, (port + "\n").getBytes(StandardCharsets.US_ASCII));
                Files.move(tmp, portFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            System.out.println("search-node started: http://127.0.0.1:" + port);
            System.out.flush();

            final CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    node.close();
                    node.awaitClose(20, TimeUnit.SECONDS);
                } catch (Exception e) {
                    e.printStackTrace();
                } finally {
                    stopped.countDown();
                }
            }, "search-node-shutdown"));
            stopped.await();
        } catch (Throwable t) {
            System.err.println("search-node failed to start");
            t.printStackTrace();
            System.err.flush();
            Runtime.getRuntime().halt(1);
        }
    }

    static Node startNode(Path home, String httpPort, Map<String, String> extra) throws Exception {
        Path config = home.resolve("config");
        Path data = home.resolve("data");
        Path logs = home.resolve("logs");
        for (Path p : new Path[] {config, data, logs, home.resolve("modules"), home.resolve("plugins")}) {
            Files.createDirectories(p);
        }
        Path log4j = config.resolve("log4j2.properties");
        if (!Files.exists(log4j)) {
            Files.write(log4j, LOG4J2.getBytes(StandardCharsets.UTF_8));
        }

        Settings.Builder b = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("path.logs", logs.toString())
            .put("cluster.name", "search-test")
            .put("node.name", NODE_NAME)
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", "0")
            // tests run on small/full disks: never flip indices read-only
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("indices.breaker.total.use_real_memory", false);
        for (Map.Entry<String, String> e : extra.entrySet()) {
            b.put(e.getKey(), e.getValue());
        }

        Environment env = InternalSettingsPreparer.prepareEnvironment(
            b.build(), Collections.emptyMap(), config, () -> NODE_NAME);
        LogConfigurator.registerErrorListener();
        LogConfigurator.configure(env);

        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String name : PLUGINS) {
            try {
                plugins.add(Class.forName(name).asSubclass(Plugin.class));
            } catch (ClassNotFoundException e) {
                if (name.equals(PLUGINS[0])) {
                    throw new IllegalStateException("search-node: plugin class not on the classpath: " + name, e);
                }
                System.err.println("search-node: plugin class not on classpath, skipped: " + name);
            }
        }
        Node node = new TestNode(env, plugins);
        node.start();
        return node;
    }

    private OpenSearchTestNode() {}
}
