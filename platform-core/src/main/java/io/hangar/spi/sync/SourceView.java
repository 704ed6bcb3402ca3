package io.hangar.spi.sync;

import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/** What a strategy may read of the source repository. Each call costs what the model holds. */
@ProviderType
public interface SourceView {
    /** The tags of model {@code team/model}: tag name to version number (empty if none, or no such model). */
    Map<String, Integer> tags(String team, String model) throws Exception;
}
