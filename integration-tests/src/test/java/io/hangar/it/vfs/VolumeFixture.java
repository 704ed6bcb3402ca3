package io.hangar.it.vfs;

import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.hangar.vfs.standalone.Volumes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/** A volume on the embedded engines (SQLite metadata, local-directory store) in a temporary folder. */
final class VolumeFixture {
    final Path dir;
    final String metaUrl;
    final String storeUrl;
    private String name;

    VolumeFixture(Path dir) {
        this.dir = dir;
        this.metaUrl = "sqlite://" + dir.resolve("meta.db");
        this.storeUrl = "file://" + dir.resolve("chunks");
    }

    VolumeFixture format(String name, Map<String, String> options) throws FsException {
        Volumes.format(metaUrl, name, storeUrl, options);
        this.name = name;
        return this;
    }

    VfsVolume open() throws FsException {
        return open(Map.of());
    }

    VfsVolume open(Map<String, String> options) throws FsException {
        Map<String, String> o = new HashMap<>(options);
        o.putIfAbsent("buffer-size", "64M");
        o.putIfAbsent("cache-size", "64M");
        return (VfsVolume) Volumes.open(metaUrl, o);
    }

    /** Block objects currently in the store: files below {@code <store>/<volume>/chunks/}. */
    long blockObjects() throws IOException {
        Path blocks = dir.resolve("chunks").resolve(name).resolve("chunks");
        if (!Files.isDirectory(blocks)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(blocks)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    static byte[] readAll(Volume v, long inode) throws FsException {
        long len = v.getattr(inode).length();
        byte[] out = new byte[(int) len];
        try (FileHandle h = v.open(Caller.ROOT, inode, OpenFlags.RDONLY)) {
            int off = 0;
            while (off < out.length) {
                int n = h.read(off, out, off, out.length - off);
                if (n == 0) {
                    break;
                }
                off += n;
            }
        }
        return out;
    }

    static long writeFile(Volume v, String name, byte[] data) throws FsException {
        try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, name, 0644, OpenFlags.RDWR | OpenFlags.TRUNC)) {
            h.write(0, data, 0, data.length);
            return h.inode();
        }
    }
}
