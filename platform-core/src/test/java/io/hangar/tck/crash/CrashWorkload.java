package io.hangar.tck.crash;

import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.MetadataEngineProvider;
import io.hangar.spi.meta.Slice;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;

/**
 * The victim of {@link MetaCrashTck}: drives an engine, in a JVM of its own, through a seeded mix of every
 * mutation that holds references or open state — createFile and mknod, writeSlice into two chunks, copyRange of one file's
 * range over another's, truncate, compaction, rename over existing names, open, release, and unlink of open and of closed files — and after each call
 * returns prints the touched file's state as read back from the engine: {@code name ino length records}
 * (records of chunks 0 and 1 in hex), or {@code name -} once the name is gone, then {@code .}. Before each
 * call it prints {@code ? name other}, the names the call may change, and every slice id before it is
 * written, as {@code +id}. It runs until killed (bounded, in case nobody does).
 *
 * <p>Usage: {@code CrashWorkload META-URL SEED}
 */
public final class CrashWorkload {
    static final int FILES = 16;
    static final int CHUNK_SPAN = 2;

    private CrashWorkload() {
    }

    public static void main(String[] args) throws Exception {
        URI url = new URI(args[0]);
        Random r = new Random(Long.parseLong(args[1]));
        MetadataEngineProvider provider = ServiceLoader.load(MetadataEngineProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p.schemes().contains(url.getScheme())).findFirst()
                .orElseThrow(() -> new IllegalStateException("no engine for " + url));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        try (MetadataEngine m = provider.open(url)) {
            int cs = m.load().orElseThrow().chunkSize();
            long session = m.openSession("crash-workload");
            Map<Long, Integer> opens = new HashMap<>();
            for (int op = 0; op < 200_000; op++) {
                String name = "f" + r.nextInt(FILES);
                String other = "f" + r.nextInt(FILES);
                long ino = inode(m, name);
                int kind = r.nextInt(100);
                // The names this call may change, printed before it runs: if it is killed midway, they may hold
                // either their state before or after it.
                out.println("? " + name + " " + other);
                out.flush();
                if (ino == 0 || kind < 35) {
                    if (ino == 0) {
                        // Both ways a file is made: createFile is not synced at once, but must survive a kill.
                        ino = (op & 1) == 0 ? m.createFile(MetadataEngine.ROOT, name, 0644, 0, 0).inode()
                                : m.mknod(MetadataEngine.ROOT, name, FileType.FILE, 0644, 0, 0, 0, null).inode();
                    }
                    int chunk = r.nextInt(CHUNK_SPAN);
                    int pos = r.nextInt(cs - 8192);
                    int len = 1 + r.nextInt(8192);
                    long id = m.newSliceIds(1);
                    out.println("+" + id);
                    out.flush();
                    m.writeSlice(ino, chunk, new Slice(id, len, 0, len, pos), System.nanoTime());
                } else if (kind < 41) {
                    // A range of one file over another's, crossing chunk boundaries: both names' states follow.
                    long dst = other.equals(name) ? 0 : inode(m, other);
                    if (dst != 0) {
                        long len = 1 + r.nextInt(cs);
                        long srcOff = r.nextInt(CHUNK_SPAN * cs);
                        long dstOff = r.nextInt((int) (CHUNK_SPAN * cs - len));
                        m.copyRange(ino, srcOff, dst, dstOff, len, System.nanoTime());
                        out.println(state(m, other, dst, cs));
                    }
                } else if (kind < 47) {
                    long len = (long) r.nextInt(CHUNK_SPAN * cs);
                    m.truncate(ino, len);
                } else if (kind < 59) {
                    int chunk = r.nextInt(CHUNK_SPAN);
                    List<Slice> recs = m.readChunk(ino, chunk);
                    if (recs.size() >= 2) {
                        int from = recs.stream().mapToInt(Slice::pos).min().orElseThrow();
                        int to = recs.stream().mapToInt(Slice::end).max().orElseThrow();
                        long id = m.newSliceIds(1);
                        out.println("+" + id);
                        out.flush();
                        m.compactChunk(ino, chunk, recs, List.of(new Slice(id, to - from, 0, to - from, from)));
                    }
                } else if (kind < 69) {
                    if (!other.equals(name)) {
                        m.rename(MetadataEngine.ROOT, name, MetadataEngine.ROOT, other, 0);
                        out.println(name + " -");
                        name = other;
                    }
                } else if (kind < 79) {
                    m.open(session, ino);
                    opens.merge(ino, 1, Integer::sum);
                } else if (kind < 89) {
                    if (opens.getOrDefault(ino, 0) > 0) {
                        m.release(session, ino);
                        opens.merge(ino, -1, Integer::sum);
                    }
                } else {
                    m.unlink(MetadataEngine.ROOT, name);
                    out.println(name + " -");
                    out.println(".");
                    out.flush();
                    continue;
                }
                out.println(state(m, name, ino, cs));
                out.println(".");
                out.flush();
            }
        }
    }

    /** The inode of a name in the root, 0 if there is none. */
    static long inode(MetadataEngine m, String name) throws FsException {
        try {
            return m.lookup(MetadataEngine.ROOT, name).inode();
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                return 0;
            }
            throw e;
        }
    }

    /** One line: name, inode, length and the records of the chunks the workload writes. */
    static String state(MetadataEngine m, String name, long ino, int cs) throws FsException {
        StringBuilder b = new StringBuilder(name).append(' ').append(ino).append(' ').append(m.getattr(ino).length());
        for (int c = 0; c < CHUNK_SPAN; c++) {
            b.append(' ').append(c).append(':');
            for (Slice s : m.readChunk(ino, c)) {
                b.append(HexFormat.of().toHexDigits(s.id())).append(HexFormat.of().toHexDigits(s.size()))
                        .append(HexFormat.of().toHexDigits(s.off())).append(HexFormat.of().toHexDigits(s.len()))
                        .append(HexFormat.of().toHexDigits(s.pos()));
            }
        }
        return b.toString();
    }
}
