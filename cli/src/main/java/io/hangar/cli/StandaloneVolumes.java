package io.hangar.cli;

import io.hangar.fsck.VolumeCheck;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.vfs.Volume;
import io.hangar.vfs.standalone.OpenVolume;
import io.hangar.vfs.standalone.Volumes;
import java.util.Map;
import java.util.Optional;

/** Volumes opened in this process by metadata URL (engines and stores found by ServiceLoader). */
final class StandaloneVolumes implements VolumeAccess {
    static final String ENV_META = "HANGAR_META";

    private final Map<String, String> env;
    private final Map<String, String> openOptions;

    StandaloneVolumes(Map<String, String> env, Map<String, String> openOptions) {
        this.env = env;
        this.openOptions = openOptions;
    }

    @Override
    public String argumentLabel() {
        return "meta-url";
    }

    @Override
    public Optional<String> defaultVolume() {
        return Optional.ofNullable(env.get(ENV_META)).filter(s -> !s.isBlank());
    }

    @Override
    public OpenedVolume open(String metaUrl) {
        OpenVolume v;
        try {
            v = Volumes.open(metaUrl, openOptions);
        } catch (FsException e) {
            throw Errors.opening(e);
        }
        return new OpenedVolume() {
            @Override
            public Volume volume() {
                return v;
            }

            @Override
            public void close() {
                try {
                    v.close();
                } catch (FsException e) {
                    // Closing commits what is still buffered: a failure here means data did not land.
                    throw Errors.operating(e);
                }
            }
        };
    }

    @Override
    public VolumeCheck check(String metaUrl) {
        try {
            return Volumes.check(metaUrl);
        } catch (FsException e) {
            throw Errors.opening(e);
        }
    }

    @Override
    public VolumeFormat status(String metaUrl) {
        try {
            return Volumes.status(metaUrl);
        } catch (FsException e) {
            throw Errors.opening(e);
        }
    }

    @Override
    public VolumeFormat format(String metaUrl, String name, String storageUrl, Map<String, String> options) {
        try {
            return Volumes.format(metaUrl, name, storageUrl, options);
        } catch (FsException e) {
            throw Errors.opening(e);
        }
    }
}
