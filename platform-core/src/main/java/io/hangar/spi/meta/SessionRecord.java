package io.hangar.spi.meta;

/**
 * A live client session as {@link MetadataEngine#sessions} reports it: its id, the info it was opened with,
 * and the milliseconds since its last heartbeat by the engine's clock (the server's where there is one).
 * Since 1.4.
 */
public record SessionRecord(long id, String info, long sinceHeartbeatMs) {
}
