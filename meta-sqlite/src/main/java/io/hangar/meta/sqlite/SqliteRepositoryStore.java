package io.hangar.meta.sqlite;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.hangar.fs.FsException;
import io.hangar.spi.repo.AuditEntry;
import io.hangar.spi.repo.AuditEvent;
import io.hangar.spi.repo.AuditPage;
import io.hangar.spi.repo.AuditQuery;
import io.hangar.spi.repo.RepoArguments;
import io.hangar.spi.repo.RepoCondition;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.repo.RepositoryStore;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The repository store in a volume's SQLite file (tables {@code repo_records} and {@code repo_audit}): a
 * commit is one write transaction, so its conditions, writes and audit events land together or not at all.
 */
final class SqliteRepositoryStore implements RepositoryStore {
    private final Database db;

    private SqliteRepositoryStore(Database db) {
        this.db = db;
    }

    static SqliteRepositoryStore open(Path file) throws FsException {
        return new SqliteRepositoryStore(Database.open(file, Database.BUSY_TIMEOUT_MS));
    }

    private static RepoRecord record(ResultSet rs) throws SQLException {
        return new RepoRecord(new String(rs.getBytes(1), UTF_8), rs.getBytes(2), rs.getLong(3));
    }

    @Override
    public Optional<RepoRecord> get(String key) throws FsException {
        byte[] k = RepoArguments.key(key);
        return Optional.ofNullable(db.read(c -> c.one("SELECT key, value, version FROM repo_records WHERE key = ?",
                SqliteRepositoryStore::record, (Object) k)));
    }

    @Override
    public List<RepoRecord> list(String prefix, String after, int limit) throws FsException {
        RepoArguments.prefix(prefix);
        RepoArguments.limit(limit);
        byte[] low = prefix.getBytes(UTF_8);
        boolean exclusive = false;
        if (after != null) {
            byte[] a = RepoArguments.key(after);
            if (Arrays.compareUnsigned(a, low) >= 0) {
                low = a;
                exclusive = true;
            }
        }
        byte[] high = RepoArguments.prefixEnd(prefix.getBytes(UTF_8));
        String sql = "SELECT key, value, version FROM repo_records WHERE key " + (exclusive ? ">" : ">=") + " ?"
                + (high == null ? "" : " AND key < ?") + " ORDER BY key LIMIT ?";
        Object[] args = high == null ? new Object[] {low, limit} : new Object[] {low, high, limit};
        return db.read(c -> c.list(sql, SqliteRepositoryStore::record, args));
    }


    @Override
    public boolean commit(List<RepoCondition> conditions, List<RepoWrite> writes, List<AuditEvent> audit)
            throws FsException {
        RepoArguments.commit(conditions, writes, audit);
        return db.write(c -> {
            for (RepoCondition cond : conditions) {
                long now = c.longValue("SELECT version FROM repo_records WHERE key = ?", 0,
                        (Object) cond.key().getBytes(UTF_8));
                if (now != cond.version()) {
                    return false;
                }
            }
            for (RepoWrite w : writes) {
                byte[] k = w.key().getBytes(UTF_8);
                if (w.isDelete()) {
                    c.update("DELETE FROM repo_records WHERE key = ?", (Object) k);
                } else {
                    c.update("INSERT INTO repo_records (key, value, version) VALUES (?, ?, 1)"
                            + " ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = version + 1",
                            k, w.value());
                }
            }
            long now = System.currentTimeMillis();
            for (AuditEvent e : audit) {
                c.update("INSERT INTO repo_audit (time, team, user, model, detail) VALUES (?, ?, ?, ?, ?)", now,
                        e.team(), e.user(), e.model(), e.detail());
            }
            return true;
        });
    }

    @Override
    public AuditPage audit(AuditQuery q) throws FsException {
        RepoArguments.query(q);
        int budget = RepoArguments.scanBudget(q.limit());
        // The window of the log one page may examine: the next `budget` entries of the most selective
        // index the query names, so a filter that matches rarely costs a bounded amount per page.
        String column = q.model() != null ? "model" : q.user() != null ? "user" : q.team() != null ? "team" : null;
        Object indexed = column == null ? null : column.equals("model") ? q.model()
                : column.equals("user") ? q.user() : q.team();
        String window = "SELECT seq, time, team, user, model, detail FROM repo_audit WHERE seq > ?"
                + (column == null ? "" : " AND " + column + " = ?") + " ORDER BY seq LIMIT ?";
        Object[] args = column == null ? new Object[] {q.afterSeq(), budget}
                : new Object[] {q.afterSeq(), indexed, budget};
        return db.read(c -> {
            List<AuditEntry> scanned = c.list(window, rs -> new AuditEntry(rs.getLong(1), rs.getLong(2),
                    rs.getString(3), rs.getString(4), rs.getString(5), rs.getBytes(6)), args);
            List<AuditEntry> out = new ArrayList<>();
            long next = q.afterSeq();
            for (AuditEntry e : scanned) {
                if (out.size() == q.limit()) {
                    return new AuditPage(out, next, false);
                }
                next = e.seq();
                if (matches(q, e)) {
                    out.add(e);
                }
            }
            return new AuditPage(out, next, scanned.size() < budget);
        });
    }

    static boolean matches(AuditQuery q, AuditEntry e) {
        return (q.team() == null || q.team().equals(e.team())) && (q.user() == null || q.user().equals(e.user()))
                && (q.model() == null || q.model().equals(e.model())) && e.timeMs() >= q.fromMs()
                && e.timeMs() < q.toMs();
    }

    @Override
    public void close() {
        db.close();
    }
}
