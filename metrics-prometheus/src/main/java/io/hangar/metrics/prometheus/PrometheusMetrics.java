package io.hangar.metrics.prometheus;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.Servlet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.logging.Logger;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The runtime's metrics registry. Registers Micrometer's Prometheus registry as a {@link MeterRegistry}
 * service (bundles publish their meters to it through {@code io.hangar.metrics.MeterGroup}), binds the JVM's
 * and the process's meters to it, serves it at {@code /metrics} through the Servlet Whiteboard, and writes the
 * URL it is served at to {@code <hangar.home>/run/metrics.url} so that {@code hangar stats} finds it.
 */
@Component(configurationPid = MetricsConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {})
@Designate(ocd = MetricsConfig.class)
public class PrometheusMetrics {
    private static final Logger LOG = Logger.getLogger(PrometheusMetrics.class.getName());
    private static final String HTTP_RUNTIME = "org.osgi.service.servlet.runtime.HttpServiceRuntime";

    private PrometheusMeterRegistry registry;
    private JvmGcMetrics gc;
    private ServiceRegistration<MeterRegistry> registration;
    private ServiceRegistration<Servlet> servlet;
    private ServiceTracker<Object, Object> endpoints;
    private Path urlFile;

    @Activate
    void activate(BundleContext ctx, MetricsConfig config) throws InvalidSyntaxException {
        if (!config.enabled()) {
            LOG.info("metrics are off (" + MetricsConfig.PID + " enabled=false): meters count into nothing");
            return;
        }
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        registration = ctx.registerService(MeterRegistry.class, registry, new Hashtable<>());

        String path = config.path().startsWith("/") ? config.path() : "/" + config.path();
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("osgi.http.whiteboard.servlet.pattern", path);
        props.put("osgi.http.whiteboard.servlet.name", "hangar-metrics");
        servlet = ctx.registerService(Servlet.class, new MetricsServlet(registry), props);

        String home = ctx.getProperty("hangar.home");
        urlFile = home == null || home.isBlank() ? null : Path.of(home, "run", "metrics.url");
        if (urlFile != null) {
            Filter f = ctx.createFilter("(objectClass=" + HTTP_RUNTIME + ")");
            endpoints = new ServiceTracker<>(ctx, f, null) {
                @Override
                public Object addingService(ServiceReference<Object> ref) {
                    announce(ref.getProperty("osgi.http.endpoint"), path);
                    return ref;
                }

                @Override
                public void modifiedService(ServiceReference<Object> ref, Object service) {
                    announce(ref.getProperty("osgi.http.endpoint"), path);
                }
            };
            endpoints.open();
        }
    }

    /** Writes the first http endpoint the HTTP runtime reports (e.g. http://127.0.0.1:8180/) plus the path. */
    private void announce(Object endpoint, String path) {
        String first = endpoint instanceof String[] a && a.length > 0 ? a[0]
                : endpoint instanceof java.util.Collection<?> c && !c.isEmpty() ? String.valueOf(c.iterator().next())
                : endpoint instanceof String s ? s : null;
        if (first == null) {
            return;
        }
        String url = (first.endsWith("/") ? first.substring(0, first.length() - 1) : first) + path;
        try {
            Files.createDirectories(urlFile.getParent());
            Files.writeString(urlFile, url + "\n");
        } catch (IOException e) {
            LOG.warning("cannot write " + urlFile + ": " + e.getMessage());
        }
    }

    @Deactivate
    void deactivate() {
        if (endpoints != null) {
            endpoints.close();
        }
        if (urlFile != null) {
            try {
                Files.deleteIfExists(urlFile);
            } catch (IOException e) {
                LOG.fine("cannot delete " + urlFile + ": " + e.getMessage());
            }
        }
        if (servlet != null) {
            servlet.unregister();
        }
        if (registration != null) {
            registration.unregister();
        }
        if (gc != null) {
            gc.close();
        }
        if (registry != null) {
            registry.close();
        }
    }
}
