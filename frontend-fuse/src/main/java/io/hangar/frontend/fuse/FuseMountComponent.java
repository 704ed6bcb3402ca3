package io.hangar.frontend.fuse;

import io.hangar.fs.FsException;
import io.hangar.frontend.fuse.lowlevel.LowLevelOptions;
import io.hangar.spi.frontend.Endpoint;
import io.hangar.spi.frontend.Frontend;
import io.hangar.vfs.Volume;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
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
 * A configured mount ({@value FuseMountConfig#PID}): mounts the volume named in the configuration whenever
 * that {@link Volume} service is registered, unmounts when it goes, when the configuration changes or is
 * deleted, and when the bundle stops. An unmount from outside is logged and its resources released.
 */
@Component(configurationPid = FuseMountConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = FuseMountConfig.class, factory = true)
public final class FuseMountComponent {
    private static final Logger LOG = Logger.getLogger(FuseMountComponent.class.getName());

    private final Frontend frontend;
    private final BundleContext context;
    private final FuseMountConfig config;
    private final Set<Endpoint> closing = ConcurrentHashMap.newKeySet();
    private final ServiceTracker<Volume, Endpoint> tracker;

    @Activate
    public FuseMountComponent(@Reference(target = "(" + Frontend.KIND + "=" + FuseMount.KIND + ")") Frontend frontend,
            BundleContext context, FuseMountConfig config) throws InvalidSyntaxException {
        this.frontend = frontend;
        this.context = context;
        this.config = config;
        if (config.volume() == null || config.volume().isBlank() || config.mountpoint() == null
                || config.mountpoint().isBlank()) {
            throw new IllegalArgumentException(FuseMountConfig.PID + " needs 'volume' and 'mountpoint'");
        }
        Filter f = context.createFilter("(&(" + Constants.OBJECTCLASS + "=" + Volume.class.getName()
                + ")(volume.name=" + escape(config.volume()) + "))");
        this.tracker = new ServiceTracker<>(context, f, new Mounter());
        tracker.open();
    }

    @Deactivate
    void deactivate() {
        tracker.close();
    }

    private Map<String, String> options() {
        return Map.of(MountSpec.MOUNTPOINT, config.mountpoint(),
                Frontend.OPTION_READ_ONLY, Boolean.toString(config.readOnly()),
                Frontend.OPTION_SUBDIR, config.subdir(),
                MountSpec.ATTR_TIMEOUT, Double.toString(config.attrTimeout()),
                MountSpec.ENTRY_TIMEOUT, Double.toString(config.entryTimeout()),
                MountSpec.OPTIONS, config.options(),
                LowLevelOptions.NEGATIVE_TIMEOUT, Double.toString(config.negativeTimeout()),
                LowLevelOptions.WRITEBACK_CACHE, Boolean.toString(config.writebackCache()));
    }

    private final class Mounter implements ServiceTrackerCustomizer<Volume, Endpoint> {
        @Override
        public Endpoint addingService(ServiceReference<Volume> ref) {
            Volume v = context.getService(ref);
            if (v == null) {
                return null;
            }
            Endpoint e;
            try {
                e = frontend.start(v, options());
            } catch (FsException ex) {
                LOG.log(Level.SEVERE, "cannot mount volume " + config.volume() + " at " + config.mountpoint() + ": "
                        + ex.getMessage());
                context.ungetService(ref);
                exitIfAsked();
                return null;
            }
            e.ended().whenComplete((done, failure) -> {
                if (failure != null) {
                    LOG.log(Level.WARNING, "mount " + e.address() + " ended with an error", failure);
                }
                if (!closing.remove(e)) {
                    // fusermount -u from outside: the tracker still holds the volume; nothing to undo but that.
                    exitIfAsked();
                }
            });
            return e;
        }

        @Override
        public void modifiedService(ServiceReference<Volume> ref, Endpoint e) {
            // Service properties carry nothing a mount depends on.
        }

        @Override
        public void removedService(ServiceReference<Volume> ref, Endpoint e) {
            closing.add(e);
            try {
                e.close();
            } catch (FsException ex) {
                LOG.log(Level.WARNING, "unmounting " + e.address() + ": " + ex.getMessage());
            } finally {
                context.ungetService(ref);
            }
        }
    }

    /** With exitOnUnmount the runtime exists for this mount only: stop the framework, off this thread. */
    private void exitIfAsked() {
        if (!config.exitOnUnmount()) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                LOG.info("mount " + config.mountpoint() + " is gone and exitOnUnmount is set: stopping the runtime");
                context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).stop();
            } catch (BundleException | IllegalStateException e) {
                LOG.log(Level.WARNING, "cannot stop the runtime: " + e.getMessage());
            }
        }, "hangar-fuse-exit");
        t.start();
    }

    /** Escapes a value for an LDAP filter (RFC 1960). */
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
