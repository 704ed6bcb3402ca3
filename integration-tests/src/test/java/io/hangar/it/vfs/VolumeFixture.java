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

    /** The whole file (its length as the engine has it; zeros where a read came up short). */
    static byte[] readAll(Volume v, long inode) throws FsException {
        int len = (int) v.getattr(inode).length();
        return java.util.Arrays.copyOf(read(v, inode, 0, len), len);
    }

    /** Up to {@code len} bytes from {@code position} through a handle of its own (fewer at the end of the file). */
    static byte[] read(Volume v, long inode, long position, int len) throws FsException {
        try (FileHandle h = v.open(Caller.ROOT, inode, OpenFlags.RDONLY)) {
            return read(h, position, len);
        }
    }

    /** Up to {@code len} bytes from {@code position} through {@code h} (fewer at the end of the file). */
    static byte[] read(FileHandle h, long position, int len) throws FsException {
        byte[] b = new byte[len];
        int off = 0;
        while (off < len) {
            int n = h.read(position + off, b, off, len - off);
            if (n == 0) {
                break;
            }
            off += n;
        }
        return java.util.Arrays.copyOf(b, off);
    }

    static long writeFile(Volume v, String name, byte[] data) throws FsException {
        try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, name, 0644, OpenFlags.RDWR | OpenFlags.TRUNC)) {
            h.write(0, data, 0, data.length);
            return h.inode();
        }
    }
}
