package io.hangar.vfs;

import java.util.Collection;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** The volumes this runtime serves, by name. Frontends and shell commands look volumes up here. */
@ProviderType
public interface VolumeService {
    Optional<Volume> volume(String name);

    Collection<Volume> volumes();
}
