package io.hangar.frontend.http.s3;

import io.hangar.fs.FsException;
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
 * The S3 {@link Frontend} ({@code frontend.kind=s3}): each {@link #start} serves one volume at one listen
 * address (options in {@link GatewaySpec}). The same inside the framework (a DS component; stopping the
 * bundle stops every gateway) and outside it: {@code new S3Frontend().start(volume, Map.of("listen",
 * "127.0.0.1:9000", "credentials", "/etc/hangar/s3.properties"))}.
 */
@Component(service = Frontend.class, property = Frontend.KIND + "=" + S3Gateway.KIND)
public final class S3Frontend extends MeteredComponent implements Frontend {
    private static final Logger LOG = Logger.getLogger(S3Frontend.class.getName());
    private final List<Endpoint> gateways = new CopyOnWriteArrayList<>();
    private final Map<String, String> env;

    public S3Frontend() {
        this(System.getenv());
    }

    /** With an environment of its own ({@code HANGAR_S3_ACCESS_KEY}, {@code HANGAR_S3_SECRET_KEY}). */
    public S3Frontend(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public String kind() {
        return S3Gateway.KIND;
    }

    @Override
    public Endpoint start(Volume volume, Map<String, String> options) throws FsException {
        S3Gateway g = S3Gateway.start(volume, GatewaySpec.parse(options), env, meters.registry());
        gateways.add(g);
        g.ended().whenComplete((v, e) -> gateways.remove(g));
        return g;
    }

    @Override
    public List<Endpoint> endpoints() {
        return gateways.stream().filter(Endpoint::active).toList();
    }

    @Deactivate
    public void stop() {
        for (Endpoint e : List.copyOf(gateways)) {
            try {
                e.close();
            } catch (FsException ex) {
                LOG.log(Level.WARNING, "stopping " + e.address() + ": " + ex.getMessage());
            }
        }
        meters.close();
    }
}
