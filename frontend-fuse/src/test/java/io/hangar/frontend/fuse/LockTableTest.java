package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class LockTableTest {
    private static final long INODE = 7;
    private static final long EOF = LockTable.TO_EOF;
    private static final int MOUNT = 1;
    private final LockTable table = new LockTable();

    private void lock(long owner, boolean write, long start, long end) throws Exception {
        table.lock(MOUNT, INODE, owner, owner * 100, write, start, end, false, () -> false);
    }

    private String ranges() {
        StringBuilder sb = new StringBuilder();
        for (LockTable.Held h : table.posixLocks(INODE)) {
            sb.append(h.owner()).append(h.write() ? "w" : "r").append('[').append(h.start()).append(',')
                    .append(h.end() == EOF ? "eof" : String.valueOf(h.end())).append("] ");
        }
        return sb.toString().trim();
    }

    @Test
    void sharedLocksCoexistAndWriteLocksConflict() throws Exception {
        lock(1, false, 0, 99);
        lock(2, false, 50, 149);
        Errnos.LockFailure f = assertThrows(Errnos.LockFailure.class, () -> lock(3, true, 90, 95));
        assertEquals(Errnos.EAGAIN, f.errno);
        lock(3, true, 150, 200);
        LockTable.Held h = table.conflict(INODE, 4, false, 160, 160);
        assertNotNull(h);
        assertEquals(3, h.owner());
        assertEquals(300, h.pid());
        assertNull(table.conflict(INODE, 4, false, 0, 149), "read locks do not conflict with a read");
        assertNull(table.conflict(INODE, 3, true, 150, 200), "an owner never conflicts with itself");
    }

    @Test
    void ownLocksMergeSplitAndConvert() throws Exception {
        lock(1, true, 0, 9);
        lock(1, true, 10, 19);
        assertEquals("1w[0,19]", ranges(), "adjacent locks of one type merge");
        lock(1, false, 5, 14);
        assertEquals("1w[0,4] 1r[5,14] 1w[15,19]", ranges(), "a read lock inside a write lock splits it");
        table.unlock(INODE, 1, 3, 16);
        assertEquals("1w[0,2] 1w[17,19]", ranges(), "unlock cuts out its range");
        lock(1, true, 100, EOF);
        table.unlock(INODE, 1, 200, EOF);
        assertEquals("1w[0,2] 1w[17,19] 1w[100,199]", ranges(), "a lock to EOF is trimmed");
        table.unlock(INODE, 1, 0, EOF);
        assertEquals("", ranges());
    }

    @Test
    void waiterIsWokenWhenTheLockGoes() throws Exception {
        lock(1, true, 0, EOF);
        CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> {
            try {
                table.lock(MOUNT, INODE, 2, 200, true, 10, 10, true, () -> false);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(200);
        assertTrue(!waiter.isDone(), "waits while the range is held");
        table.unlock(INODE, 1, 0, EOF);
        waiter.get(10, TimeUnit.SECONDS);
        assertEquals("2w[10,10]", ranges());
    }

    @Test
    void interruptedWaitTakesNothing() throws Exception {
        lock(1, true, 0, EOF);
        AtomicBoolean interrupted = new AtomicBoolean();
        CompletableFuture<Integer> waiter = CompletableFuture.supplyAsync(() -> {
            try {
                table.lock(MOUNT, INODE, 2, 200, true, 0, 0, true, interrupted::get);
                return 0;
            } catch (Errnos.LockFailure e) {
                return e.errno;
            } catch (InterruptedException e) {
                return -1;
            }
        });
        interrupted.set(true);
        assertEquals(Errnos.EINTR, waiter.get(10, TimeUnit.SECONDS));
        table.unlock(INODE, 1, 0, EOF);
        assertEquals("", ranges());
    }

    @Test
    void waitingInACycleIsEdeadlk() throws Exception {
        lock(1, true, 0, 0);
        lock(2, true, 10, 10);
        CompletableFuture<Void> first = CompletableFuture.runAsync(() -> {
            try {
                table.lock(MOUNT, INODE, 1, 100, true, 10, 10, true, () -> false);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Errnos.LockFailure f = null;
        for (int i = 0; i < 100 && f == null; i++) {
            Thread.sleep(20);
            // Until owner 1 is seen waiting this request waits one poll and gives up (EINTR).
            try {
                table.lock(MOUNT, INODE, 2, 200, true, 0, 0, true, () -> true);
            } catch (Errnos.LockFailure e) {
                if (e.errno == Errnos.EDEADLK) {
                    f = e;
                }
            }
        }
        assertNotNull(f, "owner 2 waiting for owner 1, who waits for owner 2, is refused with EDEADLK");
        table.unlock(INODE, 2, 0, EOF);
        first.get(10, TimeUnit.SECONDS);
    }

    @Test
    void flockFollowsFlock2() throws Exception {
        table.flock(INODE, 1, true, false, () -> false);
        Errnos.LockFailure f = assertThrows(Errnos.LockFailure.class,
                () -> table.flock(INODE, 2, false, false, () -> false));
        assertEquals(Errnos.EAGAIN, f.errno);
        table.flock(INODE, 1, false, false, () -> false);
        table.flock(INODE, 2, false, false, () -> false);
        f = assertThrows(Errnos.LockFailure.class, () -> table.flock(INODE, 1, true, false, () -> false));
        assertEquals(Errnos.EAGAIN, f.errno);
        // Like Linux, the failed conversion dropped file 1's shared lock.
        table.funlock(INODE, 2);
        table.flock(INODE, 3, true, false, () -> false);
        table.releaseAll(MOUNT, Set.of(3L));
        table.flock(INODE, 4, true, false, () -> false);
    }

    @Test
    void aMountLeavingReleasesItsLocksOnly() throws Exception {
        lock(1, true, 0, 9);
        table.lock(2, INODE, 2, 200, true, 10, 19, false, () -> false);
        table.releaseAll(MOUNT, Set.of());
        assertEquals(List.of(2L), table.posixLocks(INODE).stream().map(LockTable.Held::owner).toList());
    }
}
