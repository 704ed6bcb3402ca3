package io.hangar.frontend.http.s3;

import io.hangar.fs.FsException;
import io.hangar.spi.frontend.Endpoint;
import io.hangar.spi.frontend.Frontend;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.vfs.Volume;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.Filter;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.util.tracker.ServiceTracker;
import org.osgi.util.tracker.ServiceTrackerCustomizer;

/**
 * A configured gateway ({@value S3GatewayConfig#PID}): serves the volume named in the configuration whenever
 * that {@link Volume} service is registered; stops when it goes, when the configuration changes or is
 * deleted, and when the bundle stops.
 */
@Component(configurationPid = S3GatewayConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = S3GatewayConfig.class, factory = true)
public final class S3GatewayComponent {
    private static final Logger LOG = Logger.getLogger(S3GatewayComponent.class.getName());

    private final Frontend frontend;
    private final BundleContext context;
    private final S3GatewayConfig config;
    private final ServiceTracker<Volume, Endpoint> tracker;
    // The volume's repository store, when its engine keeps one: the gateway then serves the REST API too.
    private final ServiceTracker<RepositoryStore, RepositoryStore> repositories;
    private volatile RepositoryStore repository;
    private volatile Endpoint serving;

    @Activate
    public S3GatewayComponent(@Reference(target = "(" + Frontend.KIND + "=" + S3Gateway.KIND + ")") Frontend frontend,
            BundleContext context, S3GatewayConfig config) throws InvalidSyntaxException {
        this.frontend = frontend;
        this.context = context;
        this.config = config;
        if (config.volume() == null || config.volume().isBlank()) {
            throw new IllegalArgumentException(S3GatewayConfig.PID + " needs 'volume'");
        }
        Filter f = context.createFilter("(&(" + Constants.OBJECTCLASS + "=" + Volume.class.getName()
                + ")(volume.name=" + escape(config.volume()) + "))");
        this.tracker = new ServiceTracker<>(context, f, new Starter());
        Filter rf = context.createFilter("(&(" + Constants.OBJECTCLASS + "=" + RepositoryStore.class.getName()
                + ")(volume.name=" + escape(config.volume()) + "))");
        this.repositories = new ServiceTracker<>(context, rf, new RepositoryBinder());
        tracker.open();
        repositories.open();
    }

    @Deactivate
    void deactivate() {
        repositories.close();
        tracker.close();
    }

    private void offer(Endpoint e, RepositoryStore store) {
        if (e instanceof S3Gateway g) {
            g.repository(store);
        }
    }

    private final class RepositoryBinder implements ServiceTrackerCustomizer<RepositoryStore, RepositoryStore> {
        @Override
        public RepositoryStore addingService(ServiceReference<RepositoryStore> ref) {
            RepositoryStore s = context.getService(ref);
            repository = s;
            offer(serving, s);
            return s;
        }

        @Override
        public void modifiedService(ServiceReference<RepositoryStore> ref, RepositoryStore s) {
            // Nothing the API depends on.
        }

        @Override
        public void removedService(ServiceReference<RepositoryStore> ref, RepositoryStore s) {
            if (repository == s) {
                repository = null;
                offer(serving, null);
            }
            context.ungetService(ref);
        }
    }

    /** {@code <hangar.home>/etc/api-token}, where the first administrator token is written; "" outside a home. */
    private String apiTokenFile() {
        String home = context.getProperty("hangar.home");
        return home == null || home.isBlank() ? "" : java.nio.file.Path.of(home, "etc", "api-token").toString();
    }

    private Map<String, String> options() {
        Map<String, String> o = new java.util.HashMap<>();
        o.put(GatewaySpec.LISTEN, config.listen());
        o.put(GatewaySpec.CREDENTIALS, config.credentials());
        o.put(GatewaySpec.REGION, config.region());
        o.put(GatewaySpec.MAX_SKEW, Integer.toString(config.maxSkewSeconds()));
        o.put(GatewaySpec.UPLOAD_MAX_AGE, Integer.toString(config.uploadMaxAgeHours()));
        o.put(GatewaySpec.WORKERS, Integer.toString(config.workers()));
        o.put(Frontend.OPTION_READ_ONLY, Boolean.toString(config.readOnly()));
        o.put(GatewaySpec.BUFFER_MB, Integer.toString(config.bufferMb()));
        o.put(GatewaySpec.MAX_CONNECTIONS, Integer.toString(config.maxConnections()));
        o.put(GatewaySpec.DOMAIN, config.domain());
        o.put(GatewaySpec.API_TOKEN_FILE, apiTokenFile());
        o.put(GatewaySpec.TRASH_DAYS, Integer.toString(config.trashDays()));
        return o;
    }

    private final class Starter implements ServiceTrackerCustomizer<Volume, Endpoint> {
        @Override
        public Endpoint addingService(ServiceReference<Volume> ref) {
            Volume v = context.getService(ref);
            if (v == null) {
                return null;
            }
            try {
                Endpoint e = frontend.start(v, options());
                serving = e;
                offer(e, repository);
                return e;
            } catch (FsException | RuntimeException ex) {
                LOG.log(Level.SEVERE, "cannot serve volume " + config.volume() + " over S3 at " + config.listen()
                        + ": " + ex.getMessage());
                context.ungetService(ref);
                return null;
            }
        }

        @Override
        public void modifiedService(ServiceReference<Volume> ref, Endpoint e) {
            // Nothing a gateway depends on.
        }

        @Override
        public void removedService(ServiceReference<Volume> ref, Endpoint e) {
            if (serving == e) {
                serving = null;
            }
            try {
                e.close();
            } catch (FsException ex) {
                LOG.log(Level.WARNING, "stopping " + e.address() + ": " + ex.getMessage());
            } finally {
                context.ungetService(ref);
            }
        }
    }

    static String escape(String value) {
        StringBuilder sb = new StringBuilder(value.length());
        for (char c : value.toCharArray()) {
            if (c == '\\' || c == '*' || c == '(' || c == ')') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.toString();
    }
}
