package io.hangar.spi.frontend;

import io.hangar.fs.FsException;
import io.hangar.vfs.Volume;
import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One kind of frontend ({@code fuse}, {@code s3}, {@code http}): serves volumes to clients at addresses (a
 * mount point, a listen URL). Registered as an OSGi service with the service property {@value #KIND} set to
 * {@link #kind()}; usable without a framework by constructing the implementation.
 *
 * <p>Options are strings so that configuration files, command lines and service properties all map onto
 * them; each implementation documents its keys and answers EINVAL for a missing or malformed one. The keys
 * below mean the same for every kind.
 */
@ConsumerType
public interface Frontend {
    /** Service property naming the kind, e.g. {@code (frontend.kind=fuse)}. */
    String KIND = "frontend.kind";

    /** Option: {@code true} to refuse every mutation with EROFS. Default {@code false}. */
    String OPTION_READ_ONLY = "readOnly";

    /** Option: serve only this directory of the volume (an absolute path); nothing outside it is reachable. */
    String OPTION_SUBDIR = "subdir";

    String kind();

    /**
     * Starts serving {@code volume} and returns once clients can use it. Fails with an errno-carrying
     * exception when the address is taken or unusable (EBUSY, ENOENT, EACCES), the subdir is not a directory
     * (ENOTDIR/ENOENT) or an option is invalid (EINVAL); nothing is left running then.
     */
    Endpoint start(Volume volume, Map<String, String> options) throws FsException;

    /** The endpoints this frontend currently serves. */
    List<Endpoint> endpoints();
}
