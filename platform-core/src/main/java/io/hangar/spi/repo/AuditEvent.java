package io.hangar.spi.repo;

/**
 * An audit event as the repository hands it to a commit: who ({@code user}), on what ({@code team},
 * {@code model}; either may be null for site-wide actions), and the event itself ({@code detail}, opaque to
 * the store: the repository writes JSON with action, target, origin and result).
 */
public record AuditEvent(String team, String user, String model, byte[] detail) {
}
