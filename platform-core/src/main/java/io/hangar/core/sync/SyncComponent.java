package io.hangar.core.sync;

import io.hangar.core.volume.VolumeOpener;
import io.hangar.fs.FsException;
import io.hangar.metrics.MeteredComponent;
import io.hangar.spi.meta.MetadataEngineProvider;
import io.hangar.spi.repo.RepositoryStoreProvider;
import io.hangar.spi.store.ChunkStoreProvider;
import io.hangar.spi.sync.RepoChange;
import io.hangar.sync.SyncListener;
import io.hangar.sync.SyncReport;
import io.hangar.sync.SyncSpec;
import io.hangar.sync.SyncStatus;
import io.hangar.sync.VolumeSync;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * {@link VolumeSync} in the runtime: engines, stores and repository stores are the services installed now
 * (a sync started after a backend's bundle stopped fails with "no … for scheme", as opening a volume does).
 */
@Component(service = VolumeSync.class)
public class SyncComponent extends MeteredComponent implements VolumeSync {
    private final List<MetadataEngineProvider> metaProviders = new CopyOnWriteArrayList<>();
    private final List<ChunkStoreProvider> storeProviders = new CopyOnWriteArrayList<>();
    private final List<RepositoryStoreProvider> repoProviders = new CopyOnWriteArrayList<>();
    private VolumeSyncer syncer;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addMetaProvider(MetadataEngineProvider p) {
        metaProviders.add(p);
    }

    void removeMetaProvider(MetadataEngineProvider p) {
        metaProviders.remove(p);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addStoreProvider(ChunkStoreProvider p) {
        storeProviders.add(p);
    }

    void removeStoreProvider(ChunkStoreProvider p) {
        storeProviders.remove(p);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addRepositoryProvider(RepositoryStoreProvider p) {
        repoProviders.add(p);
    }

    void removeRepositoryProvider(RepositoryStoreProvider p) {
        repoProviders.remove(p);
    }

    @Activate
    void activate() {
        syncer = new VolumeSyncer(new VolumeOpener(new VolumeOpener.Providers() {
            @Override
            public Optional<MetadataEngineProvider> meta(String scheme) {
                return first(metaProviders, MetadataEngineProvider::schemes, scheme);
            }

            @Override
            public Optional<ChunkStoreProvider> store(String scheme) {
                return first(storeProviders, ChunkStoreProvider::schemes, scheme);
            }
        }), scheme -> first(repoProviders, RepositoryStoreProvider::schemes, scheme),
                new SyncMetrics(meters.registry()));
    }

    @Deactivate
    void deactivate() {
        meters.close();
    }

    private static <P> Optional<P> first(List<P> providers, Function<P, Set<String>> schemes, String scheme) {
        return providers.stream().filter(p -> schemes.apply(p).contains(scheme)).findFirst();
    }

    @Override
    public SyncReport sync(SyncSpec spec, SyncListener listener) throws FsException {
        return syncer.sync(spec, listener);
    }

    @Override
    public List<SyncStatus> status(String metaUrl) throws FsException {
        return syncer.status(metaUrl);
    }

    @Override
    public void recordStatus(String metaUrl, SyncStatus status) throws FsException {
        syncer.recordStatus(metaUrl, status);
    }

    @Override
    public Optional<RepoChange> position(String metaUrl, String source, String name) throws FsException {
        return syncer.position(metaUrl, source, name);
    }

    @Override
    public void recordPosition(String metaUrl, String source, String name, RepoChange last) throws FsException {
        syncer.recordPosition(metaUrl, source, name, last);
    }

    @Override
    public Source source(String metaUrl) throws FsException {
        return syncer.source(metaUrl);
    }
}
