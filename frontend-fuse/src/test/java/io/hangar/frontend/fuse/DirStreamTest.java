package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.hangar.fs.Caller;
import io.hangar.fs.DirEntry;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.Volume;
import io.hangar.vfs.standalone.OpenVolume;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirStreamTest {
    @TempDir
    Path tmp;
    private OpenVolume volume;
    private long dir;

    @BeforeEach
    void open() throws Exception {
        volume = TestVolumes.create(tmp, "dirs");
        dir = volume.mkdir(Caller.ROOT, Volume.ROOT, "big", 0755).inode();
    }

    @AfterEach
    void close() throws Exception {
        volume.close();
    }

    private void create(String name) throws Exception {
        volume.create(Caller.ROOT, dir, name, 0644, OpenFlags.WRONLY).close();
    }

    private static List<String> names(DirStream s, long from) throws Exception {
        List<String> out = new ArrayList<>();
        for (long i = from;; i++) {
            DirEntry e = s.get(i);
            if (e == null) {
                return out;
            }
            out.add(e.name());
        }
    }

    @Test
    void offsetsStayValidAcrossBatchesAndSeeks() throws Exception {
        int n = 3 * DirStream.BATCH + 17;
        for (int i = 0; i < n; i++) {
            create(String.format("f%05d", i));
        }
        DirStream s = new DirStream(volume, dir);
        List<String> all = names(s, 0);
        assertEquals(n, all.size());
        assertEquals(n, new HashSet<>(all).size(), "no duplicates");
        // A telldir cookie read back later, from far behind and far ahead, names the same entry.
        for (long at : new long[] {n - 1, 5, 2L * DirStream.BATCH, DirStream.BATCH - 1, 1}) {
            assertEquals(all.get((int) at), s.get(at).name(), "entry " + at);
        }
        assertNull(s.get(n), "past the end");
        DirStream fresh = new DirStream(volume, dir);
        assertEquals(all.get(2 * DirStream.BATCH + 3), fresh.get(2L * DirStream.BATCH + 3).name(),
                "a seek into unread batches reads forward to them");
    }

    @Test
    void readingOnWhileTheDirectoryChangesNeverRepeatsOrLosesAnEntry() throws Exception {
        int n = 2 * DirStream.BATCH + 100;
        for (int i = 0; i < n; i++) {
            create(String.format("f%05d", i));
        }
        DirStream s = new DirStream(volume, dir);
        List<String> seen = new ArrayList<>();
        for (long i = 0; i < 300; i++) {
            seen.add(s.get(i).name());
        }
        Set<String> removed = new HashSet<>();
        for (int i = 600; i < 700; i++) {
            String name = String.format("f%05d", i);
            volume.unlink(Caller.ROOT, dir, name);
            removed.add(name);
        }
        for (int i = 0; i < 50; i++) {
            create(String.format("g%05d", i));
        }
        seen.addAll(names(s, 300));
        assertEquals(seen.size(), new HashSet<>(seen).size(), "no entry twice");
        for (int i = 0; i < n; i++) {
            String name = String.format("f%05d", i);
            if (!removed.contains(name)) {
                assertEquals(true, seen.contains(name), name + " was there throughout and must be listed");
            }
        }
    }

    @Test
    void emptyDirectory() throws Exception {
        assertNull(new DirStream(volume, dir).get(0));
    }
}
