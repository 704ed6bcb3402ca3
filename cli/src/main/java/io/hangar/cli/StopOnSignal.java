package io.hangar.cli;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.launch.Framework;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Stops the framework when the JVM is asked to exit (SIGTERM, Ctrl-C). The bnd launcher that runs
 * hangar.jar does not: without this, volumes would not be closed (buffered writes committed, ready markers
 * removed) and FUSE mounts would be left behind when ./hangar up is stopped.
 */
@Component(immediate = true, service = {})
public class StopOnSignal {
    private static final long STOP_WAIT_MS = 60_000;
    private Thread hook;

    @Activate
    void activate(BundleContext context) {
        Bundle system = context.getBundle(0);
        hook = new Thread(() -> {
            try {
                system.stop();
                if (system instanceof Framework fw) {
                    fw.waitForStop(STOP_WAIT_MS);
                }
            } catch (BundleException | InterruptedException | IllegalStateException e) {
                // Already stopping or stopped: nothing left to do before the JVM exits.
            }
        }, "hangar-stop-framework");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    @Deactivate
    void deactivate() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // This deactivation is the hook's own framework stop.
        }
    }
}
