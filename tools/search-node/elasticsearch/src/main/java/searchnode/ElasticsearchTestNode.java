package searchnode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.node.ClasspathPluginsNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;

/**
 * A single embedded Elasticsearch 9 node for tests: plain HTTP on 127.0.0.1, single-node discovery,
 * the netty4 module loaded as a classpath plugin (no distribution tarball, no x-pack/security).
 *
 * <pre>
 * java -cp CLASSPATH searchnode.ElasticsearchTestNode --home DIR [--http-port N] [--port-file FILE]
 *      [-Ekey=value ...]
 * </pre>
 *
 * --http-port 0 (the default) binds an ephemeral port; the port actually bound is written to
 * --port-file (atomically) once the node has started, and printed on stdout.
 *
 * <p>Like a node in Elasticsearch's own in-process tests (ESSingleNodeTestCase / InternalTestCluster),
 * no entitlement agent is installed: the test framework only installs it when
 * {@code es.entitlement.enableForTests=true}, which it is not by default. Bootstrap checks are not
 * run either (they are production-mode checks; the node binds loopback only).
 */
public final class ElasticsearchTestNode {

    /** Module plugins loaded from the classpath; every one is required (no HTTP without netty4). */
    static final String[] PLUGINS = {
        "org.elasticsearch.transport.netty4.Netty4Plugin", // HTTP + transport
    };

    static final String NODE_NAME = "search-test-node";
    static final String CLUSTER_NAME = "search-test";

    private static final String LOG4J2 = String.join("\n",
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n",
        "rootLogger.level = info",
        "rootLogger.appenderRef.console.ref = console",
        // deprecation warnings still reach the client as HTTP Warning headers; keep node.log short
        "logger.deprecation.name = org.elasticsearch.deprecation",
        "logger.deprecation.level = error",
        // see NATIVE_LIBS_NOTE: the missing native libraries are expected, not worth a stack trace per start
        "logger.nativeaccess.name = org.elasticsearch.nativeaccess.NativeAccess",
        "logger.nativeaccess.level = error",
        "");

    /**
     * Elasticsearch's native libraries (libzstd, libvec) ship only inside the distribution tarball, not
     * on Maven Central, and its native layer loads all of them or none. Without them the server falls back
     * to pure Java (as it does on unsupported platforms): only index.codec=best_compression (zstd) and
     * memory locking are unavailable, and vector similarity runs in Java instead of SIMD C code.
     */
    static final String NATIVE_LIBS_NOTE =
        "search-node: no Elasticsearch native libraries (libzstd/libvec are not on Maven Central): native methods "
            + "disabled, index.codec=best_compression unavailable";

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
            System.err.println("usage: ElasticsearchTestNode --home DIR [--http-port N] [--port-file FILE] [-Ek=v ...]");
            System.exit(2);
        }

        // A thread dying silently would leave a half-working node behind; make it visible in node.log.
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            System.err.println("search-node: uncaught exception in thread " + thread.getName());
            e.printStackTrace();
        });

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
                // the same order as Elasticsearch's own shutdown hook: drain, close, wait
                try {
                    node.prepareForClose();
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
        // Without es.nativelibs.path the native loader looks under ${es.path.home}, a property only the
        // distribution's launcher sets, and fails with a NullPointerException; point it at an empty dir.
        if (System.getProperty("es.nativelibs.path") == null) {
            Path nativeDir = home.resolve("native");
            Files.createDirectories(nativeDir);
            System.setProperty("es.nativelibs.path", nativeDir.toString());
            System.out.println(NATIVE_LIBS_NOTE);
        }
        Path log4j = config.resolve("log4j2.properties");
        if (!Files.exists(log4j)) {
            Files.write(log4j, LOG4J2.getBytes(StandardCharsets.UTF_8));
        }

        Settings.Builder b = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("path.logs", logs.toString())
            .put("cluster.name", CLUSTER_NAME)
            .put("node.name", NODE_NAME)
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", "0")
            // tests run on small/full disks: never flip indices read-only
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // the heap is small and the GC serial: count what requests reserve, not the whole heap
            .put("indices.breaker.total.use_real_memory", false);
        for (Map.Entry<String, String> e : extra.entrySet()) {
            b.put(e.getKey(), e.getValue());
        }

        Environment env = InternalSettingsPreparer.prepareEnvironment(
            b.build(), Collections.emptyMap(), config, () -> NODE_NAME);
        LogConfigurator.registerErrorListener();
        // an -Ecluster.name=/-Enode.name= given on the command line wins, in the log too
        LogConfigurator.setClusterName(env.settings().get("cluster.name", CLUSTER_NAME));
        LogConfigurator.setNodeName(env.settings().get("node.name", NODE_NAME));
        LogConfigurator.configure(env, true);

        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String name : PLUGINS) {
            try {
                plugins.add(Class.forName(name).asSubclass(Plugin.class));
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("search-node: plugin class not on the classpath: " + name, e);
            }
        }
        Node node = new ClasspathPluginsNode(env, plugins);
        node.start();
        return node;
    }

    private ElasticsearchTestNode() {}
}
