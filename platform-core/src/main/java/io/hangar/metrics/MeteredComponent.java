package io.hangar.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * A Declarative Services component with meters: extend it, register meters on {@code meters.registry()} and
 * call {@code meters.close()} in the component's {@code @Deactivate}. The reference below binds every
 * {@link MeterRegistry} the runtime offers, dynamically: a registry that comes, goes or is replaced changes
 * where the meters are published, never the component's life (bundles built with bnd's
 * {@code -dsannotations-options: inherit}, as all of Hangar's are, pick the reference up from here).
 */
public abstract class MeteredComponent {
    /** This component's meters. */
    protected final MeterGroup meters = new MeterGroup();

    @Reference(service = MeterRegistry.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    protected void addMeterRegistry(MeterRegistry r) {
        meters.publishTo(r);
    }

    protected void removeMeterRegistry(MeterRegistry r) {
        meters.withdrawFrom(r);
    }
}
