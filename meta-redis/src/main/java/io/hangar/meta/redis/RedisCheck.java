package io.hangar.meta.redis;

import static io.hangar.meta.redis.Codec.bytes;

import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetaProblem.Kind;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;
import redis.clients.jedis.resps.Tuple;

/**
 * The engine's fsck on the key schema of docs/meta-redis.md. Redis has no ordered key iteration, so the
 * check walks the keys with SCAN; whatever it counts (names per inode, records per slice) it counts in
 * passes over a partition of the inode and slice numbers, so the JVM holds at most {@link #PER_PASS}
 * entries however large the volume. Every command reads a bounded page, so the server is never blocked.
 * Sorted sets are paged by value (lexicographic or by score), never by offset, so that a repair removing a
 * member while they are walked makes the walk skip nothing. The keys are read while clients may write: run
 * it on a quiet volume.
 */
final class RedisCheck {
    private static final int PAGE = 1000;
    private static final long PER_PASS = 500_000;
    private static final Pattern DIR = Pattern.compile("d(\\d+)");
    private static final Pattern INODE = Pattern.compile("i(\\d+)");
    private static final Pattern CHUNK = Pattern.compile("c(\\d+)_(\\d+)");

    private final RedisBackend backend;
    private final String prefix;
    private final int chunkSize;
    private final boolean repair;
    private final Consumer<MetaProblem> report;

    RedisCheck(RedisBackend backend, String prefix, int chunkSize, boolean repair, Consumer<MetaProblem> report) {
        this.backend = backend;
        this.prefix = prefix;
        this.chunkSize = chunkSize;
        this.repair = repair;
        this.report = report;
    }

    private interface Fix {
        void apply(UnifiedJedis j);
    }

    private void found(Kind kind, String what, Fix fix) throws FsException {
        boolean fixed = false;
        if (repair && fix != null) {
            backend.call(j -> {
                fix.apply(j);
                return null;
            });
            fixed = true;
        }
        report.accept(new MetaProblem(kind, what, fixed));
    }

    private String k(String key) {
        return prefix + key;
    }

    void run() throws FsException {
        long inodes = counter("usedInodes");
        long slices = backend.call(j -> j.hlen(k("sliceRef")) + j.zcard(k("delSlices")));
        int passes = (int) Math.max(1, (Math.max(inodes, slices) + PER_PASS - 1) / PER_PASS);
        long space = 0;
        long counted = 0;
        for (int pass = 0; pass < passes; pass++) {
            Pass p = new Pass(passes, pass);
            scan(key -> p.countKey(key));
            scan(key -> p.checkInodeKey(key));
            p.checkReferences();
            space += p.space;
            counted += p.inodes;
        }
        long recordedSpace = counter("usedSpace");
        long finalSpace = space;
        if (recordedSpace != space) {
            found(Kind.USAGE, "used space is " + recordedSpace + ", the files add up to " + space,
                    j -> j.set(k("usedSpace"), Long.toString(finalSpace)));
        }
        long finalInodes = counted;
        if (inodes != counted) {
            found(Kind.USAGE, "used inodes is " + inodes + ", there are " + counted,
                    j -> j.set(k("usedInodes"), Long.toString(finalInodes)));
        }
    }

    private long counter(String name) throws FsException {
        String v = backend.call(j -> j.get(k(name)));
        try {
            return v == null ? 0 : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw Codec.corrupt("counter " + name + " is '" + v + "'");
        }
    }

    private interface KeyVisitor {
        void visit(String key) throws FsException;
    }

    /** Visits every key of the volume (without the prefix), a SCAN page at a time. */
    private void scan(KeyVisitor v) throws FsException {
        ScanParams params = new ScanParams().match(prefix.replaceAll("([\\[\\]*?\\\\])", "\\\\$1") + "*").count(PAGE);
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            String from = cursor;
            ScanResult<String> r = backend.call(j -> j.scan(from, params));
            for (String key : r.getResult()) {
                v.visit(key.substring(prefix.length()));
            }
            cursor = r.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    }

    /** What the entries say of one inode of this pass's partition. */
    private static final class Names {
        long count;
        long lastDir;
        long subdirs;
        /** Names per directory, kept once there are two (what {@code p<ino>} must hold). */
        Map<Long, Long> perDir;

        void add(long dir) {
            count++;
            if (count == 2) {
                perDir = new TreeMap<>();
                perDir.put(lastDir, 1L);
            }
            if (perDir != null) {
                perDir.merge(dir, 1L, Long::sum);
            }
            lastDir = dir;
        }
    }

    private record Member(String name, String type, long child, byte[] raw) {
    }

    private final class Pass {
        final int passes;
        final int pass;
        final Map<Long, Names> names = new HashMap<>();
        final Map<String, long[]> records = new HashMap<>(); // "id_size" -> {records}
        long space;
        long inodes;

        Pass(int passes, int pass) {
            this.passes = passes;
            this.pass = pass;
        }

        boolean mine(long n) {
            return Math.floorMod(n, passes) == pass;
        }

        Names names(long ino) {
            return names.computeIfAbsent(ino, x -> new Names());
        }

        void countKey(String key) throws FsException {
            Matcher m;
            if ((m = DIR.matcher(key)).matches()) {
                countEntries(Long.parseLong(m.group(1)));
            } else if ((m = CHUNK.matcher(key)).matches()) {
                countRecords(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)));
            }
        }

        /**
         * Entries of one directory, a page of members at a time. A page starts past every member of the last
         * name seen (as readdir's cursor does), so an entry whose type a repair rewrote is not seen twice.
         */
        void countEntries(long dir) throws FsException {
            byte[] dk = bytes(k("d" + dir));
            byte[] min = bytes("-");
            while (true) {
                byte[] from = min;
                List<byte[]> page = backend.call(j -> j.zrangeByLex(dk, from, bytes("+"), 0, PAGE));
                List<Member> entries = new ArrayList<>();
                for (byte[] raw : page) {
                    int z = Codec.nameEnd(raw);
                    String name = new String(raw, 0, z, StandardCharsets.UTF_8);
                    String type = String.valueOf((char) raw[z + 1]);
                    long child = Long.parseLong(new String(raw, z + 2, raw.length - z - 2, StandardCharsets.US_ASCII));
                    if (mine(child) || mine(dir)) {
                        entries.add(new Member(name, type, child, raw));
                    }
                }
                List<String> types = types(entries);
                for (int i = 0; i < entries.size(); i++) {
                    Member e = entries.get(i);
                    String actual = types.get(i);
                    // A directory's link count follows what its entries really are: the inodes' types.
                    if (mine(dir) && "d".equals(actual)) {
                        names(dir).subdirs++;
                    }
                    if (!mine(e.child())) {
                        continue;
                    }
                    String where = "entry " + dir + "/" + e.name();
                    if (actual == null) {
                        found(Kind.DANGLING_ENTRY, where + " names missing inode " + e.child(), j -> j.zrem(dk, e.raw()));
                        continue;
                    }
                    if (!actual.equals(e.type())) {
                        found(Kind.ENTRY_TYPE, where + " says type " + e.type() + ", inode " + e.child() + " is "
                                + actual, j -> {
                                    j.zrem(dk, e.raw());
                                    j.zadd(k("d" + dir), 0, e.name() + "\0" + actual + e.child());
                                });
                    }
                    names(e.child()).add(dir);
                }
                if (page.size() < PAGE) {
                    return;
                }
                byte[] last = page.get(page.size() - 1);
                byte[] name = Arrays.copyOf(last, Codec.nameEnd(last));
                min = new byte[name.length + 2];
                min[0] = '(';
                System.arraycopy(name, 0, min, 1, name.length);
                min[min.length - 1] = 1;
            }
        }

        /** The type field of each entry's inode (null where the inode is missing), in one pipeline. */
        List<String> types(List<Member> entries) throws FsException {
            return backend.call(j -> {
                try (AbstractPipeline p = j.pipelined()) {
                    List<Response<String>> rs = new ArrayList<>();
                    for (Member e : entries) {
                        rs.add(p.hget(k("i" + e.child()), "t"));
                    }
                    p.sync();
                    List<String> out = new ArrayList<>();
                    for (Response<String> r : rs) {
                        out.add(r.get());
                    }
                    return out;
                }
            });
        }

        void countRecords(long ino, int idx) throws FsException {
            byte[] key = bytes(k("c" + ino + "_" + idx));
            List<byte[]> recs = backend.call(j -> j.lrange(key, 0, -1));
            String where = "chunk " + idx + " of inode " + ino;
            for (byte[] rec : recs) {
                if (rec.length != Codec.SLICE_BYTES) {
                    if (pass == 0) {
                        found(Kind.BAD_RECORD, where + " holds a record of " + rec.length + " bytes", null);
                    }
                    continue;
                }
                Slice s = Codec.slice(rec);
                if (pass == 0 && (s.pos() < 0 || s.len() <= 0 || s.off() < 0 || s.size() <= 0
                        || (long) s.pos() + s.len() > chunkSize || (long) s.off() + s.len() > s.size())) {
                    found(Kind.BAD_RECORD, where + " holds impossible record " + s, null);
                }
                if (!s.isHole() && mine(s.id())) {
                    records.computeIfAbsent(s.id() + "_" + s.size(), x -> new long[1])[0]++;
                }
            }
            if (pass != 0 || recs.isEmpty()) {
                return;
            }
            List<String> a = backend.call(j -> j.hmget(k("i" + ino), "t", "l"));
            if (!"f".equals(a.get(0))) {
                // Of no file: its chunk index is moot.
                found(Kind.BAD_RECORD, where + " belongs to " + (a.get(0) == null ? "no inode" : "an inode of type "
                        + a.get(0)), null);
                return;
            }
            if ((long) idx * chunkSize >= number(ino, "l", a.get(1))) {
                found(Kind.BAD_RECORD, where + " lies past the file's length " + a.get(1), null);
            }
            Double score = backend.call(j -> j.zscore(k("C" + ino), Integer.toString(idx)));
            if (score == null) {
                found(Kind.SLICE_INDEX, where + " is missing from its chunk index",
                        j -> j.zadd(k("C" + ino), idx, Integer.toString(idx)));
            }
        }

        void checkInodeKey(String key) throws FsException {
            Matcher m = INODE.matcher(key);
            if (!m.matches()) {
                return;
            }
            long ino = Long.parseLong(m.group(1));
            if (!mine(ino)) {
                return;
            }
            List<String> a = backend.call(j -> j.hmget(k("i" + ino), "t", "n", "l", "p"));
            if (a.get(0) == null) {
                return; // removed since the scan saw it
            }
            inodes++;
            String t = a.get(0);
            long nlink = number(ino, "n", a.get(1));
            long parent = number(ino, "p", a.get(3));
            if (t.equals("f")) {
                space += (number(ino, "l", a.get(2)) + 4095) / 4096 * 4096;
            }
            Names n = names.getOrDefault(ino, new Names());
            String what = "inode " + ino;
            if (t.equals("d")) {
                linkCount(what + " (directory)", ino, nlink, 2 + n.subdirs);
                if (ino == MetadataEngine.ROOT) {
                    return;
                }
                if (n.count == 0) {
                    found(Kind.ORPHAN_INODE, what + " is a directory no entry names", null);
                } else if (n.count > 1) {
                    found(Kind.LINK_COUNT, what + " is a directory with " + n.count + " names", null);
                } else if (parent != n.lastDir) {
                    parent(what, ino, parent, n.lastDir);
                }
                return;
            }
            boolean parked = backend.call(j -> j.zscore(k("delFiles"), Long.toString(ino))) != null;
            if (n.count == 0) {
                if (!parked) {
                    found(Kind.ORPHAN_INODE, what + " (type " + t + ") has no name and is not open after its last unlink",
                            null);
                    return;
                }
                if (!backend.call(j -> j.hexists(k("opens"), Long.toString(ino)))) {
                    found(Kind.ORPHAN_INODE, what + " was unlinked while open, but no session holds it open", null);
                }
                if (nlink != 0) {
                    linkCount(what + " (unlinked, open)", ino, nlink, 0);
                }
                return;
            }
            linkCount(what, ino, nlink, n.count);
            // One name: the parent is its directory. Several: 0, and p<ino> counts the names per directory.
            long expected = n.count == 1 ? n.lastDir : 0;
            if (parent != expected) {
                parent(what, ino, parent, expected);
            }
            parentIndex(what, ino, n);
            if (parked) {
                found(Kind.ORPHAN_INODE, what + " has names but is listed as deleted",
                        j -> j.zrem(k("delFiles"), Long.toString(ino)));
            }
        }

        /** {@code p<ino>} holds the names per directory of a file with several names, and does not exist otherwise. */
        void parentIndex(String what, long ino, Names n) throws FsException {
            Map<String, String> raw = backend.call(j -> j.hgetAll(k("p" + ino)));
            Map<Long, Long> actual = new TreeMap<>();
            try {
                raw.forEach((d, c) -> actual.put(Long.parseLong(d), Long.parseLong(c)));
            } catch (NumberFormatException e) {
                throw Codec.corrupt("parent index of inode " + ino + ": " + raw);
            }
            Map<Long, Long> expected = n.perDir == null ? Map.of() : n.perDir;
            if (!actual.equals(expected)) {
                found(Kind.PARENT, what + " has names per directory " + expected + ", its parent index says " + actual,
                        j -> {
                            j.del(k("p" + ino));
                            for (Map.Entry<Long, Long> e : expected.entrySet()) {
                                j.hset(k("p" + ino), Long.toString(e.getKey()), Long.toString(e.getValue()));
                            }
                        });
            }
        }

        void linkCount(String what, long ino, long nlink, long expected) throws FsException {
            if (nlink != expected) {
                found(Kind.LINK_COUNT, what + " has nlink " + nlink + ", names say " + expected,
                        j -> j.hset(k("i" + ino), "n", Long.toString(expected)));
            }
        }

        void parent(String what, long ino, long parent, long expected) throws FsException {
            found(Kind.PARENT, what + " names parent " + parent + ", " + (expected == 0 ? "it has several names"
                    : "its entry is in " + expected), j -> j.hset(k("i" + ino), "p", Long.toString(expected)));
        }

        /**
         * sliceRef and delSlices against the records counted, and both against the slice index. A slice is
         * referenced (sliceRef) or queued (delSlices), never both; the slice index holds exactly those.
         */
        void checkReferences() throws FsException {
            Set<String> referenced = new HashSet<>();
            ScanParams params = new ScanParams().count(PAGE);
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                String from = cursor;
                ScanResult<Map.Entry<String, String>> r = backend.call(j -> j.hscan(k("sliceRef"), from, params));
                for (Map.Entry<String, String> e : r.getResult()) {
                    String f = e.getKey();
                    long id = Codec.sliceRef(f).id();
                    if (!mine(id) || !referenced.add(f)) {
                        continue;
                    }
                    long refs = number("the reference count of slice " + f, e.getValue());
                    long[] n = records.get(f);
                    long held = n == null ? 0 : n[0];
                    if (held != refs) {
                        found(Kind.REFERENCE_COUNT, "slice " + f + " counts " + refs + " references, " + held
                                + " records name it", j -> {
                                    if (held == 0) {
                                        j.hdel(k("sliceRef"), f);
                                        j.zadd(k("delSlices"), 0, f);
                                    } else {
                                        j.hset(k("sliceRef"), f, Long.toString(held));
                                    }
                                });
                    }
                    indexed(id, f);
                }
                cursor = r.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
            Set<String> queued = new HashSet<>();
            // Every member of delSlices has score 0: page by member.
            String min = "-";
            while (true) {
                String from = min;
                List<String> page = backend.call(j -> j.zrangeByLex(k("delSlices"), from, "+", 0, PAGE));
                for (String f : page) {
                    long id = Codec.sliceRef(f).id();
                    if (!mine(id)) {
                        continue;
                    }
                    queued.add(f);
                    long[] n = records.get(f);
                    if (n != null) {
                        long held = n[0];
                        // Queued while records name it: take it back before gc deletes its blocks.
                        found(Kind.REFERENCE_COUNT, "slice " + f + " is queued for deletion but " + held
                                + " records name it", j -> {
                                    j.zrem(k("delSlices"), f);
                                    j.hset(k("sliceRef"), f, Long.toString(held));
                                });
                    } else if (referenced.contains(f)) {
                        // No record names it (reported above, and that repair queues it): drop the reference.
                        continue;
                    }
                    if (!referenced.contains(f)) {
                        indexed(id, f);
                    }
                }
                if (page.size() < PAGE) {
                    break;
                }
                min = "(" + page.get(page.size() - 1);
            }
            Set<String> unaccounted = new HashSet<>();
            for (Map.Entry<String, long[]> e : records.entrySet()) {
                String f = e.getKey();
                if (referenced.contains(f) || queued.contains(f)) {
                    continue;
                }
                unaccounted.add(f);
                long held = e.getValue()[0];
                long id = Codec.sliceRef(f).id();
                found(Kind.SLICE_INDEX, "slice " + f + " is named by " + held + " records but not counted", j -> {
                    j.hset(k("sliceRef"), f, Long.toString(held));
                    j.zadd(k("slices"), id, f);
                });
            }
            // Strays in the index: members neither referenced, queued nor named by records (reported above).
            double after = Double.NEGATIVE_INFINITY;
            while (true) {
                String from = after == Double.NEGATIVE_INFINITY ? "-inf" : "(" + (long) after;
                List<Tuple> page = backend.call(j -> j.zrangeByScoreWithScores(k("slices"), from, "+inf", 0, PAGE));
                for (Tuple t : page) {
                    String f = t.getElement();
                    long id = (long) t.getScore();
                    if (!mine(id) || referenced.contains(f) || queued.contains(f) || unaccounted.contains(f)) {
                        continue;
                    }
                    found(Kind.SLICE_INDEX, "slice index names " + f + ", which is neither referenced nor queued",
                            j -> j.zrem(k("slices"), f));
                }
                if (page.size() < PAGE) {
                    break;
                }
                double last = page.get(page.size() - 1).getScore();
                if (last == after) {
                    break;
                }
                after = last;
            }
        }

        void indexed(long id, String f) throws FsException {
            if (backend.call(j -> j.zscore(k("slices"), f)) == null) {
                found(Kind.SLICE_INDEX, "slice " + f + " is missing from the slice index",
                        j -> j.zadd(k("slices"), id, f));
            }
        }
    }

    /** A numeric field of an inode hash; a missing or broken one is corrupt metadata. */
    private static long number(long ino, String field, String value) throws FsException {
        return number("field " + field + " of inode " + ino, value);
    }

    private static long number(String what, String value) throws FsException {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw Codec.corrupt(what + " is '" + value + "'");
        }
    }
}
