package io.hangar.store.rados;

import com.ceph.rados.IoCTX;
import com.ceph.rados.Rados;
import com.ceph.rados.exceptions.RadosException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ListPage;
import io.hangar.spi.store.ObjectInfo;
import io.hangar.spi.store.StoreException;
import io.hangar.spi.store.StoreException.Kind;
import java.io.File;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Objects in a RADOS pool namespace, one RADOS object per key (a 4 MiB block is one object, written with
 * one {@code write_full}: atomic, and durable once acknowledged, as RADOS acknowledges only what every
 * replica has committed). On a full pool (quota) or cluster, writes fail at once with FULL instead of
 * waiting for space ({@code FULL_TRY}); deletes go ahead ({@code FULL_FORCE}), so gc can free it.
 *
 * <p><b>Listing in key order.</b> RADOS lists a pool in hash order, and only whole: no prefix, no order.
 * The store keeps an index instead, as a directory tree of omap objects: for a key {@code a/b/name} the
 * index object {@code /a/b/} (a name no key can have, keys never start with '/') holds the omap entry
 * {@code name}, {@code /a/} holds {@code b/} and {@code /} holds {@code a/}. Omap keys come back sorted and
 * from any {@code start_after}, so a listing walks only the index objects that can hold its page, a bounded
 * batch at a time, exactly as a directory store walks directories; then the page's objects are stat'ed
 * (asynchronously, many in flight) for their size and time, and index entries whose object is gone are left
 * out. A put adds the index entry before it writes the object, a delete removes the object before the
 * entry: every object is in the index, and an entry without an object (a put that failed, a delete cut
 * short) is never listed. Empty index objects stay, as empty directories do.
 */
final class RadosChunkStore implements ChunkStore {
    private static final LibRados LIB = LibRados.INSTANCE;
    private static final int ENOENT = 2;
    /** A whole-object read first asks for this much; a larger object is read again with its exact size. */
    private static final int FIRST_READ = 4 << 20;
    /** Omap entries fetched per index read. */
    private static final int INDEX_BATCH = 4096;
    /** Stats in flight while a listing page is completed. */
    private static final int STAT_WINDOW = 128;
    /** Index directories known to be linked into their parents, so that a put writes one index entry. */
    private static final int KNOWN_DIRS_MAX = 100_000;

    private final RadosUrl url;
    private final Session data;
    private final Session index;
    /** The data session's I/O context: blocks, stats, listings. */
    private final Pointer io;
    /** The index session's: the index entries a put writes before its block (see {@link #indexEntry}). */
    private final Pointer indexIo;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Set<String> linkedDirs = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<String, IndexQueue> indexQueues = new ConcurrentHashMap<>();
    private boolean closed;

    private RadosChunkStore(RadosUrl url, Session data, Session index) {
        this.url = url;
        this.data = data;
        this.index = index;
        this.io = data.ctx().getPointer();
        this.indexIo = index.ctx().getPointer();
    }

    /** One cluster handle (its own connections to the monitors and OSDs) and its I/O context on the pool. */
    private record Session(Rados rados, IoCTX ctx) {
        void close() {
            rados.ioCtxDestroy(ctx);
            rados.shutDown();
        }
    }

    /** Connects, opens the pool and namespace and checks the user may read there. */
    static RadosChunkStore open(RadosUrl url) throws StoreException {
        String where = url.describe();
        File conf = new File(url.conf());
        if (!conf.canRead()) {
            throw new StoreException(Kind.INVALID, where + ": cannot read the Ceph configuration " + conf);
        }
        if (url.keyring() != null && !new File(url.keyring()).canRead()) {
            throw new StoreException(Kind.PERMISSION, where + ": cannot read the keyring " + url.keyring());
        }
        // Two cluster handles: a put's small index write travels on connections of its own, not queued behind
        // up to 16 blocks of 4 MiB on the data connection (waiting for the entries cost about a quarter of the
        // puts' throughput; this and the group commit of indexEntry brought it back, not measured apart).
        Session data = connect(url);
        Session index;
        try {
            index = connect(url);
        } catch (StoreException e) {
            data.close();
            throw e;
        }
        RadosChunkStore s = new RadosChunkStore(url, data, index);
        try {
            // The root index: absent in a fresh namespace; EPERM if the user's caps do not cover the pool.
            LongByReference size = new LongByReference();
            LongByReference mtime = new LongByReference();
            int rc = LIB.rados_stat(s.io, indexOid(""), size, mtime);
            if (rc < 0 && rc != -ENOENT) {
                throw map(rc, where + ": cannot read pool " + url.pool());
            }
        } catch (StoreException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** A cluster handle connected as the URL says, with an I/O context on its pool and namespace. */
    private static Session connect(RadosUrl url) throws StoreException {
        String where = url.describe();
        File conf = new File(url.conf());
        Rados r;
        try {
            r = new Rados(url.user());
        } catch (RuntimeException | LinkageError e) {
            throw new StoreException(Kind.TRANSIENT, where + ": cannot load librados (install librados2): " + e, e);
        }
        try {
            r.confReadFile(conf);
            if (url.keyring() != null) {
                r.confSet("keyring", url.keyring());
            }
            r.confSet("client_mount_timeout", Integer.toString(url.connectTimeout()));
            r.confSet("rados_mon_op_timeout", Integer.toString(url.opTimeout()));
            r.confSet("rados_osd_op_timeout", Integer.toString(url.opTimeout()));
        } catch (RadosException e) {
            r.shutDown();
            throw new StoreException(Kind.INVALID, where + ": bad Ceph configuration: " + errno(e.getReturnValue()));
        }
        try {
            r.connect();
        } catch (RadosException e) {
            r.shutDown();
            int rc = -Math.abs(e.getReturnValue());
            String user = "client." + url.user();
            throw switch (-rc) {
                case 1, 13 -> new StoreException(Kind.PERMISSION,
                        where + ": the Ceph cluster refused " + user + " (wrong key or no such user): " + errno(rc));
                case 2, 95 -> new StoreException(Kind.PERMISSION,
                        where + ": no key for " + user + " (no keyring, or the keyring lacks it): " + errno(rc));
                case 110 -> new StoreException(Kind.TRANSIENT, where + ": cannot reach the Ceph monitors named in "
                        + url.conf() + " within " + url.connectTimeout() + " s (cluster down?)");
                default -> new StoreException(Kind.TRANSIENT, where + ": cannot connect to Ceph: " + errno(rc));
            };
        }
        IoCTX c;
        try {
            c = r.ioCtxCreate(url.pool());
        } catch (RadosException e) {
            r.shutDown();
            int rc = -Math.abs(e.getReturnValue());
            if (rc == -ENOENT) {
                throw new StoreException(Kind.NOT_FOUND, where + ": there is no pool '" + url.pool()
                        + "' in the Ceph cluster (create it: ceph osd pool create " + url.pool() + ")");
            }
            throw map(rc, where + ": cannot open pool " + url.pool());
        }
        c.setNamespace(url.namespace());
        return new Session(r, c);
    }

    @Override
    public String describe() {
        return url.describe();
    }

    // ---- put, get, head, delete

    @Override
    public void put(String key, byte[] data, int off, int len) throws StoreException {
        checkKey(key);
        if (off < 0 || len < 0 || off + len > data.length) {
            throw new StoreException(Kind.INVALID, "put " + key + ": bad range " + off + "+" + len);
        }
        Memory buf = new Memory(Math.max(len, 1));
        try {
            buf.write(0, data, off, len);
            writeFull(key, buf, len);
        } finally {
            buf.close();
        }
    }

    /**
     * A direct buffer is handed to librados as it is: {@code write_full} reads the caller's native memory, no
     * copy. A heap buffer goes through the array form (one copy into native memory, as librados needs).
     */
    @Override
    public void put(String key, ByteBuffer data) throws StoreException {
        if (!data.isDirect()) {
            ChunkStore.super.put(key, data);
            return;
        }
        checkKey(key);
        int len = data.remaining();
        // The buffer stays reachable (and its memory mapped) until the synchronous operation has returned.
        writeFull(key, len == 0 ? null : Native.getDirectBufferPointer(data).share(data.position()), len);
        Reference.reachabilityFence(data);
    }

    /** Index entry first, then the object in one {@code write_full} of {@code len} bytes at {@code buf}. */
    private void writeFull(String key, Pointer buf, int len) throws StoreException {
        enter();
        try {
            int slash = key.lastIndexOf('/');
            String dir = key.substring(0, slash + 1);
            linkDirectory(dir);
            indexEntry(indexOid(dir), key.substring(slash + 1));
            Pointer op = LIB.rados_create_write_op();
            int rc;
            try {
                LIB.rados_write_op_write_full(op, buf, len);
                rc = LIB.rados_write_op_operate(op, io, key, null, LibRados.FULL_TRY);
            } finally {
                LIB.rados_release_write_op(op);
            }
            if (rc < 0) {
                throw map(rc, "put " + key);
            }
        } finally {
            leave();
        }
    }

    @Override
    public byte[] get(String key, long offset, int length) throws StoreException {
        checkKey(key);
        checkOffset(key, offset);
        long wanted = length < 0 ? Long.MAX_VALUE : length;
        long ask = Math.min(wanted, FIRST_READ);
        enter();
        try {
            while (true) {
                Memory buf = new Memory(Math.max(ask, 1));
                try {
                    long n = read(key, offset, wanted, buf, ask);
                    if (n > ask) {
                        ask = n; // larger than the first guess: once more, whole
                        continue;
                    }
                    return buf.getByteArray(0, (int) n);
                } finally {
                    buf.close();
                }
            }
        } finally {
            leave();
        }
    }

    /**
     * Reads straight into a direct buffer's native memory (librados writes the bytes there, no copy): one
     * operation, as dst's room is the most it can take. A heap buffer goes through the array form.
     */
    @Override
    public int get(String key, long offset, ByteBuffer dst) throws StoreException {
        if (!dst.isDirect()) {
            return ChunkStore.super.get(key, offset, dst);
        }
        checkKey(key);
        checkOffset(key, offset);
        int room = dst.remaining();
        enter();
        try {
            Pointer at = room == 0 ? null : Native.getDirectBufferPointer(dst).share(dst.position());
            long n = read(key, offset, room, at, room);
            dst.position(dst.position() + (int) n);
            return (int) n;
        } finally {
            Reference.reachabilityFence(dst);
            leave();
        }
    }

    private static void checkOffset(String key, long offset) throws StoreException {
        if (offset < 0) {
            throw new StoreException(Kind.INVALID, "get " + key + ": negative offset " + offset);
        }
    }

    /**
     * One operation that stats the object and reads up to {@code ask} bytes from {@code offset} into
     * {@code buf}: the two agree even while another client replaces the object. Returns how many bytes the
     * caller wants (at most {@code wanted}, cut at the object's end); when that is more than {@code ask}, the
     * bytes in buf are incomplete and the caller reads again with a larger buffer.
     */
    private long read(String key, long offset, long wanted, Pointer buf, long ask) throws StoreException {
        Pointer op = LIB.rados_create_read_op();
        Memory out = new Memory(32); // size, mtime, bytes read, stat rval, read rval
        out.clear();
        try {
            LIB.rados_read_op_stat(op, out.share(0), out.share(8), out.share(24));
            if (ask > 0) {
                LIB.rados_read_op_read(op, offset, ask, buf, out.share(16), out.share(28));
            }
            int rc = LIB.rados_read_op_operate(op, io, key, 0);
            if (rc == 0) {
                rc = out.getInt(24) < 0 ? out.getInt(24) : Math.min(0, out.getInt(28));
            }
            if (rc < 0) {
                throw rc == -ENOENT ? new StoreException(Kind.NOT_FOUND, "get " + key + ": no such object")
                        : map(rc, "get " + key);
            }
            long size = out.getLong(0);
            long n = offset >= size ? 0 : Math.min(wanted, size - offset);
            if (n > Integer.MAX_VALUE - 16) {
                throw new StoreException(Kind.INVALID, key + ": range too large for one read: " + n);
            }
            if (n <= ask && out.getLong(16) < n) {
                throw new StoreException(Kind.TRANSIENT, "get " + key + ": short read " + out.getLong(16) + " of " + n);
            }
            return n;
        } finally {
            LIB.rados_release_read_op(op);
            out.close();
        }
    }

    @Override
    public ObjectInfo head(String key) throws StoreException {
        checkKey(key);
        enter();
        try {
            LongByReference size = new LongByReference();
            LongByReference mtime = new LongByReference();
            int rc = LIB.rados_stat(io, key, size, mtime);
            if (rc == -ENOENT) {
                throw new StoreException(Kind.NOT_FOUND, "head " + key + ": no such object");
            }
            if (rc < 0) {
                throw map(rc, "head " + key);
            }
            return new ObjectInfo(key, size.getValue(), mtime.getValue() * 1000);
        } finally {
            leave();
        }
    }

    @Override
    public void delete(String key) throws StoreException {
        checkKey(key);
        enter();
        try {
            // Deletes go ahead on a full pool: they are what frees it (gc).
            Pointer op = LIB.rados_create_write_op();
            int rc;
            try {
                LIB.rados_write_op_remove(op);
                rc = LIB.rados_write_op_operate(op, io, key, null, LibRados.FULL_FORCE);
            } finally {
                LIB.rados_release_write_op(op);
            }
            if (rc < 0 && rc != -ENOENT) {
                throw map(rc, "delete " + key);
            }
            int slash = key.lastIndexOf('/');
            op = LIB.rados_create_write_op();
            try {
                LIB.rados_write_op_assert_exists(op); // never create an index object for a key never put
                LIB.rados_write_op_omap_rm_keys(op, new String[] {key.substring(slash + 1)}, 1);
                rc = LIB.rados_write_op_operate(op, io, indexOid(key.substring(0, slash + 1)), null,
                        LibRados.FULL_FORCE);
            } finally {
                LIB.rados_release_write_op(op);
            }
            if (rc < 0 && rc != -ENOENT) {
                throw map(rc, "delete " + key + " (index entry)");
            }
        } finally {
            leave();
        }
    }

    // ---- the index

    /** The index object of key directory {@code dir} ("" or ending in '/'): a name no key can have. */
    private static String indexOid(String dir) {
        return "/" + dir;
    }

    /** Makes {@code dir} ("a/b/") reachable from the root index: "/" holds "a/", "/a/" holds "b/". */
    private void linkDirectory(String dir) throws StoreException {
        if (dir.isEmpty() || linkedDirs.contains(dir)) {
            return;
        }
        int start = 0;
        for (int slash = dir.indexOf('/'); slash >= 0; slash = dir.indexOf('/', slash + 1)) {
            String parent = dir.substring(0, start);
            String child = dir.substring(0, slash + 1);
            if (!linkedDirs.contains(child)) {
                omapSet(indexOid(parent), dir.substring(start, slash + 1));
                if (linkedDirs.size() > KNOWN_DIRS_MAX) {
                    linkedDirs.clear();
                }
                linkedDirs.add(child);
            }
            start = slash + 1;
        }
    }

    private void omapSet(String oid, String name) throws StoreException {
        int rc = omapSet(oid, List.of(name));
        if (rc < 0) {
            throw map(rc, "index " + oid + name);
        }
    }

    /** One omap write of {@code names} (empty values) to {@code oid}: 0 or a negative errno. */
    private int omapSet(String oid, List<String> names) {
        int n = names.size();
        String[] vals = new String[n];
        java.util.Arrays.fill(vals, "");
        Pointer op = LIB.rados_create_write_op();
        try {
            LIB.rados_write_op_omap_set(op, names.toArray(new String[0]), vals, new long[n], n);
            return LIB.rados_write_op_operate(op, indexIo, oid, null, LibRados.FULL_TRY);
        } finally {
            LIB.rados_release_write_op(op);
        }
    }

    /** The index entries bound for one index object that travel in one omap write (group commit). */
    private static final class PendingEntries {
        final List<String> names = new ArrayList<>();
        boolean done;
        int rc;
    }

    /** One index object's queue: the batch filling up while another is being written. */
    private static final class IndexQueue {
        PendingEntries filling;
        boolean writing;
        boolean retired;
    }

    /**
     * Adds {@code name} to index object {@code oid} and returns once it is durable there. The puts of one
     * directory all write the same index object, whose writes RADOS applies one after the other in its
     * placement group, beside the blocks' writes. So the entries that arrive while an index write is under
     * way go together in the next one, written by the first of their puts (group commit): fewer small
     * transactions on the OSD. Each put still writes its block only after its entry is stored.
     */
    private void indexEntry(String oid, String name) throws StoreException {
        PendingEntries mine;
        IndexQueue q;
        boolean interrupted = false;
        while (true) {
            q = indexQueues.computeIfAbsent(oid, k -> new IndexQueue());
            synchronized (q) {
                if (q.retired) {
                    continue; // emptied and dropped just now: take the map's current queue
                }
                if (q.filling == null) {
                    q.filling = new PendingEntries();
                }
                mine = q.filling;
                mine.names.add(name);
                while (q.writing && !mine.done) {
                    try {
                        q.wait();
                    } catch (InterruptedException e) {
                        interrupted = true; // the entry is on its way; an index write is bounded by op-timeout
                    }
                }
                if (!mine.done) { // nothing under way: this put writes the batch
                    q.filling = null;
                    q.writing = true;
                }
            }
            break;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (!mine.done) {
            int rc = -5; // EIO, if the native call itself fails: every put of the batch fails and is retried
            try {
                rc = omapSet(oid, mine.names);
            } finally {
                synchronized (q) {
                    mine.rc = rc;
                    mine.done = true;
                    q.writing = false;
                    if (q.filling == null) {
                        q.retired = true;
                        indexQueues.remove(oid, q);
                    }
                    q.notifyAll();
                }
            }
        }
        if (mine.rc < 0) {
            throw map(mine.rc, "index " + oid + name);
        }
    }

    private record IndexBatch(List<String> names, boolean more) {
    }

    /** Up to {@code max} names of one index object after {@code after}, starting with {@code filter}, sorted. */
    private IndexBatch indexBatch(String oid, String after, String filter, int max) throws StoreException {
        Pointer op = LIB.rados_create_read_op();
        Memory out = new Memory(8); // more flag (byte), rval (int at 4)
        out.clear();
        PointerByReference iter = new PointerByReference();
        try {
            LIB.rados_read_op_omap_get_vals2(op, after, filter, max, iter, out.share(0), out.share(4));
            int rc = LIB.rados_read_op_operate(op, io, oid, 0);
            if (rc == 0 && out.getInt(4) < 0) {
                rc = out.getInt(4);
            }
            if (rc == -ENOENT) {
                return new IndexBatch(List.of(), false);
            }
            if (rc < 0) {
                throw map(rc, "list index " + oid);
            }
            List<String> names = new ArrayList<>();
            Pointer it = iter.getValue();
            if (it != null) {
                try {
                    PointerByReference k = new PointerByReference();
                    PointerByReference v = new PointerByReference();
                    LongByReference len = new LongByReference();
                    while (LIB.rados_omap_get_next(it, k, v, len) == 0 && k.getValue() != null) {
                        names.add(k.getValue().getString(0, StandardCharsets.UTF_8.name()));
                    }
                } finally {
                    LIB.rados_omap_get_end(it);
                }
            }
            return new IndexBatch(names, out.getByte(0) != 0);
        } finally {
            LIB.rados_release_read_op(op);
            out.close();
        }
    }

    // ---- listing

    @Override
    public ListPage list(String prefix, String startAfter, int limit) throws StoreException {
        if (limit <= 0) {
            throw new StoreException(Kind.INVALID, "limit must be positive");
        }
        enter();
        try {
            List<String> keys = new ArrayList<>();
            int slash = prefix.lastIndexOf('/');
            boolean more = collect(slash < 0 ? "" : prefix.substring(0, slash + 1), prefix, startAfter, limit, keys);
            List<ObjectInfo> page = stat(keys);
            return new ListPage(page, more ? keys.get(keys.size() - 1) : null);
        } finally {
            leave();
        }
    }

    /**
     * Adds to {@code page} the keys below index directory {@code dir} that start with {@code prefix} and sort
     * after {@code after}, in key order, until it holds {@code limit}; true if it stopped with keys left. A
     * subdirectory's entry ("b/") sorts among its siblings where its keys fall, so its keys are added in turn.
     * (The starting {@code dir} is the prefix's, so every key below it is a candidate.)
     */
    private boolean collect(String dir, String prefix, String after, int limit, List<String> page)
            throws StoreException {
        // Index names that can match: those starting with the prefix's next segment (up to its '/').
        String rest = prefix.length() > dir.length() ? prefix.substring(dir.length()) : "";
        int s = rest.indexOf('/');
        String filter = s < 0 ? rest : rest.substring(0, s + 1);
        // Where to start: just before the cursor's entry in this directory (the entry "x/" of a cursor
        // "x/y" comes after "x", and what it holds is filtered below).
        String from = "";
        if (after != null && after.startsWith(dir)) {
            String a = after.substring(dir.length());
            int t = a.indexOf('/');
            from = t < 0 ? a : a.substring(0, t);
        }
        String oid = indexOid(dir);
        while (true) {
            IndexBatch b = indexBatch(oid, from, filter, Math.min(INDEX_BATCH, limit + 1));
            for (String name : b.names()) {
                String key = dir + name;
                boolean isDir = name.endsWith("/");
                boolean matches = key.startsWith(prefix) || isDir && prefix.startsWith(key);
                boolean later = after == null || key.compareTo(after) > 0 || isDir && after.startsWith(key);
                if (!matches || !later) {
                    continue;
                }
                if (isDir) {
                    if (collect(key, prefix, after, limit, page)) {
                        return true;
                    }
                } else {
                    if (page.size() == limit) {
                        return true;
                    }
                    page.add(key);
                }
            }
            if (!b.more() || b.names().isEmpty()) {
                return false;
            }
            from = b.names().get(b.names().size() - 1);
        }
    }

    /** Size and time of each key, {@link #STAT_WINDOW} stats in flight; keys with no object are left out. */
    private List<ObjectInfo> stat(List<String> keys) throws StoreException {
        List<ObjectInfo> out = new ArrayList<>(keys.size());
        Pointer[] comps = new Pointer[STAT_WINDOW];
        Memory res = new Memory(16L * STAT_WINDOW);
        try {
            for (int base = 0; base < keys.size(); base += STAT_WINDOW) {
                int n = Math.min(STAT_WINDOW, keys.size() - base);
                int issued = 0;
                StoreException failure = null;
                try {
                    for (int i = 0; i < n; i++) {
                        PointerByReference pc = new PointerByReference();
                        int rc = LIB.rados_aio_create_completion(null, null, null, pc);
                        if (rc < 0) {
                            throw map(rc, "list: aio completion");
                        }
                        comps[i] = pc.getValue();
                        issued++;
                        rc = LIB.rados_aio_stat(io, keys.get(base + i), comps[i], res.share(16L * i),
                                res.share(16L * i + 8));
                        if (rc < 0) {
                            LIB.rados_aio_release(comps[i]);
                            issued--;
                            throw map(rc, "stat " + keys.get(base + i));
                        }
                    }
                } catch (StoreException e) {
                    failure = e;
                }
                for (int i = 0; i < issued; i++) {
                    LIB.rados_aio_wait_for_complete(comps[i]);
                    int rc = LIB.rados_aio_get_return_value(comps[i]);
                    LIB.rados_aio_release(comps[i]);
                    String key = keys.get(base + i);
                    if (rc == 0) {
                        out.add(new ObjectInfo(key, res.getLong(16L * i), res.getLong(16L * i + 8) * 1000));
                    } else if (rc != -ENOENT && failure == null) {
                        failure = map(rc, "stat " + key);
                    }
                }
                if (failure != null) {
                    throw failure;
                }
            }
        } finally {
            res.close();
        }
        return out;
    }

    // ---- keys, errors, life cycle

    private static void checkKey(String key) throws StoreException {
        if (key.isEmpty() || key.startsWith("/") || key.endsWith("/") || key.indexOf('\0') >= 0) {
            throw new StoreException(Kind.INVALID, "bad object key '" + key + "'");
        }
        for (String part : key.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new StoreException(Kind.INVALID, "bad object key '" + key + "'");
            }
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > 2048) {
            throw new StoreException(Kind.INVALID, "object key longer than RADOS allows (2048 bytes): " + key);
        }
    }

    /** Kind of a negative errno from librados. */
    static StoreException map(int rc, String what) {
        Kind kind = switch (-rc) {
            case 2 -> Kind.NOT_FOUND; // ENOENT
            case 1, 13 -> Kind.PERMISSION; // EPERM, EACCES
            case 28, 122 -> Kind.FULL; // ENOSPC, EDQUOT
            case 7, 22, 27, 34, 36 -> Kind.INVALID; // E2BIG, EINVAL, EFBIG, ERANGE, ENAMETOOLONG
            default -> Kind.TRANSIENT; // ETIMEDOUT, EIO, ESHUTDOWN, ENOTCONN, EAGAIN, EBLOCKLISTED, …
        };
        return new StoreException(kind, what + ": " + errno(rc));
    }

    static String errno(int rc) {
        int e = Math.abs(rc);
        String name = switch (e) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT";
            case 5 -> "EIO";
            case 7 -> "E2BIG";
            case 11 -> "EAGAIN";
            case 13 -> "EACCES";
            case 22 -> "EINVAL";
            case 27 -> "EFBIG";
            case 28 -> "ENOSPC";
            case 34 -> "ERANGE";
            case 36 -> "ENAMETOOLONG";
            case 95 -> "EOPNOTSUPP";
            case 107 -> "ENOTCONN";
            case 108 -> "ESHUTDOWN";
            case 110 -> "ETIMEDOUT";
            case 122 -> "EDQUOT";
            default -> "errno";
        };
        return name + " (" + e + ")";
    }

    private void enter() throws StoreException {
        lock.readLock().lock();
        if (closed) {
            lock.readLock().unlock();
            throw new StoreException(Kind.TRANSIENT, "store " + describe() + " is closed");
        }
    }

    private void leave() {
        lock.readLock().unlock();
    }

    /** Waits for the operations under way (native memory they use must outlive them), then disconnects. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            data.close();
            index.close();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
