package io.hangar.meta.sqlite;

import io.hangar.fs.FileType;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.tck.meta.MetadataEngineEdgeTck;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/** The second conformance kit on a fresh SQLite file per test. */
class SqliteMetadataEngineEdgeTest extends MetadataEngineEdgeTck {
    @TempDir
    Path dir;

    private URI url() {
        return URI.create("sqlite://" + dir.resolve("meta.db"));
    }

    @Override
    protected MetadataEngine newEngine() throws Exception {
        return new SqliteMetadataEngineProvider().open(url());
    }

    @Override
    protected MetadataEngine reopen() throws Exception {
        return new SqliteMetadataEngineProvider().open(url());
    }

    /** The names and the link count in one transaction on the file, as the engine's link would leave them. */
    @Override
    protected void addLinks(long file, long dir, int count) throws Exception {
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + this.dir.resolve("meta.db"))) {
            try (Statement s = c.createStatement()) {
                s.execute("BEGIN IMMEDIATE");
            }
            try (PreparedStatement edge = c.prepareStatement(
                    "INSERT INTO edges (parent, name, inode, type) VALUES (?, ?, ?, ?)")) {
                for (int i = 1; i <= count; i++) {
                    edge.setLong(1, dir);
                    edge.setString(2, "l" + i);
                    edge.setLong(3, file);
                    edge.setInt(4, Txn.code(FileType.FILE));
                    edge.addBatch();
                }
                edge.executeBatch();
            }
            try (PreparedStatement node = c.prepareStatement(
                    "UPDATE nodes SET nlink = nlink + ?, parent = 0 WHERE inode = ?")) {
                node.setLong(1, count);
                node.setLong(2, file);
                node.executeUpdate();
            }
            try (Statement s = c.createStatement()) {
                s.execute("COMMIT");
            }
        }
    }
}
