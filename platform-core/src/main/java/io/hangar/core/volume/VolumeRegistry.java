package io.hangar.core.volume;

import io.hangar.vfs.Volume;
import io.hangar.vfs.VolumeService;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** The {@link VolumeService}: every {@link Volume} service currently registered, by name. */
@Component(service = VolumeService.class)
public class VolumeRegistry implements VolumeService {
    private final List<Volume> volumes = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addVolume(Volume v) {
        volumes.add(v);
    }

    void removeVolume(Volume v) {
        volumes.remove(v);
    }

    @Override
    public Optional<Volume> volume(String name) {
        return volumes.stream().filter(v -> v.name().equals(name)).findFirst();
    }

    @Override
    public Collection<Volume> volumes() {
        return List.copyOf(volumes);
    }
}
