/**
 * Metrics for every bundle: a component keeps its meters in a {@link io.hangar.metrics.MeterGroup} and
 * publishes them to each {@code io.micrometer.core.instrument.MeterRegistry} service the runtime offers
 * (metrics-prometheus registers one and serves it at {@code /metrics}); when the registry or the component
 * goes away, the group takes its meters back out. Names and labels: docs/metrics.md.
 */
@Export
@Version("1.0.0")
package io.hangar.metrics;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
