package io.hangar.core.volume;

import io.hangar.core.fsck.VolumeChecker;
import io.hangar.core.layout.ChunkLayout;
import io.hangar.core.vfs.StoreGate;
import io.hangar.core.vfs.VfsOptions;
import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fsck.VolumeCheck;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.MetadataEngineProvider;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ChunkStoreProvider;
import io.hangar.spi.store.StoreException;
import io.hangar.vfs.standalone.VolumeOpenException;
import io.hangar.vfs.standalone.VolumeOpenException.Reason;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Formats and opens volumes: finds the engine for a metadata URL and the store recorded in the volume's
 * settings, checks that the store belongs to the volume, and builds the VFS. Used by the CLI through
 * {@code Volumes} (providers from {@link ServiceLoader}) and by the {@link VolumeManager} (providers from the
 * service registry).
 */
public final class VolumeOpener {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{1,62}");

    /** Where providers come from: the service registry in the framework, ServiceLoader outside it. */
    public interface Providers {
        Optional<MetadataEngineProvider> meta(String scheme);

        Optional<ChunkStoreProvider> store(String scheme);
    }

    private final Providers providers;

    public VolumeOpener(Providers providers) {
        this.providers = providers;
    }

    /** Providers from {@code META-INF/services} on the class path of platform-core. */
    public static VolumeOpener standalone() {
        ClassLoader cl = VolumeOpener.class.getClassLoader();
        return new VolumeOpener(new Providers() {
            @Override
            public Optional<MetadataEngineProvider> meta(String scheme) {
                return ServiceLoader.load(MetadataEngineProvider.class, cl).stream().map(ServiceLoader.Provider::get)
                        .filter(p -> p.schemes().contains(scheme)).findFirst();
            }

            @Override
            public Optional<ChunkStoreProvider> store(String scheme) {
                return ServiceLoader.load(ChunkStoreProvider.class, cl).stream().map(ServiceLoader.Provider::get)
                        .filter(p -> p.schemes().contains(scheme)).findFirst();
            }
        });
    }

    public static URI parse(String url, String what) throws FsException {
        try {
            URI u = new URI(url);
            if (u.getScheme() == null) {
                throw new VolumeOpenException(Reason.BAD_ARGUMENT, what + " URL has no scheme: " + url);
            }
            return u;
        } catch (URISyntaxException e) {
            throw new VolumeOpenException(Reason.BAD_ARGUMENT, "bad " + what + " URL " + url + ": " + e.getReason());
        }
    }

    public MetadataEngine engine(String metaUrl) throws FsException {
        URI u = parse(metaUrl, "metadata");
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        MetadataEngineProvider p = providers.meta(scheme)
                .orElseThrow(() -> new VolumeOpenException(Reason.NO_PROVIDER, "no metadata engine for scheme '" + scheme
                        + "' (is its bundle installed and started?)"));
        return p.open(u);
    }

    public ChunkStore store(String storageUrl) throws FsException {
        URI u = parse(storageUrl, "storage");
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        ChunkStoreProvider p = providers.store(scheme)
                .orElseThrow(() -> new VolumeOpenException(Reason.NO_PROVIDER, "no chunk store for scheme '" + scheme
                        + "' (is its bundle installed and started?)"));
        try {
            return p.open(u);
        } catch (StoreException e) {
            throw new FsException(e.kind() == StoreException.Kind.PERMISSION ? Errno.EACCES : Errno.EIO,
                    "chunk store unreachable: " + e.getMessage(), e);
        }
    }

    /** See {@code Volumes.format}. */
    public VolumeFormat format(String metaUrl, String name, String storageUrl, Map<String, String> options)
            throws FsException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new VolumeOpenException(Reason.BAD_ARGUMENT, "volume name must be 2-63 of [a-z0-9-], starting with a letter "
                    + "or digit: " + name);
        }
        int blockSize = (int) size(options, "block-size", VolumeFormat.DEFAULT_BLOCK_SIZE);
        if (blockSize < (64 << 10) || blockSize > (16 << 20) || Integer.bitCount(blockSize) != 1) {
            throw new VolumeOpenException(Reason.BAD_ARGUMENT, "block size must be a power of two from 64K to 16M: " + blockSize);
        }
        long capacity = size(options, "capacity", 0);
        long inodes = size(options, "inodes", 0);
        try (MetadataEngine meta = engine(metaUrl)) {
            Optional<VolumeFormat> existing = meta.load();
            if (existing.isPresent()) {
                VolumeFormat f = existing.get();
                if (f.name().equals(name) && f.storage().equals(storageUrl)) {
                    return f;
                }
                throw new VolumeOpenException(Reason.ALREADY_FORMATTED, metaUrl + " already holds volume '" + f.name() + "' on "
                        + f.storage());
            }
            VolumeFormat f = new VolumeFormat(name, UUID.randomUUID().toString(), storageUrl, blockSize,
                    VolumeFormat.DEFAULT_CHUNK_SIZE, capacity, inodes, System.currentTimeMillis());
            try (ChunkStore store = store(storageUrl)) {
                String held = readMarker(store, name);
                if (held != null) {
                    throw new VolumeOpenException(Reason.ALREADY_FORMATTED, "chunk store " + store.describe()
                            + " already holds a volume '" + name + "' (" + held.strip() + ")");
                }
                // Marker first: a crash before the metadata is written leaves a store that says whose it is.
                byte[] marker = marker(f).getBytes(StandardCharsets.UTF_8);
                put(store, ChunkLayout.markerKey(name), marker);
                meta.format(f);
            }
            return f;
        }
    }

    public VolumeFormat status(String metaUrl) throws FsException {
        try (MetadataEngine meta = engine(metaUrl)) {
            return meta.load().orElseThrow(() -> notFormatted(metaUrl));
        }
    }

    /** Opens with the store recorded in the volume's settings (standalone use: the store never goes away). */
    public VfsVolume open(String metaUrl, Map<String, ?> options) throws FsException {
        VfsOptions opts;
        try {
            opts = VfsOptions.parse(options);
        } catch (IllegalArgumentException e) {
            throw new VolumeOpenException(Reason.BAD_ARGUMENT, e.getMessage());
        }
        return withStore(metaUrl, (f, meta, store, close) -> new VfsVolume(f, meta,
                new StoreGate(store, opts.storeWaitMs()), opts, close));
    }

    /** fsck and gc of the volume at {@code metaUrl} with its recorded chunk store; closing it disconnects both. */
    public VolumeCheck checker(String metaUrl) throws FsException {
        return withStore(metaUrl, (f, meta, store, close) -> new VolumeChecker(f, meta, () -> store,
                Clock.systemUTC(), close));
    }

    private interface Opened<T> {
        T make(VolumeFormat f, MetadataEngine meta, ChunkStore store, Runnable close) throws FsException;
    }

    /**
     * Opens the engine at {@code metaUrl} and the store its settings name, checks the store's marker, and
     * hands both to {@code make} with the action that closes them; on any failure both are closed.
     */
    private <T> T withStore(String metaUrl, Opened<T> make) throws FsException {
        MetadataEngine meta = engine(metaUrl);
        ChunkStore store = null;
        try {
            VolumeFormat f = meta.load().orElseThrow(() -> notFormatted(metaUrl));
            store = store(f.storage());
            verifyMarker(store, f);
            ChunkStore s = store;
            return make.make(f, meta, store, () -> {
                s.close();
                meta.close();
            });
        } catch (FsException | RuntimeException e) {
            if (store != null) {
                store.close();
            }
            meta.close();
            throw e;
        }
    }

    /** Fails unless the store carries this volume's marker with the same UUID. */
    public static void verifyMarker(ChunkStore store, VolumeFormat f) throws FsException {
        String held = readMarker(store, f.name());
        if (held == null) {
            throw new VolumeOpenException(Reason.WRONG_STORE, "wrong store for this volume: " + store.describe()
                    + " holds no volume '" + f.name() + "'");
        }
        if (!held.contains("uuid=" + f.uuid())) {
            throw new VolumeOpenException(Reason.WRONG_STORE, "wrong store for this volume: " + store.describe()
                    + " holds another volume named '" + f.name() + "' (" + held.strip().replace('\n', ' ') + ")");
        }
    }

    private static String readMarker(ChunkStore store, String name) throws FsException {
        try {
            return new String(store.get(ChunkLayout.markerKey(name), 0, -1), StandardCharsets.UTF_8);
        } catch (StoreException e) {
            if (e.kind() == StoreException.Kind.NOT_FOUND) {
                return null;
            }
            throw new FsException(Errno.EIO, "chunk store unreachable: " + e.getMessage(), e);
        }
    }

    private static void put(ChunkStore store, String key, byte[] data) throws FsException {
        try {
            store.put(key, data, 0, data.length);
        } catch (StoreException e) {
            throw new FsException(e.kind() == StoreException.Kind.FULL ? Errno.ENOSPC : Errno.EIO,
                    "cannot write to chunk store: " + e.getMessage(), e);
        }
    }

    private static String marker(VolumeFormat f) {
        return "name=" + f.name() + "\nuuid=" + f.uuid() + "\n";
    }

    private static FsException notFormatted(String metaUrl) {
        return new VolumeOpenException(Reason.NOT_FORMATTED, "no volume at " + metaUrl + " (not formatted; run 'hangar format')");
    }

    private static long size(Map<String, String> options, String key, long dflt) throws FsException {
        String v = options == null ? null : options.get(key);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return VfsOptions.parseSize(v);
        } catch (IllegalArgumentException e) {
            throw new VolumeOpenException(Reason.BAD_ARGUMENT, key + ": " + e.getMessage());
        }
    }
}
