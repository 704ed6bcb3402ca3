package io.hangar.spi.repo;

/**
 * An audit event as stored: {@code seq} is the position in the log (increasing across every client of the
 * backend, never reused), {@code timeMs} the store's clock when it was committed.
 */
public record AuditEntry(long seq, long timeMs, String team, String user, String model, byte[] detail) {
}
