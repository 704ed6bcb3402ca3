package io.hangar.metrics.prometheus;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(id = MetricsConfig.PID, name = "Hangar metrics",
        description = "The runtime's Prometheus registry and its /metrics endpoint.")
public @interface MetricsConfig {
    String PID = "io.hangar.metrics";

    @AttributeDefinition(description = "Offer the registry and serve it. Off: no MeterRegistry service, so "
            + "every meter counts into nothing (how the overhead of counting is measured).")
    boolean enabled() default true;

    @AttributeDefinition(description = "Servlet path of the Prometheus text exposition.")
    String path() default "/metrics";
}
