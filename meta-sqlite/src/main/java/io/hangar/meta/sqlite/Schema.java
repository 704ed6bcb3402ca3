package io.hangar.meta.sqlite;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.sql.SQLException;
import java.util.List;

/**
 * The tables of a metadata file (documented in {@code docs/meta-sqlite.md}). The version lives in SQLite's
 * {@code user_version}, so an empty file is recognised without a table, and a file written by a newer
 * schema is refused instead of being misread.
 */
final class Schema {
    static final int VERSION = 2;

    /**
     * The repository store (version 2): records keyed by their UTF-8 bytes (BLOB compares as memcmp, so the
     * listing order is UTF-8 byte order and a prefix is a key range) and the audit log with an index per
     * filter.
     */
    private static final List<String> REPOSITORY_TABLES = List.of(
            "CREATE TABLE repo_records (key BLOB PRIMARY KEY, value BLOB NOT NULL, version INTEGER NOT NULL)"
                    + " WITHOUT ROWID",
            "CREATE TABLE repo_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, team TEXT,"
                    + " user TEXT, model TEXT, detail BLOB NOT NULL)",
            "CREATE INDEX repo_audit_by_team ON repo_audit (team, seq)",
            "CREATE INDEX repo_audit_by_user ON repo_audit (user, seq)",
            "CREATE INDEX repo_audit_by_model ON repo_audit (model, seq)");

    private static final List<String> TABLES = List.of(
            "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
            "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
            "CREATE TABLE nodes (inode INTEGER PRIMARY KEY, type INTEGER NOT NULL, mode INTEGER NOT NULL,"
                    + " uid INTEGER NOT NULL, gid INTEGER NOT NULL, nlink INTEGER NOT NULL, length INTEGER NOT NULL,"
                    + " atime INTEGER NOT NULL, mtime INTEGER NOT NULL, ctime INTEGER NOT NULL,"
                    + " rdev INTEGER NOT NULL, parent INTEGER NOT NULL)",
            // Listing order is name order: TEXT compares as UTF-8 bytes (BINARY collation).
            "CREATE TABLE edges (parent INTEGER NOT NULL, name TEXT NOT NULL, inode INTEGER NOT NULL,"
                    + " type INTEGER NOT NULL, PRIMARY KEY (parent, name)) WITHOUT ROWID",
            // The names of an inode: finds the remaining parent when a hard link goes.
            "CREATE INDEX edges_by_inode ON edges (inode)",
            "CREATE TABLE symlinks (inode INTEGER PRIMARY KEY, target TEXT NOT NULL)",
            "CREATE TABLE xattrs (inode INTEGER NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,"
                    + " PRIMARY KEY (inode, name)) WITHOUT ROWID",
            "CREATE TABLE chunks (inode INTEGER NOT NULL, idx INTEGER NOT NULL, slices BLOB NOT NULL,"
                    + " PRIMARY KEY (inode, idx)) WITHOUT ROWID",
            "CREATE TABLE slice_refs (id INTEGER PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL)",
            "CREATE TABLE pending_slices (id INTEGER PRIMARY KEY, size INTEGER NOT NULL)",
            "CREATE TABLE sessions (sid INTEGER PRIMARY KEY, info TEXT NOT NULL, started INTEGER NOT NULL,"
                    + " heartbeat INTEGER NOT NULL)",
            "CREATE INDEX sessions_by_heartbeat ON sessions (heartbeat)",
            "CREATE TABLE open_files (sid INTEGER NOT NULL, inode INTEGER NOT NULL, opens INTEGER NOT NULL,"
                    + " PRIMARY KEY (sid, inode)) WITHOUT ROWID",
            "CREATE INDEX open_files_by_inode ON open_files (inode)",
            "CREATE TABLE deleted_files (inode INTEGER PRIMARY KEY, deleted INTEGER NOT NULL)");

    private Schema() {
    }

    static long version(Conn c) throws SQLException {
        return c.longValue("PRAGMA user_version", 0);
    }

    /** Creates the tables in an empty file; checks the version of an existing one. Runs in a write transaction. */
    static Void ensure(Conn c) throws SQLException, FsException {
        long version = version(c);
        if (version == VERSION) {
            return null;
        }
        if (version > VERSION) {
            throw new FsException(Errno.EIO, "metadata schema version " + version + " is newer than this engine's ("
                    + VERSION + "): upgrade Hangar");
        }
        if (version == 1) {
            // A volume formatted before the repository existed: add its tables, keep everything else.
            for (String ddl : REPOSITORY_TABLES) {
                c.exec(ddl);
            }
            c.exec("PRAGMA user_version = " + VERSION);
            return null;
        }
        if (c.exists("SELECT 1 FROM sqlite_schema WHERE type = 'table'")) {
            throw new FsException(Errno.EIO, "the file holds tables of something other than a Hangar volume");
        }
        for (String ddl : TABLES) {
            c.exec(ddl);
        }
        for (String ddl : REPOSITORY_TABLES) {
            c.exec(ddl);
        }
        c.exec("PRAGMA user_version = " + VERSION);
        return null;
    }
}
