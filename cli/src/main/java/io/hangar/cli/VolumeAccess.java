package io.hangar.cli;

import io.hangar.fsck.VolumeCheck;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.vfs.Volume;
import java.util.Map;
import java.util.Optional;

/**
 * Where the volume commands get their volume from. Outside the framework the volume argument is a metadata
 * URL and the volume is opened in-process ({@link StandaloneVolumes}); inside the runtime it is the name of
 * a volume the runtime serves ({@link ShellCommands}). The commands themselves are the same.
 */
public interface VolumeAccess {
    /** What the volume argument is, for help and error messages: "meta-url" or "volume". */
    String argumentLabel();

    /** The volume to use when the command line names none (e.g. from HANGAR_META). */
    Optional<String> defaultVolume();

    /** The volume named by {@code ref}, open until the handle is closed. */
    OpenedVolume open(String ref);

    /** The recorded settings of the volume named by {@code ref}. */
    VolumeFormat status(String ref);

    /** Formats the metadata at {@code metaUrl} as volume {@code name} on the store at {@code storageUrl}. */
    VolumeFormat format(String metaUrl, String name, String storageUrl, Map<String, String> options);

    /** fsck and gc of the volume named by {@code ref}; close it when done. */
    VolumeCheck check(String ref);

    /** An open volume; closing releases it if this access opened it. */
    interface OpenedVolume extends AutoCloseable {
        Volume volume();

        @Override
        void close();
    }
}
