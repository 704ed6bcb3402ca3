package io.hangar.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.StoreException;
import io.hangar.tck.store.ChunkStoreTck;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileChunkStoreTest extends ChunkStoreTck {
    @TempDir
    Path dir;

    @Override
    protected ChunkStore newStore() throws Exception {
        return new FileChunkStoreProvider().open(URI.create("file://" + dir.resolve("store")));
    }

    @Override
    protected ChunkStore reopen() throws Exception {
        return newStore();
    }

    @Test
    void putLeavesNoTemporaryFiles() throws Exception {
        store.put("a/b/c", new byte[10], 0, 10);
        try (var s = Files.list(dir.resolve("store/.tmp"))) {
            assertEquals(0, s.count());
        }
        assertTrue(Files.isRegularFile(dir.resolve("store/a/b/c")));
    }

    /** A store on a full file system fails FULL (the VFS answers ENOSPC), not TRANSIENT (it would wait). */
    @Test
    void aFullFileSystemIsFull() throws Exception {
        Path small = dir.resolve("small");
        Files.createDirectories(small);
        assertEquals(0, new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", small.toString())
                .inheritIO().start().waitFor(), "mounting a 256 KiB tmpfs needs root (the test suite runs as root)");
        try (ChunkStore full = new FileChunkStoreProvider().open(URI.create("file://" + small.resolve("store")))) {
            byte[] block = new byte[128 << 10];
            StoreException e = assertThrows(StoreException.class, () -> {
                for (int i = 0; i < 8; i++) {
                    full.put("k" + i, block, 0, block.length);
                }
            });
            assertEquals(StoreException.Kind.FULL, e.kind(), e::getMessage);
            try (var s = Files.list(small.resolve("store/.tmp"))) {
                assertEquals(0, s.count(), "the failed put leaves no temporary file");
            }
        } finally {
            new ProcessBuilder("umount", small.toString()).inheritIO().start().waitFor();
        }
    }

    @Test
    void closedStoreFailsTransiently() throws Exception {
        store.put("k", new byte[1], 0, 1);
        store.close();
        StoreException e = assertThrows(StoreException.class, () -> store.get("k", 0, -1));
        assertEquals(StoreException.Kind.TRANSIENT, e.kind());
    }

    @Test
    void relativeOrHostUrlsAreRejected() {
        assertEquals(StoreException.Kind.INVALID, assertThrows(StoreException.class,
                () -> new FileChunkStoreProvider().open(URI.create("file://host/x"))).kind());
    }

    @Test
    void unwritableRootIsAPermissionError() throws Exception {
        Path ro = dir.resolve("ro");
        Files.createDirectories(ro.resolve(".tmp"));
        ro.toFile().setWritable(false, false);
        try {
            if (Files.isWritable(ro)) {
                // root bypasses mode bits: use a path below a regular file instead, which no one can create.
                Path file = dir.resolve("plain");
                Files.write(file, new byte[1]);
                StoreException e = assertThrows(StoreException.class,
                        () -> new FileChunkStoreProvider().open(URI.create("file://" + file.resolve("sub"))));
                assertTrue(e.getMessage().contains("cannot create store directory"), e.getMessage());
            } else {
                assertEquals(StoreException.Kind.PERMISSION, assertThrows(StoreException.class,
                        () -> new FileChunkStoreProvider().open(URI.create("file://" + ro))).kind());
            }
        } finally {
            ro.toFile().setWritable(true, false);
        }
    }

    @Test
    void readsIntoPageAlignedMemoryMatchTheBytesStored() throws Exception {
        // Reads into page-aligned native memory (the VFS's block buffers), at aligned and unaligned offsets, with
        // and without a partial last page, past the end: each checked against the bytes put, by a fresh instance.
        int len = (4 << 20) + 100;
        byte[] data = new byte[len];
        new java.util.Random(7).nextBytes(data);
        store.put("blk", data, 0, len);
        ChunkStore fresh = reopen();
        try {
            long[][] cases = {{0, len}, {0, 8192}, {4096, len - 4096}, {4096, 100}, {100, 5000}, {0, len + 5000},
                {len - 50, 4096}, {4096, 4096 + 10}, {len + 4096, 8192}};
            for (long[] c : cases) {
                int offset = (int) c[0];
                int room = (int) c[1];
                java.nio.ByteBuffer dst = java.nio.ByteBuffer.allocateDirect(room + 8192).alignedSlice(4096)
                        .limit(room);
                int n = fresh.get("blk", offset, dst);
                int expected = Math.max(0, Math.min(room, len - offset));
                assertEquals(expected, n, "bytes read at " + offset + " into " + room);
                assertEquals(expected, dst.position(), "position moved past them");
                byte[] out = new byte[n];
                dst.get(0, out);
                org.junit.jupiter.api.Assertions.assertArrayEquals(
                        java.util.Arrays.copyOfRange(data, Math.min(offset, len), Math.min(offset, len) + n), out, "at " + offset + " into " + room);
            }
            java.nio.ByteBuffer dst = java.nio.ByteBuffer.allocateDirect(3 * 4096).alignedSlice(4096);
            assertEquals(StoreException.Kind.NOT_FOUND,
                    assertThrows(StoreException.class, () -> fresh.get("none", 0, dst)).kind());
        } finally {
            fresh.close();
        }
    }
}
