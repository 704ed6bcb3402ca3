package io.hangar.core.volume;

import io.hangar.core.vfs.StoreGate;
import io.hangar.core.vfs.VfsOptions;
import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.FsException;
import io.hangar.metrics.MeteredComponent;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.MetadataEngineProvider;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.repo.RepositoryStoreProvider;
import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ChunkStoreProvider;
import io.hangar.vfs.Volume;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;

/**
 * Serves one configured volume. Engines and stores are plugins that may start, stop and update at any time:
 * the volume opens once both providers are there and registers itself as a {@link Volume} service; when the
 * store's provider leaves, I/O waits at the volume's {@link StoreGate} (buffered writes are kept) until a
 * provider for the scheme returns; when the engine's provider leaves, the volume is closed and unregistered
 * until it returns.
 */
@Component(configurationPid = VolumeConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
@Designate(ocd = VolumeConfig.class, factory = true)
public class ManagedVolume extends MeteredComponent {
    private static final Logger LOG = Logger.getLogger(ManagedVolume.class.getName());

    private final List<MetadataEngineProvider> metaProviders = new CopyOnWriteArrayList<>();
    private final List<ChunkStoreProvider> storeProviders = new CopyOnWriteArrayList<>();
    private final List<RepositoryStoreProvider> repoProviders = new CopyOnWriteArrayList<>();
    // Provider events arrive on the framework's threads; opening and closing happen here, one at a time.
    private final ExecutorService lifecycle = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "hangar-volume-lifecycle");
        t.setDaemon(true);
        return t;
    });
    private BundleContext context;
    private VolumeConfig config;
    private VfsVolume volume;
    private ServiceRegistration<Volume> registration;
    // The repository kept in the volume's metadata backend, registered beside the volume while both are there.
    private RepositoryStore repository;
    private RepositoryStoreProvider repositoryProvider;
    private ServiceRegistration<RepositoryStore> repositoryRegistration;
    private String storeScheme;
    private ChunkStoreProvider storeProvider;
    private volatile boolean active;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addMetaProvider(MetadataEngineProvider p) {
        metaProviders.add(p);
        submit(this::openIfPossible);
    }

    void removeMetaProvider(MetadataEngineProvider p) {
        metaProviders.remove(p);
        submit(() -> {
            if (volume != null && providerFor(metaProviders, schemeOf(config.meta())).isEmpty()) {
                closeVolume("metadata engine for '" + schemeOf(config.meta()) + "' went away");
            }
        });
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addStoreProvider(ChunkStoreProvider p) {
        storeProviders.add(p);
        submit(() -> {
            if (volume == null) {
                openIfPossible();
            } else if (storeProvider == null && p.schemes().contains(storeScheme)) {
                reattachStore(p);
            }
        });
    }

    void removeStoreProvider(ChunkStoreProvider p) {
        storeProviders.remove(p);
        // Detach synchronously: the provider's bundle is stopping and its stores must not be used after this.
        synchronized (this) {
            if (volume != null && p == storeProvider) {
                storeProvider = null;
                ChunkStore old = volume.gate().detach("chunk store provider for '" + storeScheme + "' stopped");
                if (old != null) {
                    old.close();
                }
                LOG.warning("volume " + config.name() + ": chunk store unavailable; I/O waits for it to return");
            }
        }
        submit(() -> providerFor(storeProviders, storeScheme).ifPresent(this::reattachStore));
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addRepositoryProvider(RepositoryStoreProvider p) {
        repoProviders.add(p);
        submit(this::openRepositoryIfPossible);
    }

    void removeRepositoryProvider(RepositoryStoreProvider p) {
        repoProviders.remove(p);
        // Synchronously: the provider's bundle is stopping and its store must not be used after this.
        if (p == repositoryProvider) {
            closeRepository();
        }
        submit(this::openRepositoryIfPossible);
    }

    /**
     * Registers the volume's repository store as a {@link RepositoryStore} service with the volume's
     * {@code volume.name}, for the frontends that serve the model repository on this volume.
     */
    private void openRepositoryIfPossible() {
        VfsVolume v;
        synchronized (this) {
            v = volume;
            if (v == null || repository != null) {
                return;
            }
        }
        String scheme = schemeOf(config.meta());
        Optional<RepositoryStoreProvider> rp = repoProviders.stream().filter(p -> p.schemes().contains(scheme))
                .findFirst();
        if (rp.isEmpty()) {
            return;
        }
        try {
            RepositoryStore r = rp.get().open(URI.create(config.meta()));
            Dictionary<String, Object> props = new Hashtable<>();
            props.put("volume.name", v.name());
            props.put("volume.uuid", v.format().uuid());
            ServiceRegistration<RepositoryStore> reg = context.registerService(RepositoryStore.class, r, props);
            synchronized (this) {
                repository = r;
                repositoryProvider = rp.get();
                repositoryRegistration = reg;
            }
        } catch (Exception e) {
            LOG.log(Level.SEVERE, "volume " + v.name() + ": cannot open its repository store: " + e.getMessage());
        }
    }

    private void closeRepository() {
        RepositoryStore r;
        ServiceRegistration<RepositoryStore> reg;
        synchronized (this) {
            r = repository;
            reg = repositoryRegistration;
            repository = null;
            repositoryProvider = null;
            repositoryRegistration = null;
        }
        if (reg != null) {
            try {
                reg.unregister();
            } catch (IllegalStateException alreadyGone) {
                // The framework unregistered it while stopping the bundle.
            }
        }
        if (r != null) {
            r.close();
        }
    }

    @Activate
    void activate(BundleContext ctx, VolumeConfig cfg) {
        this.context = ctx;
        this.config = cfg;
        this.active = true;
        submit(this::openIfPossible);
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        active = false;
        lifecycle.submit(() -> closeVolume("configuration removed or runtime stopping"));
        lifecycle.shutdown();
        lifecycle.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
        meters.close();
    }

    private void submit(Runnable r) {
        if (!lifecycle.isShutdown()) {
            lifecycle.execute(r);
        }
    }

    private void openIfPossible() {
        if (!active || volume != null || config == null) {
            return;
        }
        VolumeOpener opener = new VolumeOpener(new VolumeOpener.Providers() {
            @Override
            public Optional<MetadataEngineProvider> meta(String scheme) {
                return providerFor(metaProviders, scheme);
            }

            @Override
            public Optional<ChunkStoreProvider> store(String scheme) {
                return providerFor(storeProviders, scheme);
            }
        });
        String metaScheme = schemeOf(config.meta());
        if (providerFor(metaProviders, metaScheme).isEmpty()) {
            LOG.info("volume " + config.name() + ": waiting for a metadata engine for '" + metaScheme + "'");
            return;
        }
        MetadataEngine meta = null;
        ChunkStore store = null;
        try {
            meta = opener.engine(config.meta());
            Optional<VolumeFormat> f = meta.load();
            if (f.isEmpty()) {
                if (config.storage().isBlank()) {
                    LOG.severe("volume " + config.name() + ": " + config.meta()
                            + " is not formatted and no 'storage' is configured to format it with");
                    meta.close();
                    return;
                }
                if (providerFor(storeProviders, schemeOf(config.storage())).isEmpty()) {
                    meta.close();
                    return;
                }
                meta.close();
                meta = null;
                opener.format(config.meta(), config.name(), config.storage(), Map.of("block-size",
                        config.blockSize(), "capacity", config.capacity(), "inodes", Long.toString(config.inodes())));
                LOG.info("volume " + config.name() + ": formatted on " + config.storage());
                meta = opener.engine(config.meta());
                f = meta.load();
            }
            VolumeFormat format = f.orElseThrow();
            if (!format.name().equals(config.name())) {
                LOG.severe("volume " + config.name() + ": " + config.meta() + " holds volume '" + format.name()
                        + "', not '" + config.name() + "'; fix 'name' in its configuration");
                meta.close();
                return;
            }
            storeScheme = schemeOf(format.storage());
            Optional<ChunkStoreProvider> sp = providerFor(storeProviders, storeScheme);
            if (sp.isEmpty()) {
                LOG.info("volume " + config.name() + ": waiting for a chunk store for '" + storeScheme + "'");
                meta.close();
                return;
            }
            store = sp.get().open(URI.create(format.storage()));
            VolumeOpener.verifyMarker(store, format);
            MetadataEngine m = meta;
            VfsOptions opts = VfsOptions.parse(Map.ofEntries(Map.entry("buffer-size", config.bufferSize()),
                    Map.entry("cache-size", config.cacheSize()), Map.entry("read-ahead", config.readAhead()),
                    Map.entry("upload-threads", config.uploadThreads()),
                    Map.entry("store-wait-ms", config.storeWaitMs()), Map.entry("cache-dir", config.cacheDir()),
                    Map.entry("disk-cache-size", config.diskCacheSize()),
                    Map.entry("free-space-ratio", config.freeSpaceRatio()),
                    Map.entry("cache-writes", config.cacheWrites()), Map.entry("cache-group", config.cacheGroup()),
                    Map.entry("group-address", config.groupAddress()), Map.entry("no-sharing", config.noSharing())));
            VfsVolume v = new VfsVolume(format, meta, new StoreGate(store, opts.storeWaitMs()), opts, () -> {
                ChunkStore s = null;
                synchronized (this) {
                    if (volume != null) {
                        s = volume.gate().current();
                    }
                }
                if (s != null) {
                    s.close();
                }
                m.close();
            }, meters.registry());
            synchronized (this) {
                volume = v;
                storeProvider = sp.get();
            }
            Dictionary<String, Object> props = new Hashtable<>();
            props.put("volume.name", format.name());
            props.put("volume.uuid", format.uuid());
            props.put("volume.storage", format.storage());
            registration = context.registerService(Volume.class, v, props);
            openRepositoryIfPossible();
            markReady(true);
            LOG.info("volume " + format.name() + " open: meta " + config.meta() + ", store " + format.storage());
        } catch (Exception e) {
            LOG.log(Level.SEVERE, "volume " + config.name() + " cannot open: " + e.getMessage());
            if (store != null) {
                store.close();
            }
            if (meta != null) {
                meta.close();
            }
        }
    }

    private void reattachStore(ChunkStoreProvider p) {
        VfsVolume v;
        synchronized (this) {
            v = volume;
            if (v == null || storeProvider != null) {
                return;
            }
        }
        try {
            ChunkStore s = p.open(URI.create(v.format().storage()));
            VolumeOpener.verifyMarker(s, v.format());
            synchronized (this) {
                storeProvider = p;
                v.gate().attach(s);
            }
            LOG.info("volume " + v.name() + ": chunk store is back");
        } catch (Exception e) {
            LOG.log(Level.SEVERE, "volume " + v.name() + ": chunk store came back but cannot open: " + e.getMessage());
        }
    }

    private void closeVolume(String why) {
        VfsVolume v;
        synchronized (this) {
            v = volume;
        }
        if (v == null) {
            return;
        }
        markReady(false);
        closeRepository();
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // The framework unregistered it while stopping the bundle.
            }
            registration = null;
        }
        try {
            v.close();
        } catch (FsException e) {
            LOG.log(Level.SEVERE, "volume " + v.name() + " closed with an error: " + e.getMessage());
        }
        synchronized (this) {
            volume = null;
            storeProvider = null;
        }
        LOG.info("volume " + v.name() + " closed: " + why);
    }

    /** Tells launchers (./hangar up) that the volume serves: {@code <hangar.home>/run/<name>.ready}. */
    private void markReady(boolean ready) {
        String home = context.getProperty("hangar.home");
        if (home == null || home.isBlank()) {
            return;
        }
        Path file = Path.of(home, "run", config.name() + ".ready");
        try {
            if (ready) {
                Files.createDirectories(file.getParent());
                Files.writeString(file, "ok\n");
            } else {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            LOG.warning("cannot write " + file + ": " + e.getMessage());
        }
    }

    private static String schemeOf(String url) {
        try {
            String s = URI.create(url).getScheme();
            return s == null ? "" : s.toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    private static <P> Optional<P> providerFor(List<P> providers, String scheme) {
        for (P p : providers) {
            var schemes = p instanceof MetadataEngineProvider m ? m.schemes() : ((ChunkStoreProvider) p).schemes();
            if (schemes.contains(scheme)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
