package io.hangar.frontend.http.s3;

import io.hangar.fs.Attr;
import io.hangar.fs.Caller;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Buckets and objects over the public {@link Volume} API (every method blocks: call it off the event loop).
 * A bucket is a top-level directory; an object is a regular file below it, or a directory marked as a
 * directory marker ({@code key/}). What S3 keeps beside the bytes lives in extended attributes:
 * {@value #XA_ETAG} ("etag length mtimeNs": the ETag is trusted only while the file's length and mtime are
 * those it was computed for), {@value #XA_HEADERS} (Content-Type, Cache-Control, x-amz-meta-*, … one
 * "name:value" a line) and {@value #XA_MARKER}. The gateway's own state is under {@value Keys#STATE_DIR} at
 * the root: {@code tmp/} (objects being written; renamed into place when whole) and {@code uploads/}
 * (multipart uploads, shared by every gateway on the volume).
 */
final class ObjectStore {
    private static final Logger LOG = Logger.getLogger(ObjectStore.class.getName());
    static final String XA_ETAG = "user.s3.etag";
    static final String XA_HEADERS = "user.s3.headers";
    static final String XA_MARKER = "user.s3.marker";
    static final String XA_UPLOAD = "user.s3.upload";
    static final String EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e";
    static final Caller CALLER = Caller.ROOT;
    private static final SecureRandom RANDOM = new SecureRandom();

    final Volume volume;
    final boolean readOnly;
    final long stateDir;
    final long tmpDir;
    final long uploadsDir;

    ObjectStore(Volume volume, boolean readOnly) throws FsException {
        this.volume = volume;
        this.readOnly = readOnly;
        if (readOnly) {
            stateDir = tmpDir = uploadsDir = -1;
        } else {
            stateDir = mkdirs(Volume.ROOT, Keys.STATE_DIR, 0700);
            tmpDir = mkdirs(stateDir, "tmp", 0700);
            uploadsDir = mkdirs(stateDir, "uploads", 0700);
        }
    }

    /** A stored object (or directory marker) and what S3 keeps about it. */
    record Info(String key, long inode, long length, long mtimeNs, String etag, Map<String, String> headers,
            boolean marker) {
    }

    // ---- buckets

    record Bucket(String name, long ctimeNs) {
    }

    List<Bucket> buckets() throws FsException {
        List<Bucket> out = new ArrayList<>();
        for (DirEntry e : readdirAll(Volume.ROOT)) {
            if (e.type() == FileType.DIRECTORY && !e.name().startsWith(".")) {
                out.add(new Bucket(e.name(), e.attr() != null ? e.attr().mtimeNs() : 0));
            }
        }
        out.sort((a, b) -> Keys.compare(a.name(), b.name()));
        return out;
    }

    long bucket(String name) throws S3Error {
        Keys.checkBucket(name);
        try {
            Entry e = volume.lookup(Volume.ROOT, name);
            if (!e.attr().isDirectory()) {
                throw S3Error.noSuchBucket(name);
            }
            return e.inode();
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                throw S3Error.noSuchBucket(name);
            }
            throw S3Error.of(e, name);
        }
    }

    void createBucket(String name) throws S3Error {
        Keys.checkBucket(name);
        writable();
        try {
            volume.mkdir(CALLER, Volume.ROOT, name, 0755);
        } catch (FsException e) {
            if (e.errno() == Errno.EEXIST) {
                throw new S3Error(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket "
                        + "succeeded and you already own it: " + name);
            }
            throw S3Error.of(e, name);
        }
    }

    void deleteBucket(String name) throws S3Error {
        bucket(name);
        writable();
        try {
            volume.rmdir(CALLER, Volume.ROOT, name);
        } catch (FsException e) {
            if (e.errno() == Errno.ENOTEMPTY || e.errno() == Errno.EEXIST) {
                throw new S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty: " + name);
            }
            throw S3Error.of(e, name);
        }
    }

    void writable() throws S3Error {
        if (readOnly) {
            throw S3Error.accessDenied("this gateway serves the volume read-only");
        }
    }

    // ---- objects

    /** The object {@code key} of the bucket whose directory is {@code bucket}; NoSuchKey if there is none. */
    Info stat(long bucket, String key) throws S3Error {
        return open(bucket, key, false).info();
    }

    /** An object and, if asked for and it is a file, a read handle on exactly that inode. */
    record Opened(Info info, FileHandle handle) {
    }

    /**
     * Resolves a key and reads what is kept with it (and opens it): the name always leads to a whole
     * object, but a PUT renaming over it may free the inode just found before its attributes are read or it
     * is opened; then the name is resolved again, to the new object (a few times at most).
     */
    Opened open(long bucket, String key, boolean handle) throws S3Error {
        Keys.checkKey(key);
        for (int attempt = 0;; attempt++) {
            Entry e;
            try {
                e = resolve(bucket, key);
            } catch (FsException ex) {
                if (ex.errno() == Errno.ENOENT || ex.errno() == Errno.ENOTDIR) {
                    throw S3Error.noSuchKey(key);
                }
                throw S3Error.of(ex, key);
            }
            if (e == null) {
                throw S3Error.noSuchKey(key);
            }
            try {
                // The lookup's attributes are the engine's answer of a moment ago, as a getattr would be.
                Info i = info(key, e.attr() != null ? e.attr() : volume.getattr(e.inode()));
                FileHandle h = handle && !i.marker() ? volume.open(CALLER, e.inode(), OpenFlags.RDONLY) : null;
                return new Opened(i, h);
            } catch (FsException ex) {
                if (ex.errno() != Errno.ENOENT || attempt >= 8) {
                    throw S3Error.of(ex, key);
                }
            }
        }
    }

    /** The entry a key names: a regular file, or a marked directory for {@code key/}; null otherwise. */
    private Entry resolve(long bucket, String key) throws FsException {
        boolean dirKey = key.endsWith("/");
        String body = dirKey ? key.substring(0, key.length() - 1) : key;
        long dir = bucket;
        Entry e = null;
        for (String seg : body.split("/")) {
            e = volume.lookup(dir, seg);
            dir = e.inode();
        }
        if (dirKey) {
            return e.attr().isDirectory() && hasXattr(e.inode(), XA_MARKER) ? e : null;
        }
        return e.attr().type() == FileType.FILE ? e : null;
    }

    Info info(String key, Attr a) throws FsException {
        return info(key, a, true);
    }

    /** What is kept with an object; listings and part lists leave the headers out (one engine call less). */
    Info info(String key, Attr a, boolean withHeaders) throws FsException {
        String etag = null;
        byte[] stored = xattr(a.inode(), XA_ETAG);
        if (stored != null) {
            String[] p = new String(stored, StandardCharsets.UTF_8).split(" ");
            if (p.length == 3 && (a.isDirectory() || (Long.parseLong(p[1]) == a.length()
                    && Long.parseLong(p[2]) == a.mtimeNs()))) {
                etag = p[0];
            }
        }
        if (etag == null) {
            etag = syntheticEtag(a);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        byte[] h = withHeaders ? xattr(a.inode(), XA_HEADERS) : null;
        if (h != null) {
            for (String line : new String(h, StandardCharsets.UTF_8).split("\n")) {
                int c = line.indexOf(':');
                if (c > 0) {
                    headers.put(line.substring(0, c), line.substring(c + 1));
                }
            }
        }
        return new Info(key, a.inode(), a.isDirectory() ? 0 : a.length(), a.mtimeNs(), etag, headers,
                a.isDirectory());
    }

    /**
     * The ETag of a file whose bytes the gateway did not write (or that changed through a mount since): not
     * an MD5 but a hash of inode, length and mtime, in the multipart form ("-1") so that no client compares
     * it with an MD5 of the bytes. It changes whenever the file does.
     */
    static String syntheticEtag(Attr a) {
        MessageDigest md = md5();
        md.update((a.inode() + ":" + a.length() + ":" + a.mtimeNs()).getBytes(StandardCharsets.US_ASCII));
        return HexFormat.of().formatHex(md.digest()) + "-1";
    }

    FileHandle open(long inode) throws FsException {
        return volume.open(CALLER, inode, OpenFlags.RDONLY);
    }

    /** A new, empty file in tmp/ that a PUT writes into. */
    record Temp(long dir, String name, FileHandle handle) {
    }

    /**
     * Closes a written temporary file (committing its data) and returns its attributes. By its inode: the
     * name is checked by the rename that follows, which fails if the file is gone.
     */
    Attr closeWritten(Temp t) throws FsException {
        t.handle().close();
        return volume.getattr(t.handle().inode());
    }

    Temp temp() throws S3Error {
        writable();
        String name = "put-" + randomId();
        try {
            FileHandle h = volume.create(CALLER, tmpDir, name, 0644, OpenFlags.RDWR | OpenFlags.CREAT | OpenFlags.EXCL);
            return new Temp(tmpDir, name, h);
        } catch (FsException e) {
            throw S3Error.of(e, name);
        }
    }

    /** Closes and removes a temporary file: a PUT that failed leaves nothing. */
    void discard(Temp t) {
        try {
            t.handle().close();
        } catch (FsException | RuntimeException e) {
            LOG.fine("closing " + t.name() + ": " + e.getMessage());
        }
        try {
            volume.unlink(CALLER, t.dir(), t.name());
        } catch (FsException e) {
            if (e.errno() != Errno.ENOENT) {
                LOG.warning("cannot remove " + Keys.STATE_DIR + "/tmp/" + t.name() + ": " + e.getMessage());
            }
        }
    }

    /**
     * Makes a written temporary file the object {@code key}: stamps its ETag (with the length and mtime it
     * is valid for) and headers, creates the key's directories and renames it into place. A rename is atomic:
     * readers see the old object or the new one, and of two PUTs the last rename wins.
     */
    Info commit(long bucket, String key, Temp t, String etag, Map<String, String> headers) throws S3Error {
        try {
            Attr a = closeWritten(t);
            stampNew(a, etag, headers);
            if (key.endsWith("/")) {
                throw S3Error.invalidArgument("a key ending in '/' is a directory marker and takes no data");
            }
            renameIntoPlace(t, bucket, key);
            return new Info(key, a.inode(), a.length(), a.mtimeNs(), etag, headers, false);
        } catch (FsException e) {
            discard(t);
            throw S3Error.of(e, key);
        } catch (S3Error e) {
            discard(t);
            throw e;
        }
    }

    /** Records the ETag (valid for the node's length and mtime) and the headers, removing headers it had. */
    void stamp(Attr a, String etag, Map<String, String> headers) throws FsException {
        if (!stampNew(a, etag, headers) && hasXattr(a.inode(), XA_HEADERS)) {
            volume.removexattr(CALLER, a.inode(), XA_HEADERS);
        }
    }

    /**
     * As {@link #stamp}, for a file this gateway has just created (a temporary file): it has no headers to
     * remove, so none are looked for. Returns whether headers were written.
     */
    boolean stampNew(Attr a, String etag, Map<String, String> headers) throws FsException {
        volume.setxattr(CALLER, a.inode(), XA_ETAG, (etag + " " + a.length() + " " + a.mtimeNs())
                .getBytes(StandardCharsets.UTF_8), 0);
        StringBuilder sb = new StringBuilder();
        headers.forEach((k, v) -> sb.append(k).append(':').append(v).append('\n'));
        if (sb.length() == 0) {
            return false;
        }
        volume.setxattr(CALLER, a.inode(), XA_HEADERS, sb.toString().getBytes(StandardCharsets.UTF_8), 0);
        return true;
    }

    /** A directory marker: {@code key/} as a directory with the marker attribute. */
    Info putMarker(long bucket, String key, Map<String, String> headers) throws S3Error {
        writable();
        try {
            long dir = mkdirsForKey(bucket, key.substring(0, key.length() - 1), key);
            volume.setxattr(CALLER, dir, XA_MARKER, new byte[] {'1'}, 0);
            Attr a = volume.getattr(dir);
            stamp(a, EMPTY_MD5, headers);
            return new Info(key, dir, 0, a.mtimeNs(), EMPTY_MD5, headers, true);
        } catch (FsException e) {
            throw S3Error.of(e, key);
        }
    }

    /**
     * Renames a temporary file onto {@code key}, creating the key's directories. A DELETE of the last object
     * under a prefix removes the prefix's directories (as {@link #prune} does, in this gateway or another)
     * and may do so between their lookup or creation here and the rename; then they are created again, a
     * few times at most.
     */
    private void renameIntoPlace(Temp t, long bucket, String key) throws FsException, S3Error {
        int slash = key.lastIndexOf('/');
        String leaf = key.substring(slash + 1);
        for (int attempt = 0;; attempt++) {
            try {
                long parent = slash < 0 ? bucket : mkdirsForKey(bucket, key.substring(0, slash), key);
                volume.rename(CALLER, t.dir(), t.name(), parent, leaf, 0);
                return;
            } catch (FsException e) {
                if (e.errno() != Errno.ENOENT || slash < 0 || attempt >= 8) {
                    throw e;
                }
            }
        }
    }

    private long mkdirsForKey(long bucket, String path, String key) throws FsException, S3Error {
        long dir = bucket;
        for (String seg : path.split("/")) {
            Entry e;
            try {
                e = volume.lookup(dir, seg);
            } catch (FsException ex) {
                if (ex.errno() != Errno.ENOENT) {
                    throw ex;
                }
                try {
                    e = volume.mkdir(CALLER, dir, seg, 0755);
                } catch (FsException raced) {
                    if (raced.errno() != Errno.EEXIST) {
                        throw raced;
                    }
                    e = volume.lookup(dir, seg);
                }
            }
            if (!e.attr().isDirectory()) {
                throw new S3Error(409, "InvalidRequest", "the key " + key + " needs '" + seg
                        + "' to be a prefix, but it is an object");
            }
            dir = e.inode();
        }
        return dir;
    }

    /** Deletes an object or directory marker; a missing key is no error (S3 answers 204 either way). */
    void delete(long bucket, String key) throws S3Error {
        Keys.checkKey(key);
        writable();
        boolean dirKey = key.endsWith("/");
        String body = dirKey ? key.substring(0, key.length() - 1) : key;
        String[] segs = body.split("/");
        long[] dirs = new long[segs.length];
        long dir = bucket;
        try {
            for (int i = 0; i < segs.length - 1; i++) {
                dirs[i] = dir;
                dir = volume.lookup(dir, segs[i]).inode();
            }
            dirs[segs.length - 1] = dir;
            String leaf = segs[segs.length - 1];
            Entry e = volume.lookup(dir, leaf);
            if (dirKey) {
                if (!e.attr().isDirectory() || !hasXattr(e.inode(), XA_MARKER)) {
                    return;
                }
                volume.removexattr(CALLER, e.inode(), XA_MARKER);
                try {
                    volume.rmdir(CALLER, dir, leaf);
                } catch (FsException notEmpty) {
                    // Objects below it: the prefix stays, the marker is gone.
                }
            } else {
                if (e.attr().type() != FileType.FILE) {
                    return;
                }
                volume.unlink(CALLER, dir, leaf);
            }
            prune(dirs, segs, segs.length - 2);
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENOTDIR) {
                return;
            }
            throw S3Error.of(e, key);
        }
    }

    /** Removes directories left empty by a delete, up to the bucket, unless they are markers. */
    private void prune(long[] dirs, String[] segs, int from) {
        for (int i = from; i >= 0; i--) {
            try {
                long d = volume.lookup(dirs[i], segs[i]).inode();
                if (hasXattr(d, XA_MARKER) || !volume.readdir(d, null, 1, false).isEmpty()) {
                    return;
                }
                volume.rmdir(CALLER, dirs[i], segs[i]);
            } catch (FsException e) {
                return;
            }
        }
    }

    /** Metadata-only copy: the source's slices are shared ({@link Volume#clone}); the ETag carries over. */
    Info copy(long srcBucket, String srcKey, long dstBucket, String dstKey, Map<String, String> replaceHeaders)
            throws S3Error {
        writable();
        Info src = stat(srcBucket, srcKey);
        if (src.marker()) {
            return putMarker(dstBucket, dstKey, replaceHeaders != null ? replaceHeaders : src.headers());
        }
        String name = "copy-" + randomId();
        try {
            Entry c = volume.clone(CALLER, src.inode(), tmpDir, name);
            Temp t = new Temp(tmpDir, name, null);
            Attr a = c.attr();
            stamp(a, src.etag(), replaceHeaders != null ? replaceHeaders : src.headers());
            try {
                renameIntoPlace(t, dstBucket, dstKey);
            } catch (FsException | S3Error e) {
                unlinkQuietly(t.dir(), t.name());
                throw e;
            }
            // The clone's own attributes: a PUT of the same key may already have replaced (and freed) it.
            return new Info(dstKey, a.inode(), a.length(), a.mtimeNs(), src.etag(),
                    replaceHeaders != null ? replaceHeaders : src.headers(), false);
        } catch (FsException e) {
            throw S3Error.of(e, dstKey);
        }
    }

    void unlinkQuietly(long dir, String name) {
        try {
            volume.unlink(CALLER, dir, name);
        } catch (FsException e) {
            LOG.fine("unlink " + name + ": " + e.getMessage());
        }
    }

    /** Removes a tree (rm -r); missing entries are fine. */
    void removeTree(long parent, String name) throws FsException {
        Entry e;
        try {
            e = volume.lookup(parent, name);
        } catch (FsException ex) {
            if (ex.errno() == Errno.ENOENT) {
                return;
            }
            throw ex;
        }
        if (e.attr().isDirectory()) {
            List<DirEntry> children;
            while (!(children = volume.readdir(e.inode(), null, 1000, false)).isEmpty()) {
                for (DirEntry c : children) {
                    removeTree(e.inode(), c.name());
                }
            }
            volume.rmdir(CALLER, parent, name);
        } else {
            try {
                volume.unlink(CALLER, parent, name);
            } catch (FsException ex) {
                if (ex.errno() != Errno.ENOENT) {
                    throw ex;
                }
            }
        }
    }

    // ---- helpers

    List<DirEntry> readdirAll(long dir) throws FsException {
        List<DirEntry> out = new ArrayList<>();
        String after = null;
        while (true) {
            List<DirEntry> page = volume.readdir(dir, after, 1000, true);
            if (page.isEmpty()) {
                return out;
            }
            for (DirEntry e : page) {
                if (!e.name().equals(".") && !e.name().equals("..")) {
                    out.add(e);
                }
            }
            after = page.get(page.size() - 1).name();
        }
    }

    byte[] xattr(long inode, String name) throws FsException {
        try {
            return volume.getxattr(inode, name);
        } catch (FsException e) {
            if (e.errno() == Errno.ENODATA || e.errno() == Errno.EOPNOTSUPP) {
                return null;
            }
            throw e;
        }
    }

    boolean hasXattr(long inode, String name) throws FsException {
        return xattr(inode, name) != null;
    }

    private long mkdirs(long parent, String name, int mode) throws FsException {
        try {
            return volume.lookup(parent, name).inode();
        } catch (FsException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
        }
        try {
            return volume.mkdir(CALLER, parent, name, mode).inode();
        } catch (FsException e) {
            if (e.errno() == Errno.EEXIST) {
                return volume.lookup(parent, name).inode();
            }
            throw e;
        }
    }

    static String randomId() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
