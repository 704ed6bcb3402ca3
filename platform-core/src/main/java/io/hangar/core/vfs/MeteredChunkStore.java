package io.hangar.core.vfs;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ListPage;
import io.hangar.spi.store.ObjectInfo;
import io.hangar.spi.store.StoreException;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * A chunk store with every request counted and timed ({@code hangar_object_request_*}): the volume's gate
 * wraps whatever store is attached, so a backend gets its metrics without knowing of them.
 */
final class MeteredChunkStore implements ChunkStore {
    private final ChunkStore store;
    private final VfsMetrics.StoreMeters m;

    MeteredChunkStore(ChunkStore store, VfsMetrics.StoreMeters m) {
        this.store = store;
        this.m = m;
    }

    ChunkStore unwrap() {
        return store;
    }

    @Override
    public String describe() {
        return store.describe();
    }

    @Override
    public void put(String key, byte[] data, int off, int len) throws StoreException {
        long t = System.nanoTime();
        try {
            store.put(key, data, off, len);
            m.putBytes.increment(len);
        } catch (StoreException | RuntimeException e) {
            failed("PUT", e);
            throw e;
        } finally {
            done(m.put, t);
        }
    }

    @Override
    public void put(String key, ByteBuffer data) throws StoreException {
        int len = data.remaining();
        long t = System.nanoTime();
        try {
            store.put(key, data);
            m.putBytes.increment(len);
        } catch (StoreException | RuntimeException e) {
            failed("PUT", e);
            throw e;
        } finally {
            done(m.put, t);
        }
    }

    @Override
    public byte[] get(String key, long offset, int length) throws StoreException {
        long t = System.nanoTime();
        try {
            byte[] b = store.get(key, offset, length);
            m.getBytes.increment(b.length);
            return b;
        } catch (StoreException | RuntimeException e) {
            failed("GET", e);
            throw e;
        } finally {
            done(m.get, t);
        }
    }

    @Override
    public int get(String key, long offset, ByteBuffer dst) throws StoreException {
        long t = System.nanoTime();
        try {
            int n = store.get(key, offset, dst);
            m.getBytes.increment(n);
            return n;
        } catch (StoreException | RuntimeException e) {
            failed("GET", e);
            throw e;
        } finally {
            done(m.get, t);
        }
    }

    @Override
    public ObjectInfo head(String key) throws StoreException {
        long t = System.nanoTime();
        try {
            return store.head(key);
        } catch (StoreException | RuntimeException e) {
            failed("HEAD", e);
            throw e;
        } finally {
            done(m.head, t);
        }
    }

    @Override
    public void delete(String key) throws StoreException {
        long t = System.nanoTime();
        try {
            store.delete(key);
        } catch (StoreException | RuntimeException e) {
            failed("DELETE", e);
            throw e;
        } finally {
            done(m.delete, t);
        }
    }

    @Override
    public ListPage list(String prefix, String startAfter, int limit) throws StoreException {
        long t = System.nanoTime();
        try {
            return store.list(prefix, startAfter, limit);
        } catch (StoreException | RuntimeException e) {
            failed("LIST", e);
            throw e;
        } finally {
            done(m.list, t);
        }
    }

    @Override
    public void close() {
        store.close();
    }

    private static void done(Timer timer, long startNs) {
        timer.record(System.nanoTime() - startNs, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private void failed(String method, Exception e) {
        String kind = e instanceof StoreException se ? se.kind().name().toLowerCase(Locale.ROOT) : "unexpected";
        m.error(method, kind).increment();
    }
}
