package io.hangar.meta.sqlite;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sqlite.SQLiteConfig;

/**
 * One SQLite connection with its prepared statements cached by SQL text. Used by one thread at a time.
 * Transactions are begun and ended with explicit statements (the JDBC connection stays in auto-commit), so
 * that writers can ask for {@code BEGIN IMMEDIATE}.
 */
final class Conn implements AutoCloseable {
    /** Maps the current row of a result set. */
    interface Row<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private final Connection connection;
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    /** Rows changed by {@link #update} since {@link #resetChanged}: whether a transaction wrote anything. */
    private long changed;

    private Conn(Connection connection) {
        this.connection = connection;
    }

    /**
     * Connects without {@link java.sql.DriverManager}: inside OSGi the driver is not visible to it, and the
     * config creates the connection through the driver class directly.
     */
    static Conn open(Path file, int busyTimeoutMs) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(busyTimeoutMs);
        // Nothing here asks for generated keys; left on, the driver matches every statement's SQL against a
        // regular expression after it runs (a profile of small S3 PUTs found it among the hottest frames).
        config.setGetGeneratedKeys(false);
        Conn c = new Conn(config.createConnection("jdbc:sqlite:" + file));
        try {
            // Durable on COMMIT: the WAL is synced before a transaction is reported committed.
            c.exec("PRAGMA synchronous=FULL");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    void exec(String sql) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute(sql);
        }
    }

    void rollbackQuietly() {
        try {
            exec("ROLLBACK");
        } catch (SQLException alreadyEnded) {
            // SQLite rolls back by itself after some errors; there is then nothing left to undo.
        }
    }

    private PreparedStatement prepare(String sql, Object... args) throws SQLException {
        PreparedStatement ps = statements.get(sql);
        if (ps == null) {
            ps = connection.prepareStatement(sql);
            statements.put(sql, ps);
        }
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps;
    }

    /** Runs an INSERT, UPDATE or DELETE; returns the number of rows changed. */
    int update(String sql, Object... args) throws SQLException {
        int n = prepare(sql, args).executeUpdate();
        changed += n;
        return n;
    }

    void resetChanged() {
        changed = 0;
    }

    long changed() {
        return changed;
    }

    /** The first row mapped, or null if there is none. */
    <T> T one(String sql, Row<T> row, Object... args) throws SQLException {
        try (ResultSet rs = prepare(sql, args).executeQuery()) {
            return rs.next() ? row.map(rs) : null;
        }
    }

    <T> List<T> list(String sql, Row<T> row, Object... args) throws SQLException {
        List<T> out = new ArrayList<>();
        try (ResultSet rs = prepare(sql, args).executeQuery()) {
            while (rs.next()) {
                out.add(row.map(rs));
            }
        }
        return out;
    }

    /** The first column of the first row as a long, or {@code absent} if there is no row. */
    long longValue(String sql, long absent, Object... args) throws SQLException {
        try (ResultSet rs = prepare(sql, args).executeQuery()) {
            return rs.next() ? rs.getLong(1) : absent;
        }
    }

    boolean exists(String sql, Object... args) throws SQLException {
        try (ResultSet rs = prepare(sql, args).executeQuery()) {
            return rs.next();
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            // Closing frees the handle even when SQLite reports an error; nothing else can be done.
        }
        statements.clear();
    }
}
