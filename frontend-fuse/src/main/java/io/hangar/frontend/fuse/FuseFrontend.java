package io.hangar.frontend.fuse;

import io.hangar.fs.FsException;
import io.hangar.frontend.fuse.lowlevel.LowLevelOptions;
import io.hangar.spi.frontend.Endpoint;
import io.hangar.spi.frontend.Frontend;
import io.hangar.vfs.Volume;
import io.hangar.metrics.MeteredComponent;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * The FUSE {@link Frontend}: each {@link #start} mounts one volume (options in {@link MountSpec}). Works the
 * same inside the framework (a DS component; stopping the bundle unmounts everything it mounted) and
 * outside it (construct it).
 */
@Component(service = Frontend.class, property = Frontend.KIND + "=" + FuseMount.KIND)
public final class FuseFrontend extends MeteredComponent implements Frontend {
    private static final Logger LOG = Logger.getLogger(FuseFrontend.class.getName());
    private final List<Endpoint> mounts = new CopyOnWriteArrayList<>();

    public FuseFrontend() {
        // DS and standalone users construct it alike.
    }

    @Override
    public String kind() {
        return FuseMount.KIND;
    }

    @Override
    public Endpoint start(Volume volume, Map<String, String> options) throws FsException {
        FuseMount m = FuseMount.start(volume, MountSpec.parse(options), LowLevelOptions.parse(options),
                meters.registry());
        mounts.add(m);
        m.ended().whenComplete((v, e) -> mounts.remove(m));
        return m;
    }

    @Override
    public List<Endpoint> endpoints() {
        // An ended mount leaves the list from its loop thread, possibly just after its close() returned.
        return mounts.stream().filter(Endpoint::active).toList();
    }

    /** Unmounts everything still mounted through this frontend. */
    @Deactivate
    public void stop() {
        for (Endpoint e : List.copyOf(mounts)) {
            try {
                e.close();
            } catch (FsException ex) {
                LOG.log(Level.WARNING, "unmounting " + e.address() + ": " + ex.getMessage());
            }
        }
        meters.close();
    }
}
