package io.hangar.spi.repo;

import java.util.List;

/**
 * One page of an audit query. {@code next} is the cursor for the following page (pass it as
 * {@link AuditQuery#afterSeq}); it may lie past the last entry returned when the store examined entries that
 * did not match, so a page can be short, or empty, before the log ends. {@code end} is true when no entry after
 * {@code next} exists.
 */
public record AuditPage(List<AuditEntry> entries, long next, boolean end) {
}
