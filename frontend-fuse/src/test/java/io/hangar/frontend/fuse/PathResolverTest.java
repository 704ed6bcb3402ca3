package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Caller;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.hangar.vfs.standalone.OpenVolume;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PathResolverTest {
    @TempDir
    Path tmp;
    private OpenVolume volume;
    private long team;
    private long model;

    @BeforeEach
    void open() throws Exception {
        volume = TestVolumes.create(tmp, "paths");
        team = volume.mkdir(Caller.ROOT, Volume.ROOT, "team", 0755).inode();
        model = volume.mkdir(Caller.ROOT, team, "model", 0755).inode();
        volume.mkdir(Caller.ROOT, Volume.ROOT, "secret", 0700);
        volume.create(Caller.ROOT, model, "w.bin", 0644, OpenFlags.WRONLY).close();
    }

    @AfterEach
    void close() throws Exception {
        volume.close();
    }

    private static Errno errno(Executable e) {
        return assertThrows(FsException.class, e::run).errno();
    }

    private interface Executable {
        void run() throws Exception;
    }

    @Test
    void pathsResolveBelowTheMountRootOnly() throws Exception {
        PathResolver sub = new PathResolver(volume, model, 1.0);
        assertEquals(model, sub.inode("/"));
        assertEquals(volume.lookup(model, "w.bin").inode(), sub.inode("/w.bin"));
        assertEquals(model, sub.parent("/w.bin"));
        assertEquals(Errno.ENOENT, errno(() -> sub.inode("/secret")));
        // The engine would resolve ".." to the parent: the resolver never hands it over.
        assertEquals(Errno.EINVAL, errno(() -> sub.inode("/..")));
        assertEquals(Errno.EINVAL, errno(() -> sub.inode("/../secret")));
        assertEquals(Errno.EINVAL, errno(() -> sub.parent("/./x")));
        assertEquals(Errno.ENOTDIR, errno(() -> sub.inode("/w.bin/x")));
    }

    @Test
    void cachedDirectoriesAreForgottenOnLocalChanges() throws Exception {
        PathResolver all = new PathResolver(volume, Volume.ROOT, 60);
        assertEquals(model, all.parent("/team/model/w.bin"));
        volume.rename(Caller.ROOT, Volume.ROOT, "team", Volume.ROOT, "old-team", 0);
        long newTeam = volume.mkdir(Caller.ROOT, Volume.ROOT, "team", 0755).inode();
        assertEquals(model, all.parent("/team/model/w.bin"), "remembered for the entry timeout");
        all.forget("/team");
        assertEquals(Errno.ENOENT, errno(() -> all.parent("/team/model/w.bin")));
        assertEquals(newTeam, all.inode("/team"));
        PathResolver uncached = new PathResolver(volume, Volume.ROOT, 0);
        assertEquals(Errno.ENOENT, errno(() -> uncached.parent("/team/model/w.bin")));
    }

    @Test
    void hiddenNamesStandForUnlinkedOpenFiles() throws Exception {
        assertTrue(PathResolver.hiddenName(".fuse_hidden0000000a00000001"));
        assertFalse(PathResolver.hiddenName(".fuse_hidden0000000a0000000"));
        assertFalse(PathResolver.hiddenName(".fuse_hiddenXXXXXXXXXXXXXXXX"));
        PathResolver all = new PathResolver(volume, Volume.ROOT, 1.0);
        long inode = all.inode("/team/model/w.bin");
        try (FileHandle h = volume.open(Caller.ROOT, inode, OpenFlags.RDONLY)) {
            volume.unlink(Caller.ROOT, model, "w.bin");
            all.hide(".fuse_hidden0000000a00000001", inode);
            assertEquals(inode, all.inode("/team/model/.fuse_hidden0000000a00000001"));
            assertEquals(0, all.entry("/team/model/.fuse_hidden0000000a00000001").attr().nlink());
            all.unhide(inode);
            assertFalse(all.hasHidden());
            assertEquals(Errno.ENOENT, errno(() -> all.inode("/team/model/.fuse_hidden0000000a00000001")));
        }
    }
}
