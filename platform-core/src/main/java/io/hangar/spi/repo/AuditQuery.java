package io.hangar.spi.repo;

/**
 * Which audit entries to read: those after {@code afterSeq} (0: from the start) whose team, user and model
 * equal the given ones (null: any) and whose time lies in {@code [fromMs, toMs)}, in log order, at most
 * {@code limit}.
 */
public record AuditQuery(String team, String user, String model, long fromMs, long toMs, long afterSeq, int limit) {
    public static AuditQuery all(int limit) {
        return new AuditQuery(null, null, null, 0, Long.MAX_VALUE, 0, limit);
    }

    public AuditQuery after(long seq) {
        return new AuditQuery(team, user, model, fromMs, toMs, seq, limit);
    }
}
