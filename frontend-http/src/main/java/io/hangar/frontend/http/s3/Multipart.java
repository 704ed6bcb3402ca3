package io.hangar.frontend.http.s3;

import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Multipart uploads, kept in the volume so that every gateway on it shares them: {@code .hangar-s3/uploads/
 * <upload id>/} is a directory whose {@value ObjectStore#XA_UPLOAD} attribute names bucket and key (and
 * whose headers attribute holds the object's headers), with one file {@code part-NNNNN} per uploaded part
 * (its MD5 ETag stamped as on objects). A part is written to tmp/ and renamed in, so a part is whole or
 * absent. Complete and abort first rename the upload directory away (to tmp/): of two racing requests one
 * gets it, the other NoSuchUpload.
 *
 * <p>Completing assembles the parts into one new file without copying data: each part's range is shared
 * into place with {@code Volume.copyRange} (the object names the parts' slices). Only on a metadata engine
 * that cannot share ranges (EOPNOTSUPP) are the bytes copied, one 1 MiB buffer at a time.
 */
final class Multipart {
    private static final Logger LOG = Logger.getLogger(Multipart.class.getName());
    static final int MAX_PARTS = 10_000;
    static final long MIN_PART = 5L << 20;
    private static final int COPY_BUFFER = 1 << 20;

    private final ObjectStore store;

    Multipart(ObjectStore store) {
        this.store = store;
    }

    record Upload(String id, String bucket, String key, long initiatedNs, long dir) {
    }

    record Part(int number, String etag, long size, long mtimeNs, long inode) {
    }

    Upload create(String bucket, String key, Map<String, String> headers) throws S3Error {
        store.writable();
        String id = ObjectStore.randomId();
        try {
            Entry e = store.volume.mkdir(ObjectStore.CALLER, store.uploadsDir, id, 0700);
            store.volume.setxattr(ObjectStore.CALLER, e.inode(), ObjectStore.XA_UPLOAD,
                    (bucket + "\n" + key).getBytes(StandardCharsets.UTF_8), 0);
            store.stamp(e.attr(), "", headers);
            return new Upload(id, bucket, key, e.attr().ctimeNs(), e.inode());
        } catch (FsException e) {
            throw S3Error.of(e, key);
        }
    }

    /** The upload {@code id} of {@code bucket}/{@code key}; NoSuchUpload if it is gone or someone else's. */
    Upload get(String id, String bucket, String key) throws S3Error {
        if (!id.matches("[0-9a-f]{32}")) {
            throw S3Error.noSuchUpload(id);
        }
        try {
            Entry e = store.volume.lookup(store.uploadsDir, id);
            Upload u = read(id, e);
            if (u == null || !u.bucket().equals(bucket) || !u.key().equals(key)) {
                throw S3Error.noSuchUpload(id);
            }
            return u;
        } catch (FsException e) {
            throw S3Error.noSuchUpload(id);
        }
    }

    private Upload read(String id, Entry e) throws FsException {
        byte[] v = store.xattr(e.inode(), ObjectStore.XA_UPLOAD);
        if (v == null) {
            return null;
        }
        String s = new String(v, StandardCharsets.UTF_8);
        int nl = s.indexOf('\n');
        return new Upload(id, s.substring(0, nl), s.substring(nl + 1), e.attr().ctimeNs(), e.inode());
    }

    static String partName(int n) {
        return String.format("part-%05d", n);
    }

    static int partNumber(String s) throws S3Error {
        try {
            int n = Integer.parseInt(s);
            if (n >= 1 && n <= MAX_PARTS) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive");
    }

    /** Renames a written part into its upload; the upload must still exist (else NoSuchUpload). */
    Part commitPart(Upload u, int n, ObjectStore.Temp t, String etag) throws S3Error {
        try {
            Attr a = store.closeWritten(t);
            store.stampNew(a, etag, Map.of());
            try {
                store.volume.lookup(store.uploadsDir, u.id());
            } catch (FsException gone) {
                throw S3Error.noSuchUpload(u.id());
            }
            store.volume.rename(ObjectStore.CALLER, t.dir(), t.name(), u.dir(), partName(n), 0);
            return new Part(n, etag, a.length(), a.mtimeNs(), a.inode());
        } catch (FsException e) {
            store.discard(t);
            throw S3Error.of(e, u.key());
        } catch (S3Error e) {
            store.discard(t);
            throw e;
        }
    }

    /** UploadPartCopy of a whole object: a clone (no data copied); its ETag is the source's when that is an MD5. */
    Part copyPart(Upload u, int n, ObjectStore.Info src) throws S3Error {
        String name = "copy-" + ObjectStore.randomId();
        try {
            Entry c = store.volume.clone(ObjectStore.CALLER, src.inode(), store.tmpDir, name);
            String etag = src.etag();
            if (etag.contains("-")) {
                etag = md5Of(c.inode(), 0, c.attr().length());
            }
            Attr a = store.volume.getattr(c.inode());
            store.stamp(a, etag, Map.of());
            store.volume.rename(ObjectStore.CALLER, store.tmpDir, name, u.dir(), partName(n), 0);
            return new Part(n, etag, a.length(), a.mtimeNs(), a.inode());
        } catch (FsException e) {
            store.unlinkQuietly(store.tmpDir, name);
            throw S3Error.of(e, u.key());
        }
    }

    /** UploadPartCopy of a byte range: those bytes copied (a range is not a whole slice list). */
    Part copyPartRange(Upload u, int n, ObjectStore.Info src, long first, long last) throws S3Error {
        ObjectStore.Temp t = store.temp();
        MessageDigest md = ObjectStore.md5();
        try (FileHandle in = store.open(src.inode())) {
            copy(in, first, last - first + 1, t.handle(), 0, md);
        } catch (FsException e) {
            store.discard(t);
            throw S3Error.of(e, u.key());
        }
        return commitPart(u, n, t, HexFormat.of().formatHex(md.digest()));
    }

    private String md5Of(long inode, long off, long len) throws FsException {
        MessageDigest md = ObjectStore.md5();
        try (FileHandle in = store.open(inode)) {
            copy(in, off, len, null, 0, md);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Copies {@code len} bytes (to {@code out} if not null), hashing them; a 1 MiB buffer whatever the size. */
    private static long copy(FileHandle in, long off, long len, FileHandle out, long outOff, MessageDigest md)
            throws FsException {
        byte[] buf = new byte[COPY_BUFFER];
        long done = 0;
        while (done < len) {
            int want = (int) Math.min(buf.length, len - done);
            int n = in.read(off + done, buf, 0, want);
            if (n <= 0) {
                throw new FsException(Errno.EIO, "a part ended early");
            }
            if (md != null) {
                md.update(buf, 0, n);
            }
            if (out != null) {
                out.write(outOff + done, buf, 0, n);
            }
            done += n;
        }
        return done;
    }

    List<Part> parts(Upload u) throws S3Error {
        try {
            List<Part> out = new ArrayList<>();
            for (DirEntry e : store.readdirAll(u.dir())) {
                if (e.type() != FileType.FILE || !e.name().startsWith("part-")) {
                    continue;
                }
                ObjectStore.Info i = store.info(e.name(), e.attr() != null ? e.attr() : store.volume.getattr(e.inode()),
                        false);
                out.add(new Part(Integer.parseInt(e.name().substring(5)), i.etag(), i.length(), i.mtimeNs(),
                        e.inode()));
            }
            out.sort((a, b) -> Integer.compare(a.number(), b.number()));
            return out;
        } catch (FsException e) {
            throw S3Error.noSuchUpload(u.id());
        }
    }

    /** Every upload in progress (of every bucket), in key order then by initiation. */
    List<Upload> uploads() throws FsException {
        List<Upload> out = new ArrayList<>();
        for (DirEntry e : store.readdirAll(store.uploadsDir)) {
            if (e.type() != FileType.DIRECTORY) {
                continue;
            }
            Attr a = e.attr() != null ? e.attr() : store.volume.getattr(e.inode());
            Upload u = read(e.name(), new Entry(store.uploadsDir, e.name(), a));
            if (u != null) {
                out.add(u);
            }
        }
        out.sort((a, b) -> {
            int c = Keys.compare(a.key(), b.key());
            return c != 0 ? c : Long.compare(a.initiatedNs(), b.initiatedNs());
        });
        return out;
    }

    /** Takes the upload for completing or aborting: renames its directory into tmp/ (atomic, one winner). */
    String take(Upload u, String why) throws S3Error {
        String name = why + "-" + u.id() + "-" + ObjectStore.randomId().substring(0, 8);
        try {
            store.volume.rename(ObjectStore.CALLER, store.uploadsDir, u.id(), store.tmpDir, name, 0);
            return name;
        } catch (FsException e) {
            throw S3Error.noSuchUpload(u.id());
        }
    }

    /** Gives a taken upload back (a Complete that failed its checks can be retried). */
    void giveBack(Upload u, String taken) {
        try {
            store.volume.rename(ObjectStore.CALLER, store.tmpDir, taken, store.uploadsDir, u.id(), 0);
        } catch (FsException e) {
            LOG.warning("cannot give upload " + u.id() + " back: " + e.getMessage());
        }
    }

    void abort(Upload u) throws S3Error {
        store.writable();
        String taken = take(u, "abort");
        try {
            store.removeTree(store.tmpDir, taken);
        } catch (FsException e) {
            LOG.warning("aborted upload " + u.id() + " left " + taken + ": " + e.getMessage());
        }
    }

    /** A part the client names in CompleteMultipartUpload. */
    record Wanted(int number, String etag) {
    }

    /**
     * Assembles the named parts into the object: checks them (InvalidPartOrder, InvalidPart, EntityTooSmall),
     * shares their ranges into a temporary file (or copies their bytes, see the class comment), stamps the multipart ETag (MD5 of the parts' MD5s, "-N") and
     * renames it into place.
     */
    ObjectStore.Info complete(Upload u, long bucket, List<Wanted> wanted) throws S3Error {
        store.writable();
        if (wanted.isEmpty()) {
            throw S3Error.malformedXml("CompleteMultipartUpload names no part");
        }
        String taken = take(u, "complete");
        boolean done = false;
        try {
            Map<Integer, Part> have = new java.util.HashMap<>();
            for (Part p : parts(new Upload(u.id(), u.bucket(), u.key(), u.initiatedNs(), u.dir()))) {
                have.put(p.number(), p);
            }
            List<Part> use = new ArrayList<>();
            int prev = 0;
            for (Wanted w : wanted) {
                if (w.number() <= prev) {
                    throw new S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order. "
                            + "Parts must be ordered by part number.");
                }
                prev = w.number();
                Part p = have.get(w.number());
                String e = w.etag() == null ? null : w.etag().replace("\"", "").trim();
                if (p == null || (e != null && !e.equals(p.etag()))) {
                    throw new S3Error(400, "InvalidPart", "One or more of the specified parts could not be found. "
                            + "The part may not have been uploaded, or the specified entity tag may not match "
                            + "the part's entity tag: part " + w.number());
                }
                use.add(p);
            }
            for (int i = 0; i < use.size() - 1; i++) {
                if (use.get(i).size() < MIN_PART) {
                    throw new S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum "
                            + "allowed object size: part " + use.get(i).number() + " has " + use.get(i).size()
                            + " bytes, every part but the last needs 5 MiB");
                }
            }
            MessageDigest md = ObjectStore.md5();
            ObjectStore.Temp t = store.temp();
            long off = 0;
            boolean share = true;
            try {
                for (Part p : use) {
                    md.update(HexFormat.of().parseHex(p.etag()));
                    if (share) {
                        try {
                            long n = store.volume.copyRange(ObjectStore.CALLER, p.inode(), 0, t.handle().inode(), off,
                                    p.size());
                            if (n != p.size()) {
                                throw new FsException(Errno.EIO, "part " + p.number() + " ended early");
                            }
                            off += n;
                            continue;
                        } catch (FsException e) {
                            if (e.errno() != Errno.EOPNOTSUPP) {
                                throw e;
                            }
                            share = false;
                        }
                    }
                    try (FileHandle in = store.open(p.inode())) {
                        off += copy(in, 0, p.size(), t.handle(), off, null);
                    }
                }
            } catch (FsException e) {
                store.discard(t);
                throw S3Error.of(e, u.key());
            }
            String etag = HexFormat.of().formatHex(md.digest()) + "-" + use.size();
            byte[] h = store.xattr(u.dir(), ObjectStore.XA_HEADERS);
            Map<String, String> headers = new java.util.LinkedHashMap<>();
            if (h != null) {
                for (String line : new String(h, StandardCharsets.UTF_8).split("\n")) {
                    int c = line.indexOf(':');
                    if (c > 0) {
                        headers.put(line.substring(0, c), line.substring(c + 1));
                    }
                }
            }
            ObjectStore.Info info = store.commit(bucket, u.key(), t, etag, headers);
            done = true;
            return info;
        } catch (FsException e) {
            throw S3Error.of(e, u.key());
        } finally {
            if (done) {
                try {
                    store.removeTree(store.tmpDir, taken);
                } catch (FsException e) {
                    LOG.warning("completed upload " + u.id() + " left " + taken + ": " + e.getMessage());
                }
            } else {
                giveBack(u, taken);
            }
        }
    }

    /** Removes uploads initiated longer ago than {@code maxAgeNs} and leftovers in tmp/ older than {@code tmpAgeNs}. */
    int sweep(long maxAgeNs, long tmpAgeNs) {
        long now = System.currentTimeMillis() * 1_000_000L;
        int removed = 0;
        try {
            for (Upload u : uploads()) {
                if (now - u.initiatedNs() > maxAgeNs) {
                    try {
                        abort(u);
                        removed++;
                        LOG.info("aborted multipart upload " + u.id() + " of " + u.bucket() + "/" + u.key()
                                + ": older than the configured age");
                    } catch (S3Error gone) {
                        // Someone completed or aborted it meanwhile.
                    }
                }
            }
            for (DirEntry e : store.readdirAll(store.tmpDir)) {
                Attr a = e.attr() != null ? e.attr() : store.volume.getattr(e.inode());
                if (now - a.mtimeNs() > tmpAgeNs && now - a.ctimeNs() > tmpAgeNs) {
                    store.removeTree(store.tmpDir, e.name());
                    removed++;
                }
            }
        } catch (FsException e) {
            LOG.warning("sweeping " + Keys.STATE_DIR + ": " + e.getMessage());
        }
        return removed;
    }

    static final int OPEN_FLAGS = OpenFlags.RDONLY;
}
