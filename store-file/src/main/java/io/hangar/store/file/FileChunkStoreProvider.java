package io.hangar.store.file;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ChunkStoreProvider;
import io.hangar.spi.store.StoreException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/** Opens {@code file:///absolute/dir} chunk stores. */
@Component(service = ChunkStoreProvider.class, property = "hangar.store.scheme=file")
public class FileChunkStoreProvider implements ChunkStoreProvider {

    @Override
    public Set<String> schemes() {
        return Set.of("file");
    }

    @Override
    public ChunkStore open(URI url) throws StoreException {
        String path = url.getPath();
        if (path == null || path.isEmpty() || url.getAuthority() != null && !url.getAuthority().isEmpty()) {
            throw new StoreException(StoreException.Kind.INVALID,
                    "file store URL must be file:///absolute/path, was " + url);
        }
        return new FileChunkStore(Path.of(path));
    }
}
