package io.hangar.meta.redis;

import static io.hangar.meta.redis.Codec.bytes;

import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetaProblem.Kind;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * The keys are read while clients may write: run it on a quiet volume.
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
        return v == null ? 0 : Long.parseLong(v);
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

        /** Entries of one directory, a page of members at a time. */
        void countEntries(long dir) throws FsException {
            byte[] dk = bytes(k("d" + dir));
            for (long start = 0;; start += PAGE) {
                long from = start;
                List<byte[]> page = backend.call(j -> j.zrange(dk, from, from + PAGE - 1));
                List<String[]> entries = new ArrayList<>();
                for (byte[] member : page) {
                    int z = Codec.nameEnd(member);
                    String name = new String(member, 0, z, StandardCharsets.UTF_8);
                    String type = String.valueOf((char) member[z + 1]);
                    long child = Long.parseLong(new String(member, z + 2, member.length - z - 2, StandardCharsets.US_ASCII));
                    if (mine(child)) {
                        entries.add(new String[] {name, type, Long.toString(child), new String(member, StandardCharsets.ISO_8859_1)});
                    }
                    if (mine(dir) && type.equals("d")) {
                        names(dir).subdirs++;
                    }
                }
                List<String> types = backend.call(j -> {
                    try (AbstractPipeline p = j.pipelined()) {
                        List<Response<String>> rs = new ArrayList<>();
                        for (String[] e : entries) {
                            rs.add(p.hget(k("i" + e[2]), "t"));
                        }
                        p.sync();
                        List<String> out = new ArrayList<>();
                        for (Response<String> r : rs) {
                            out.add(r.get());
                        }
                        return out;
                    }
                });
                for (int i = 0; i < entries.size(); i++) {
                    String[] e = entries.get(i);
                    long child = Long.parseLong(e[2]);
                    String where = "entry " + dir + "/" + e[0];
                    byte[] member = e[3].getBytes(StandardCharsets.ISO_8859_1);
                    String actual = types.get(i);
                    if (actual == null) {
                        found(Kind.DANGLING_ENTRY, where + " names missing inode " + child, j -> {
                            j.zrem(dk, member);
                            if (e[1].equals("d")) {
                                j.hincrBy(k("i" + dir), "n", -1);
                            }
                        });
                        if (mine(dir) && e[1].equals("d")) {
                            names(dir).subdirs--;
                        }
                        continue;
                    }
                    if (!actual.equals(e[1])) {
                        found(Kind.ENTRY_TYPE, where + " says type " + e[1] + ", inode " + child + " is " + actual,
                                j -> {
                                    j.zrem(dk, member);
                                    j.zadd(k("d" + dir), 0, e[0] + "\0" + actual + child);
                                });
                    }
                    Names n = names(child);
                    n.count++;
                    n.lastDir = dir;
                }
                if (page.size() < PAGE) {
                    return;
                }
            }
        }

        void countRecords(long ino, int idx) throws FsException {
            byte[] key = bytes(k("c" + ino + "_" + idx));
            List<byte[]> recs = backend.call(j -> j.lrange(key, 0, -1));
            for (byte[] rec : recs) {
                Slice s = Codec.slice(rec);
                if (pass == 0 && (s.pos() < 0 || s.len() <= 0 || s.off() < 0 || s.size() <= 0
                        || (long) s.pos() + s.len() > chunkSize || (long) s.off() + s.len() > s.size())) {
                    found(Kind.BAD_RECORD, "chunk " + idx + " of inode " + ino + " holds impossible record " + s, null);
                }
                if (!s.isHole() && mine(s.id())) {
                    records.computeIfAbsent(s.id() + "_" + s.size(), x -> new long[1])[0]++;
                }
            }
            if (pass == 0 && !recs.isEmpty()) {
                Double score = backend.call(j -> j.zscore(k("C" + ino), Integer.toString(idx)));
                if (score == null) {
                    found(Kind.SLICE_INDEX, "chunk " + idx + " of inode " + ino + " is missing from its chunk index",
                            j -> j.zadd(k("C" + ino), idx, Integer.toString(idx)));
                }
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
            long nlink = Long.parseLong(a.get(1));
            long parent = Long.parseLong(a.get(3));
            if (t.equals("f")) {
                space += (Long.parseLong(a.get(2)) + 4095) / 4096 * 4096;
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
                } else if (nlink != 0) {
                    linkCount(what + " (unlinked, open)", ino, nlink, 0);
                }
                return;
            }
            linkCount(what, ino, nlink, n.count);
            if (n.count == 1 && parent != n.lastDir) {
                parent(what, ino, parent, n.lastDir);
            }
            if (parked) {
                found(Kind.ORPHAN_INODE, what + " has names but is listed as deleted",
                        j -> j.zrem(k("delFiles"), Long.toString(ino)));
            }
        }

        void linkCount(String what, long ino, long nlink, long expected) throws FsException {
            if (nlink != expected) {
                found(Kind.LINK_COUNT, what + " has nlink " + nlink + ", names say " + expected,
                        j -> j.hset(k("i" + ino), "n", Long.toString(expected)));
            }
        }

        void parent(String what, long ino, long parent, long expected) throws FsException {
            found(Kind.PARENT, what + " names parent " + parent + ", its entry is in " + expected,
                    j -> j.hset(k("i" + ino), "p", Long.toString(expected)));
        }

        /** sliceRef and delSlices against the records counted, and both against the slice index. */
        void checkReferences() throws FsException {
            ScanParams params = new ScanParams().count(PAGE);
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                String from = cursor;
                ScanResult<Map.Entry<String, String>> r = backend.call(j -> j.hscan(k("sliceRef"), from, params));
                for (Map.Entry<String, String> e : r.getResult()) {
                    String f = e.getKey();
                    long id = Codec.sliceRef(f).id();
                    if (!mine(id)) {
                        continue;
                    }
                    long refs = Long.parseLong(e.getValue());
                    long[] n = records.remove(f);
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
            for (long start = 0;; start += PAGE) {
                long from = start;
                List<String> page = backend.call(j -> j.zrange(k("delSlices"), from, from + PAGE - 1));
                for (String f : page) {
                    long id = Codec.sliceRef(f).id();
                    if (!mine(id)) {
                        continue;
                    }
                    long[] n = records.remove(f);
                    if (n != null) {
                        long held = n[0];
                        found(Kind.REFERENCE_COUNT, "slice " + f + " is queued for deletion but " + held
                                + " records name it", j -> {
                                    j.zrem(k("delSlices"), f);
                                    j.hset(k("sliceRef"), f, Long.toString(held));
                                });
                    }
                    indexed(id, f);
                }
                if (page.size() < PAGE) {
                    break;
                }
            }
            for (Map.Entry<String, long[]> e : records.entrySet()) {
                String f = e.getKey();
                long held = e.getValue()[0];
                long id = Codec.sliceRef(f).id();
                found(Kind.SLICE_INDEX, "slice " + f + " is named by " + held + " records but not counted", j -> {
                    j.hset(k("sliceRef"), f, Long.toString(held));
                    j.zadd(k("slices"), id, f);
                });
            }
            // Strays in the index: members neither referenced nor queued.
            for (long start = 0;; start += PAGE) {
                long from = start;
                List<Tuple> page = backend.call(j -> j.zrangeWithScores(k("slices"), from, from + PAGE - 1));
                for (Tuple t : page) {
                    String f = t.getElement();
                    long id = (long) t.getScore();
                    if (!mine(id)) {
                        continue;
                    }
                    boolean live = backend.call(j -> j.hexists(k("sliceRef"), f) || j.zscore(k("delSlices"), f) != null);
                    if (!live) {
                        found(Kind.SLICE_INDEX, "slice index names " + f + ", which is neither referenced nor queued",
                                j -> j.zrem(k("slices"), f));
                    }
                }
                if (page.size() < PAGE) {
                    break;
                }
            }
        }

        void indexed(long id, String f) throws FsException {
            if (backend.call(j -> j.zscore(k("slices"), f)) == null) {
                found(Kind.SLICE_INDEX, "slice " + f + " is missing from the slice index",
                        j -> j.zadd(k("slices"), id, f));
            }
        }
    }
}
