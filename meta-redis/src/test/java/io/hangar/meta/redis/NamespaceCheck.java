package io.hangar.meta.redis;

import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.StatFs;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * An fsck for tests: walks the tree through the engine and cross-checks the raw keys. Returns the list of
 * violations (empty when consistent): every entry points to an existing inode of the entry's type, link
 * counts equal the number of names (plus subdirectories for directories), directories name their parent,
 * no inode is unreachable unless parked as deleted-but-open, the counters equal recomputed values, and
 * every slice reference count equals the number of records naming the slice.
 */
final class NamespaceCheck {
    private NamespaceCheck() {
    }

    static List<String> run(MetadataEngine engine, int port, String prefix) throws FsException {
        List<String> bad = new ArrayList<>();
        Map<Long, Integer> names = new HashMap<>();
        Map<Long, Attr> attrs = new HashMap<>();
        Deque<Long> dirs = new ArrayDeque<>(List.of(MetadataEngine.ROOT));
        attrs.put(MetadataEngine.ROOT, engine.getattr(MetadataEngine.ROOT));
        while (!dirs.isEmpty()) {
            long dir = dirs.pop();
            int subdirs = 0;
            String after = null;
            while (true) {
                List<DirEntry> page = engine.readdir(dir, after, 500, true);
                if (page.isEmpty()) {
                    break;
                }
                for (DirEntry e : page) {
                    after = e.name();
                    Attr a = e.attr();
                    if (a == null) {
                        bad.add("entry " + dir + "/" + e.name() + " -> missing inode " + e.inode());
                        continue;
                    }
                    if (a.type() != e.type()) {
                        bad.add("entry " + dir + "/" + e.name() + " has type " + e.type() + ", inode " + a.type());
                    }
                    names.merge(e.inode(), 1, Integer::sum);
                    attrs.put(e.inode(), a);
                    if (a.type() == FileType.DIRECTORY) {
                        subdirs++;
                        if (a.parent() != dir) {
                            bad.add("directory " + e.inode() + " names parent " + a.parent() + ", is in " + dir);
                        }
                        dirs.push(e.inode());
                    }
                }
            }
            Attr da = attrs.get(dir);
            if (da.nlink() != 2 + subdirs) {
                bad.add("directory " + dir + " has nlink " + da.nlink() + ", expected " + (2 + subdirs));
            }
        }
        long space = 0;
        for (Map.Entry<Long, Attr> e : attrs.entrySet()) {
            Attr a = e.getValue();
            if (a.type() != FileType.DIRECTORY && a.nlink() != names.get(e.getKey())) {
                bad.add("inode " + e.getKey() + " has nlink " + a.nlink() + " but " + names.get(e.getKey()) + " names");
            }
            if (a.type() == FileType.DIRECTORY && e.getKey() != MetadataEngine.ROOT && names.get(e.getKey()) != 1) {
                bad.add("directory " + e.getKey() + " has " + names.get(e.getKey()) + " names");
            }
            if (a.type() == FileType.FILE) {
                space += (a.length() + 4095) / 4096 * 4096;
            }
        }

        try (RedisClient raw = RedisClient.create("127.0.0.1", port)) {
            Set<Long> parked = new HashSet<>();
            for (String s : raw.zrange(prefix + "delFiles", 0, -1)) {
                long ino = Long.parseLong(s);
                parked.add(ino);
                Attr a = engine.getattr(ino);
                if (a.nlink() != 0) {
                    bad.add("deleted-but-open inode " + ino + " has nlink " + a.nlink());
                }
                if (a.type() == FileType.FILE) {
                    space += (a.length() + 4095) / 4096 * 4096;
                }
            }
            Set<Long> stored = new HashSet<>();
            Map<String, Long> refs = new HashMap<>();
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                ScanResult<String> r = raw.scan(cursor, new ScanParams().match(escape(prefix) + "*").count(1000));
                for (String k : r.getResult()) {
                    String key = k.substring(prefix.length());
                    if (key.matches("i\\d+")) {
                        stored.add(Long.parseLong(key.substring(1)));
                    } else if (key.matches("c\\d+_\\d+")) {
                        for (byte[] rec : raw.lrange(k.getBytes(StandardCharsets.UTF_8), 0, -1)) {
                            Slice s = Codec.slice(rec);
                            if (!s.isHole()) {
                                refs.merge(s.id() + "_" + s.size(), 1L, Long::sum);
                            }
                        }
                    }
                }
                cursor = r.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
            for (long ino : stored) {
                if (!attrs.containsKey(ino) && !parked.contains(ino)) {
                    bad.add("inode " + ino + " is stored but unreachable");
                }
            }
            Map<String, String> counted = raw.hgetAll(prefix + "sliceRef");
            Map<String, Long> countedRefs = new HashMap<>();
            counted.forEach((k, v) -> countedRefs.put(k, Long.parseLong(v)));
            if (!countedRefs.equals(refs)) {
                bad.add("slice references " + countedRefs + " but records " + refs);
            }
            StatFs fs = engine.statfs();
            if (fs.usedInodes() != stored.size()) {
                bad.add("usedInodes " + fs.usedInodes() + ", stored inodes " + stored.size());
            }
            if (fs.usedBytes() != space) {
                bad.add("usedBytes " + fs.usedBytes() + ", recomputed " + space);
            }
        }
        return bad;
    }

    private static String escape(String glob) {
        return glob.replaceAll("([\\[\\]*?\\\\])", "\\\\$1");
    }
}
