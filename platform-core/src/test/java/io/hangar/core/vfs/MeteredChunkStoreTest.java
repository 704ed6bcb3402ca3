package io.hangar.core.vfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hangar.fs.FsException;
import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ListPage;
import io.hangar.spi.store.ObjectInfo;
import io.hangar.spi.store.StoreException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The chunk store's meters, as the volume's gate wraps a store: requests, bytes, errors by kind, retries. */
class MeteredChunkStoreTest {
    /** A store in memory that fails the next calls with the kinds queued in {@code failures}. */
    static final class FlakyStore implements ChunkStore {
        final Map<String, byte[]> objects = new HashMap<>();
        final Deque<StoreException.Kind> failures = new ArrayDeque<>();

        private void maybeFail(String key) throws StoreException {
            StoreException.Kind k = failures.poll();
            if (k != null) {
                throw new StoreException(k, key);
            }
        }

        @Override
        public String describe() {
            return "flaky";
        }

        @Override
        public void put(String key, byte[] data, int off, int len) throws StoreException {
            maybeFail(key);
            objects.put(key, Arrays.copyOfRange(data, off, off + len));
        }

        @Override
        public byte[] get(String key, long offset, int length) throws StoreException {
            maybeFail(key);
            byte[] b = objects.get(key);
            if (b == null) {
                throw new StoreException(StoreException.Kind.NOT_FOUND, key);
            }
            return Arrays.copyOfRange(b, (int) offset, (int) Math.min(b.length, offset + length));
        }

        @Override
        public ObjectInfo head(String key) throws StoreException {
            throw new StoreException(StoreException.Kind.NOT_FOUND, key);
        }

        @Override
        public void delete(String key) throws StoreException {
            maybeFail(key);
            objects.remove(key);
        }

        @Override
        public ListPage list(String prefix, String startAfter, int limit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final VfsMetrics metrics = new VfsMetrics(registry, "v");
    private final FlakyStore store = new FlakyStore();
    private final StoreGate gate = new StoreGate(store, 5_000);

    {
        gate.meter(metrics);
    }

    private double count(String name, String... tags) {
        return registry.get(name).tags(tags).counter().count();
    }

    private long requests(String method) {
        return registry.get("hangar_object_request_duration").tags("volume", "v", "method", method).timer().count();
    }

    @Test
    void requestsAndBytesAreCountedByMethod() throws Exception {
        byte[] data = new byte[1000];
        gate.call("put", s -> {
            s.put("a", ByteBuffer.wrap(data));
            return null;
        });
        gate.call("put", s -> {
            s.put("b", data, 10, 90);
            return null;
        });
        ByteBuffer dst = ByteBuffer.allocate(600);
        int n = gate.call("get", s -> s.get("a", 0, dst));
        byte[] part = gate.call("get", s -> s.get("b", 0, 50));
        assertEquals(600, n);
        assertArrayEquals(new byte[50], part);
        assertEquals(2, requests("PUT"));
        assertEquals(2, requests("GET"));
        assertEquals(1090.0, count("hangar_object_request_data", "volume", "v", "method", "PUT"));
        assertEquals(650.0, count("hangar_object_request_data", "volume", "v", "method", "GET"));
    }

    @Test
    void failuresAreCountedByKindAndTransientOnesAreRetried() throws Exception {
        store.failures.add(StoreException.Kind.TRANSIENT);
        store.failures.add(StoreException.Kind.TRANSIENT);
        gate.call("put", s -> {
            s.put("a", new byte[10], 0, 10);
            return null;
        });
        assertEquals(2.0, count("hangar_object_request_retries", "volume", "v"));
        assertEquals(2.0, count("hangar_object_request_errors", "volume", "v", "method", "PUT", "kind", "transient"));
        assertEquals(3, requests("PUT")); // the failed attempts are requests too
        assertThrows(FsException.class, () -> gate.call("get", s -> s.get("missing", 0, 10)));
        assertEquals(1.0, count("hangar_object_request_errors", "volume", "v", "method", "GET", "kind", "not_found"));
        store.failures.add(StoreException.Kind.PERMISSION);
        assertThrows(FsException.class, () -> gate.call("delete", s -> {
            s.delete("a");
            return null;
        }));
        assertEquals(1.0, count("hangar_object_request_errors", "volume", "v", "method", "DELETE", "kind",
                "permission"));
    }

    @Test
    void aStoreAttachedLaterIsMeteredAndADetachedOneIsHandedBackBare() throws Exception {
        ChunkStore old = gate.detach("test");
        assertEquals(store, old); // the bare store: its provider closes what it opened
        FlakyStore next = new FlakyStore();
        gate.attach(next);
        gate.call("put", s -> {
            s.put("c", new byte[5], 0, 5);
            return null;
        });
        assertEquals(1, requests("PUT"));
        assertEquals(5.0, count("hangar_object_request_data", "volume", "v", "method", "PUT"));
    }

    @Test
    void closingTheMetersRemovesEveryVolumeSeries() {
        metrics.close();
        assertEquals(0, registry.getMeters().stream().filter(m -> "v".equals(m.getId().getTag("volume"))).count());
    }
}
