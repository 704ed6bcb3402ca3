package io.hangar.core.vfs;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ListPage;
import io.hangar.spi.store.ObjectInfo;
import io.hangar.spi.store.StoreException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A chunk store with every request counted and timed ({@code hangar_object_request_*}): the volume's gate
 * wraps whatever store is attached, so a backend gets its metrics without knowing of them.
 */
final class MeteredChunkStore implements ChunkStore {
    /** One request to the wrapped store. */
    @FunctionalInterface
    private interface Request<T> {
        T run() throws StoreException;
    }

    private final ChunkStore store;
    private final VfsMetrics.StoreMeters m;

    MeteredChunkStore(ChunkStore store, VfsMetrics.StoreMeters m) {
        this.store = store;
        this.m = m;
    }

    ChunkStore unwrap() {
        return store;
    }

    /** Times {@code r} as {@code method}; counts it as failed, by kind, if it throws. */
    private <T> T measured(String method, Timer timer, Request<T> r) throws StoreException {
        long t = System.nanoTime();
        try {
            return r.run();
        } catch (StoreException | RuntimeException e) {
            String kind = e instanceof StoreException se ? se.kind().name().toLowerCase(Locale.ROOT) : "unexpected";
            m.error(method, kind).increment();
            throw e;
        } finally {
            timer.record(System.nanoTime() - t, TimeUnit.NANOSECONDS);
        }
    }

    private static <N extends Number> N bytes(Counter c, N n) {
        c.increment(n.doubleValue());
        return n;
    }

    @Override
    public String describe() {
        return store.describe();
    }

    @Override
    public void put(String key, byte[] data, int off, int len) throws StoreException {
        measured("PUT", m.put, () -> {
            store.put(key, data, off, len);
            return bytes(m.putBytes, len);
        });
    }

    @Override
    public void put(String key, ByteBuffer data) throws StoreException {
        int len = data.remaining();
        measured("PUT", m.put, () -> {
            store.put(key, data);
            return bytes(m.putBytes, len);
        });
    }

    @Override
    public byte[] get(String key, long offset, int length) throws StoreException {
        return measured("GET", m.get, () -> {
            byte[] b = store.get(key, offset, length);
            bytes(m.getBytes, b.length);
            return b;
        });
    }

    @Override
    public int get(String key, long offset, ByteBuffer dst) throws StoreException {
        return measured("GET", m.get, () -> bytes(m.getBytes, store.get(key, offset, dst)));
    }

    @Override
    public ObjectInfo head(String key) throws StoreException {
        return measured("HEAD", m.head, () -> store.head(key));
    }

    @Override
    public void delete(String key) throws StoreException {
        measured("DELETE", m.delete, () -> {
            store.delete(key);
            return null;
        });
    }

    @Override
    public ListPage list(String prefix, String startAfter, int limit) throws StoreException {
        return measured("LIST", m.list, () -> store.list(prefix, startAfter, limit));
    }

    @Override
    public void close() {
        store.close();
    }
}
