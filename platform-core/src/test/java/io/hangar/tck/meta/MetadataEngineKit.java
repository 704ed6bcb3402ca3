package io.hangar.tck.meta;

import static io.hangar.spi.meta.MetadataEngine.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.SetAttr;
import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.SliceRef;
import io.hangar.spi.meta.VolumeFormat;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.function.Executable;

/**
 * The harness the metadata kits share ({@link MetadataEngineTck}, {@link MetadataEngineEdgeTck}). A subclass
 * supplies two hooks:
 * <ul>
 * <li>{@link #newEngine()}: an engine on a fresh, empty, never formatted backend (a new database file, a
 * flushed Redis database or a new key prefix). Called once per test, before it.</li>
 * <li>{@link #reopen()}: another engine on the backend of the last {@link #newEngine()}, as a second client
 * or a restarted process would open it. Tests use it to check that clients see each other's changes and
 * that committed state is durable.</li>
 * </ul>
 * The harness formats the backend with {@link #volumeFormat()} (with the limits of a test's
 * {@link VolumeLimits}, if it has one) before each test; after it, it runs the engine's own
 * {@link MetadataEngine#check} through a fresh client, which must find nothing, and closes every engine it
 * handed out. Every engine must run every kit: one test class per kit.
 */
public abstract class MetadataEngineKit {
    protected static final int UID = 1000;
    protected static final int GID = 1000;
    /** Old, distinct times set explicitly so that any update is visible without looking at clocks. */
    protected static final long OLD = 1_000_000_000L;

    /** The capacity and inode limit a test's volume is formatted with (0 = unlimited). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    public @interface VolumeLimits {
        long capacityBytes() default 0;

        long inodes() default 0;
    }

    /** The engine under test, formatted with {@link #format}. */
    protected MetadataEngine meta;
    protected VolumeFormat format;
    /** What {@code load()} said on the fresh backend, before the kit formatted it. */
    protected Optional<VolumeFormat> beforeFormat;
    private final List<MetadataEngine> opened = new CopyOnWriteArrayList<>();
    private ExecutorService pool;

    /** An engine on a fresh, empty backend. */
    protected abstract MetadataEngine newEngine() throws Exception;

    /** Another engine on the backend of the last {@link #newEngine()}. */
    protected abstract MetadataEngine reopen() throws Exception;

    /** The volume each test runs on; override to test other sizes. */
    protected VolumeFormat volumeFormat() {
        return new VolumeFormat("tck", UUID.randomUUID().toString(), "file:///tmp/hangar-tck-store",
                VolumeFormat.DEFAULT_BLOCK_SIZE, VolumeFormat.DEFAULT_CHUNK_SIZE, 0, 0, System.currentTimeMillis());
    }

    @BeforeEach
    void formatFreshBackend(TestInfo test) throws Exception {
        meta = track(newEngine());
        beforeFormat = meta.load();
        VolumeFormat f = volumeFormat();
        VolumeLimits limits = test.getTestMethod().map(m -> m.getAnnotation(VolumeLimits.class)).orElse(null);
        if (limits != null) {
            f = new VolumeFormat(f.name(), f.uuid(), f.storage(), f.blockSize(), f.chunkSize(), limits.capacityBytes(),
                    limits.inodes(), f.createdMs());
        }
        format = f;
        meta.format(format);
    }

    /**
     * After every kit test, the engine's own check (through a fresh client, with nothing running) finds
     * nothing: every operation the kit drives leaves the records consistent.
     */
    @AfterEach
    void checkThenCloseEngines() throws Exception {
        try {
            if (pool != null) {
                pool.shutdownNow();
                assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS), "the test's threads did not stop");
            }
            List<MetaProblem> problems = new ArrayList<>();
            other().check(false, problems::add);
            assertEquals(List.of(), problems, "the engine's check after the test");
        } finally {
            for (MetadataEngine m : opened) {
                m.close();
            }
        }
    }

    /** A second client on this test's backend, closed after the test. */
    protected MetadataEngine other() throws Exception {
        return track(reopen());
    }

    private MetadataEngine track(MetadataEngine m) {
        opened.add(m);
        return m;
    }

    // ---- helpers ----

    protected static FsException assertErrno(Errno expected, Executable op) {
        FsException e = assertThrows(FsException.class, op);
        assertEquals(expected, e.errno(), () -> "errno of: " + e.getMessage());
        return e;
    }

    protected Entry file(long parent, String name) throws FsException {
        return meta.mknod(parent, name, FileType.FILE, 0644, UID, GID, 0, null);
    }

    protected Entry dir(long parent, String name) throws FsException {
        return meta.mknod(parent, name, FileType.DIRECTORY, 0755, UID, GID, 0, null);
    }

    protected long ino(long parent, String name) throws FsException {
        return meta.lookup(parent, name).inode();
    }

    protected long nlink(long inode) throws FsException {
        return meta.getattr(inode).nlink();
    }

    /** Writes a new slice of {@code len} bytes at {@code pos} of a chunk and returns its record. */
    protected Slice write(long inode, int chunk, int pos, int len) throws FsException {
        return write(meta, inode, chunk, pos, len);
    }

    /** As {@link #write(long, int, int, int)}, through client {@code m}. */
    protected static Slice write(MetadataEngine m, long inode, int chunk, int pos, int len) throws FsException {
        Slice s = new Slice(m.newSliceIds(1), len, 0, len, pos);
        m.writeSlice(inode, chunk, s, System.currentTimeMillis() * 1_000_000L);
        return s;
    }

    protected static SliceRef ref(Slice s) {
        return new SliceRef(s.id(), s.size());
    }

    protected Set<SliceRef> pending() throws FsException {
        return new HashSet<>(meta.pendingSliceDeletes(100_000));
    }

    /** The slice whose bytes a reader sees at {@code pos} (newest record wins); 0 for zeros. */
    protected static long visibleAt(List<Slice> records, int pos) {
        for (int i = records.size() - 1; i >= 0; i--) {
            Slice s = records.get(i);
            if (s.pos() <= pos && pos < s.end()) {
                return s.id();
            }
        }
        return 0;
    }

    protected TreeSnapshot snapshot() throws FsException {
        return TreeSnapshot.of(meta, ROOT, format.chunkSize());
    }

    protected List<String> names(long dir) throws FsException {
        return TreeSnapshot.list(meta, dir).stream().map(DirEntry::name).collect(Collectors.toList());
    }

    /** Removes a tree depth first through the public API (what rm -r does). */
    protected void removeTree(long parent, String name) throws FsException {
        Entry e = meta.lookup(parent, name);
        if (e.attr().isDirectory()) {
            for (DirEntry c : TreeSnapshot.list(meta, e.inode())) {
                removeTree(e.inode(), c.name());
            }
            meta.rmdir(parent, name);
        } else {
            meta.unlink(parent, name);
        }
    }

    protected void setOldTimes(long inode) throws FsException {
        meta.setattr(inode, new SetAttr(null, null, null, null, OLD, OLD, OLD));
    }

    /** A thread pool the harness stops (and waits for) after the test. */
    protected ExecutorService pool(int threads) {
        pool = Executors.newFixedThreadPool(threads);
        return pool;
    }

    /** The results of {@code futures}, each waited for at most a minute (a hang guard, not a timing check). */
    protected static <T> List<T> all(List<Future<T>> futures) throws Exception {
        List<T> out = new ArrayList<>();
        for (Future<T> f : futures) {
            out.add(f.get(60, TimeUnit.SECONDS));
        }
        return out;
    }
}
