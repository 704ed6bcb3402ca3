package io.hangar.store.file;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ListPage;
import io.hangar.spi.store.ObjectInfo;
import io.hangar.spi.store.StoreException;
import io.hangar.spi.store.StoreException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Objects as files below a root directory, the key being the relative path. A put writes a temporary file
 * in {@code .tmp/}, fsyncs it, renames it into place and fsyncs the directory: readers see whole objects
 * only, and an acknowledged object survives a power cut.
 */
final class FileChunkStore implements ChunkStore {
    private static final String TMP = ".tmp";

    private final Path root;
    private final Path tmp;
    private volatile boolean closed;

    FileChunkStore(Path root) throws StoreException {
        this.root = root.toAbsolutePath().normalize();
        this.tmp = this.root.resolve(TMP);
        try {
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw map(e, "cannot create store directory " + this.root);
        }
        if (!Files.isWritable(this.root)) {
            throw new StoreException(Kind.PERMISSION, "store directory " + this.root + " is not writable");
        }
    }

    @Override
    public String describe() {
        return "file://" + root;
    }

    @Override
    public void put(String key, byte[] data, int off, int len) throws StoreException {
        put(key, ByteBuffer.wrap(data, off, len));
    }

    /**
     * A heap buffer goes to the channel in pieces: the JDK copies each write from the heap into a temporary
     * direct buffer of the write's size, which each thread keeps; whole 4 MiB writes from many threads would
     * hold megabytes of native memory nobody accounts for. Direct buffers are written as they are.
     */
    static final int HEAP_IO_PIECE = 256 << 10;

    @Override
    public void put(String key, ByteBuffer data) throws StoreException {
        Path target = path(key);
        Path temp = tmp.resolve(UUID.randomUUID().toString());
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = data.duplicate();
                int end = b.limit();
                while (b.position() < end) {
                    b.limit(b.isDirect() ? end : Math.min(end, b.position() + HEAP_IO_PIECE));
                    ch.write(b);
                }
                ch.force(true);
            }
            Path dir = target.getParent();
            Files.createDirectories(dir);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(dir);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // The temp file is garbage either way; a leftover is removed by the next start.
            }
            throw map(e, "put " + key);
        }
    }

    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    @Override
    public byte[] get(String key, long offset, int length) throws StoreException {
        if (offset < 0) {
            throw new StoreException(Kind.INVALID, "negative offset " + offset);
        }
        try (FileChannel ch = FileChannel.open(path(key), StandardOpenOption.READ)) {
            long size = ch.size();
            long n = offset >= size ? 0 : length < 0 ? size - offset : Math.min(length, size - offset);
            if (n > Integer.MAX_VALUE - 16) {
                throw new StoreException(Kind.INVALID, key + ": range too large for one read: " + n);
            }
            ByteBuffer b = ByteBuffer.allocate((int) n);
            read(ch, key, offset, b);
            return b.array();
        } catch (IOException e) {
            throw map(e, "get " + key);
        }
    }

    @Override
    public int get(String key, long offset, ByteBuffer dst) throws StoreException {
        if (offset < 0) {
            throw new StoreException(Kind.INVALID, "negative offset " + offset);
        }
        try (FileChannel ch = FileChannel.open(path(key), StandardOpenOption.READ)) {
            long size = ch.size();
            int n = (int) Math.max(0, Math.min(dst.remaining(), size - offset));
            ByteBuffer b = dst.duplicate();
            b.limit(b.position() + n);
            read(ch, key, offset, b);
            dst.position(dst.position() + n);
            return n;
        } catch (IOException e) {
            throw map(e, "get " + key);
        }
    }

    /** Fills b (position to limit) from the file at {@code offset}, heap buffers in pieces (see put). */
    private static void read(FileChannel ch, String key, long offset, ByteBuffer b) throws IOException {
        int end = b.limit();
        long pos = offset;
        while (b.position() < end) {
            b.limit(b.isDirect() ? end : Math.min(end, b.position() + HEAP_IO_PIECE));
            int r = ch.read(b, pos);
            if (r < 0) {
                throw new StoreException(Kind.TRANSIENT, key + ": object shrank while reading");
            }
            pos += r;
        }
    }

    @Override
    public ObjectInfo head(String key) throws StoreException {
        try {
            BasicFileAttributes a = Files.readAttributes(path(key), BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                throw new StoreException(Kind.NOT_FOUND, key);
            }
            return new ObjectInfo(key, a.size(), a.lastModifiedTime().toMillis());
        } catch (IOException e) {
            throw map(e, "head " + key);
        }
    }

    @Override
    public void delete(String key) throws StoreException {
        try {
            Files.deleteIfExists(path(key));
        } catch (IOException e) {
            throw map(e, "delete " + key);
        }
    }

    /**
     * Walks the deepest directory the prefix names and sorts what matches: one page costs a walk of that
     * subtree, which is fine for the gc and sync scans that list.
     */
    @Override
    public ListPage list(String prefix, String startAfter, int limit) throws StoreException {
        checkOpen();
        if (limit <= 0) {
            throw new StoreException(Kind.INVALID, "limit must be positive");
        }
        int slash = prefix.lastIndexOf('/');
        Path base = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        if (!Files.isDirectory(base)) {
            return new ListPage(List.of(), null);
        }
        List<ObjectInfo> page = new ArrayList<>();
        boolean more;
        try {
            more = collect(base, slash < 0 ? "" : prefix.substring(0, slash + 1), prefix, startAfter, limit, page);
        } catch (IOException e) {
            throw map(e, "list " + prefix);
        }
        return new ListPage(page, more ? page.get(page.size() - 1).key() : null);
    }

    /**
     * Adds the objects below {@code dir} (whose keys start with {@code dirKey}) that match {@code prefix} and
     * sort after {@code after}, in key order, until {@code page} holds {@code limit}; returns true if it
     * stopped with objects left. One directory is read at a time, and only directories that can hold keys
     * of the page are entered, so a page costs what it returns, not the size of the store. In a directory,
     * a subdirectory sorts as its name plus '/', which is where its keys fall among its siblings' keys.
     */
    private boolean collect(Path dir, String dirKey, String prefix, String after, int limit, List<ObjectInfo> page)
            throws IOException {
        List<String> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                boolean isDir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                if (dirKey.isEmpty() && name.equals(TMP)) {
                    continue;
                }
                String key = dirKey + name + (isDir ? "/" : "");
                boolean matches = key.startsWith(prefix) || (isDir && prefix.startsWith(key));
                boolean later = after == null || key.compareTo(after) > 0 || (isDir && after.startsWith(key));
                if (matches && later) {
                    children.add(key);
                }
            }
        } catch (NoSuchFileException e) {
            return false; // removed while listing
        }
        children.sort(null);
        for (String key : children) {
            if (key.endsWith("/")) {
                if (collect(root.resolve(key.substring(0, key.length() - 1)), key, prefix, after, limit, page)) {
                    return true;
                }
                continue;
            }
            if (page.size() == limit) {
                return true;
            }
            try {
                BasicFileAttributes a = Files.readAttributes(root.resolve(key), BasicFileAttributes.class);
                if (a.isRegularFile()) {
                    page.add(new ObjectInfo(key, a.size(), a.lastModifiedTime().toMillis()));
                }
            } catch (NoSuchFileException e) {
                // deleted since the directory was read
            }
        }
        return false;
    }

    private Path path(String key) throws StoreException {
        checkOpen();
        if (key.isEmpty() || key.startsWith("/") || key.endsWith("/") || key.startsWith(TMP + "/")
                || key.indexOf('\0') >= 0) {
            throw new StoreException(Kind.INVALID, "bad object key '" + key + "'");
        }
        for (String part : key.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new StoreException(Kind.INVALID, "bad object key '" + key + "'");
            }
        }
        return root.resolve(key);
    }

    private void checkOpen() throws StoreException {
        if (closed) {
            throw new StoreException(Kind.TRANSIENT, "store " + describe() + " is closed");
        }
    }

    private StoreException map(IOException e, String what) {
        if (closed) {
            return new StoreException(Kind.TRANSIENT, what + ": store is closed", e);
        }
        if (e instanceof NoSuchFileException) {
            return new StoreException(Kind.NOT_FOUND, what + ": no such object", e);
        }
        if (e instanceof AccessDeniedException) {
            return new StoreException(Kind.PERMISSION, what + ": " + e.getMessage(), e);
        }
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        // ENOSPC reaches Java as a FileSystemException from file operations but as a plain IOException from
        // FileChannel.write: the message is what both share.
        if (msg.contains("No space left") || msg.contains("Disk quota exceeded")) {
            return new StoreException(Kind.FULL, what + ": " + msg, e);
        }
        return new StoreException(Kind.TRANSIENT, what + ": " + msg, e);
    }

    @Override
    public void close() {
        closed = true;
    }
}
