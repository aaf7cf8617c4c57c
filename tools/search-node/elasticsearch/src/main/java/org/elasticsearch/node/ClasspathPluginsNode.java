package org.elasticsearch.node;

import java.util.Collection;
import java.util.List;

import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.MockPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

/**
 * A real Elasticsearch {@link Node} whose plugins are classes on the classpath instead of a
 * distribution's {@code modules/} directory.
 *
 * <p>It lives in {@code org.elasticsearch.node} because the hooks it needs
 * ({@code Node(NodeConstruction)}, {@code NodeConstruction.prepareConstruction},
 * {@code NodeServiceProvider.newPluginService}) are package-private. It does what the test
 * framework's {@code MockNode} does minus everything else MockNode brings: no mock service is
 * swapped in (the only override is the plugin service), and {@code ESTestCase} (random seeds, test
 * system properties, test logging) is never loaded. {@link MockPluginsService} is used because it
 * is the framework's PluginsService for classpath plugins (SPI extensions across plugins that share
 * one class loader); it mocks nothing.
 */
public class ClasspathPluginsNode extends Node {

    private final List<Class<? extends Plugin>> classpathPlugins;

    public ClasspathPluginsNode(Environment environment, Collection<Class<? extends Plugin>> classpathPlugins) {
        super(NodeConstruction.prepareConstruction(environment, null, new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment env, PluginsLoader unusedLoader) {
                return new MockPluginsService(env.settings(), env, classpathPlugins);
            }
        }, true /* forbid private index settings, as a production node does */));
        this.classpathPlugins = List.copyOf(classpathPlugins);
    }

    public List<Class<? extends Plugin>> classpathPlugins() {
        return classpathPlugins;
    }
}
