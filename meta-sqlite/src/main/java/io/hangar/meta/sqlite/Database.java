package io.hangar.meta.sqlite;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.metrics.EngineMeters;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The connections of one engine to its SQLite file: one writer, used under a lock shared by every engine on
 * the same file in this JVM, so that this process's writers queue in Java instead of sleeping in SQLite's
 * busy handler; and a few readers, which WAL lets run beside the writer. Runs transaction bodies with
 * bounded retries while another process holds the lock, and commits the bodies of writers that wait for
 * each other together (group commit, see {@link #write}).
 */
final class Database implements AutoCloseable {
    /** How long one statement waits, by default, for another process's lock before SQLite reports SQLITE_BUSY. */
    static final int BUSY_TIMEOUT_MS = 5_000;
    /** Attempts per transaction: with the default busy timeout, a writer gives up after about 20 s. */
    private static final int ATTEMPTS = 4;
    private static final int READERS = 4;
    /** The most bodies one group commit runs: bounds how long it holds the write lock. */
    static final int MAX_GROUP = 64;
    /** How long a waiter parks before it looks at the lock again if nobody woke it. */
    private static final long WAITER_PARK_NS = TimeUnit.MILLISECONDS.toNanos(2);

    // SQLite primary result codes (the low byte of extended codes).
    private static final int SQLITE_PERM = 3;
    private static final int SQLITE_BUSY = 5;
    private static final int SQLITE_LOCKED = 6;
    private static final int SQLITE_READONLY = 8;
    private static final int SQLITE_FULL = 13;

    /** One write lock per database file in this JVM; a handful of files per process, kept for its life. */
    private static final ConcurrentHashMap<Path, FileWriters> WRITERS = new ConcurrentHashMap<>();

    /**
     * What every engine on one file in this JVM shares: the write lock, and the writers waiting for it, so
     * that a leader commits (and wakes) the waiters of every engine on the file, not only its own.
     */
    private static final class FileWriters {
        final ReentrantLock lock = new ReentrantLock();
        /** Oldest first; bounded by the threads that write. */
        final ConcurrentLinkedQueue<Pending<?>> waiting = new ConcurrentLinkedQueue<>();
    }

    /** A transaction body; it may run more than once, so it must not change state outside the database. */
    interface Body<T> {
        T run(Conn c) throws SQLException, FsException;
    }

    private final Path file;
    private final int busyTimeoutMs;
    private final ReentrantLock writeLock;
    private final Conn writer;
    private final BlockingQueue<Conn> idleReaders = new ArrayBlockingQueue<>(READERS);
    private int readers;
    private volatile boolean closed;
    private final EngineMeters meters;
    /**
     * A commit that was not synced but owes durability ({@code createFile}) and no synced commit that wrote
     * since: {@link #sync} then has to sync one. Under the write lock. (Synced commits of another process,
     * or of an engine of this JVM in a group without this one's bodies, would do too; they are not seen
     * here, so a sync may be one more than needed.)
     */
    private boolean owed;
    /** The file's waiting writers, of this engine and of the others on the file. */
    private final ConcurrentLinkedQueue<Pending<?>> waiting;
    /** Write transactions committed and bodies taken from the queue (for tests: volatile, written locked). */
    private volatile long transactions;
    private volatile long drained;

    private Database(Path file, int busyTimeoutMs, Conn writer, EngineMeters meters) {
        this.meters = meters;
        this.file = file;
        this.busyTimeoutMs = busyTimeoutMs;
        this.writer = writer;
        FileWriters shared = WRITERS.computeIfAbsent(identity(file), k -> new FileWriters());
        this.writeLock = shared.lock;
        this.waiting = shared.waiting;
    }

    /** The file's real path (it exists once connected), so that links and relative names share one lock. */
    private static Path identity(Path file) {
        try {
            return file.toRealPath();
        } catch (IOException e) {
            return file.toAbsolutePath().normalize();
        }
    }

    /**
     * Opens (creating if needed) the file, switches it to WAL and creates or checks the schema. Statements
     * wait up to {@code busyTimeoutMs} for another process's lock.
     */
    static Database open(Path file, int busyTimeoutMs) throws FsException {
        return open(file, busyTimeoutMs, new EngineMeters(null, SqliteUrl.SCHEME));
    }

    /** As {@link #open(Path, int)}, counting retries, lock conflicts and database errors in {@code meters}. */
    static Database open(Path file, int busyTimeoutMs, EngineMeters meters) throws FsException {
        Conn writer;
        try {
            writer = Conn.open(file, busyTimeoutMs);
        } catch (SQLException e) {
            throw new FsException(Errno.EIO, "cannot open metadata database " + file + ": " + e.getMessage(), e);
        }
        Database db = new Database(file, busyTimeoutMs, writer, meters);
        try {
            // Persistent in the file; readers in other processes then never block the writer.
            db.withRetries(() -> {
                writer.exec("PRAGMA journal_mode=WAL");
                return null;
            });
            // Only a new file needs the write lock: opening must not wait for another process's writes.
            if (db.read(Schema::version) != Schema.VERSION) {
                db.write(Schema::ensure);
            }
        } catch (FsException | RuntimeException e) {
            db.close();
            throw e;
        }
        return db;
    }

    Path file() {
        return file;
    }

    /**
     * Runs {@code body} in a {@code BEGIN IMMEDIATE} transaction, committed (durably) when it returns. Writers
     * that arrive while another commits are committed together (group commit): the next of them to get the
     * lock runs every waiting body in one transaction, each in a savepoint of its own (a body that fails is
     * rolled back alone and fails alone), and one fsync of the WAL makes all of them durable. Each body still
     * runs whole and in order, as if alone.
     */
    <T> T write(Body<T> body) throws FsException {
        return submit(body, true, false);
    }

    /**
     * As {@link #write}, but the commit is not synced ({@code synchronous=NORMAL} for this transaction): it
     * survives the process being killed (the WAL is in the page cache) and is atomic, but a power failure may
     * lose it. For records that die with the session that wrote them anyway (open files): an open or release
     * costs no fsync. The next synced commit makes it durable too. Committed together with synced writers
     * that wait beside it, it is synced with them.
     */
    <T> T writeUnsynced(Body<T> body) throws FsException {
        return submit(body, false, false);
    }

    /**
     * As {@link #writeUnsynced(Body)}; with {@code owesSync} the change must become durable at the next
     * {@link #sync} (a file created by {@code createFile}), which then syncs unless a synced commit has
     * written since.
     */
    <T> T writeUnsynced(Body<T> body, boolean owesSync) throws FsException {
        return submit(body, false, owesSync);
    }

    /** A body waiting for its commit; its outcome is set under the write lock and read after it. */
    private static final class Pending<T> {
        /** The engine the body is of: whose closing fails it and whose sync it may leave owing. */
        final Database db;
        final Body<T> body;
        final boolean synced;
        final boolean owes;
        /** The writer's thread, woken when its body is committed or when it may lead the next group. */
        final Thread thread = Thread.currentThread();
        /** Set last, after the outcome: a waiter that reads it true sees result, failure and changed. */
        volatile boolean done;
        T result;
        Throwable failure;
        /** Rows the body changed in the transaction being committed (0 if it failed). */
        long changed;

        Pending(Database db, Body<T> body, boolean synced, boolean owes) {
            this.db = db;
            this.body = body;
            this.synced = synced;
            this.owes = owes;
        }

        /** The body's outcome is {@code e}: nothing it returned or changed counts. */
        void fail(Throwable e) {
            result = null;
            failure = e;
            changed = 0;
        }

        T outcome() throws FsException {
            if (failure instanceof FsException e) {
                throw e;
            }
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            return result;
        }
    }

    long transactions() {
        return transactions;
    }

    long drained() {
        return drained;
    }

    int waitingWriters() {
        return waiting.size();
    }

    /**
     * Queues the body, then either leads (takes the lock and commits the oldest waiters, this one among them
     * or soon after) or waits to be woken: by the leader that committed it, or by one leaving the lock while
     * bodies still wait. Waiters park on their own, so a group's members all wake at once instead of taking
     * the lock one after another. The queue is the file's, so a leader commits the bodies of every engine on
     * the file in this JVM; the short park timeout only bounds a wake-up that raced the leader's look.
     */
    private <T> T submit(Body<T> body, boolean synced, boolean owes) throws FsException {
        Pending<T> p = new Pending<>(this, body, synced, owes);
        waiting.add(p);
        boolean interrupted = false;
        while (!p.done) {
            if (!leadIfFree(p)) {
                LockSupport.parkNanos(this, WAITER_PARK_NS);
                // An interrupt does not abandon the body (it is queued and will be committed): the caller
                // learns its outcome, then the interrupt.
                interrupted |= Thread.interrupted();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return p.outcome();
    }

    /**
     * If the lock is free: takes it, commits groups until {@code p} is done, leaves it and wakes the oldest
     * waiter left (it came after the last group was taken, and leads next). False if another holds the lock.
     */
    private boolean leadIfFree(Pending<?> p) {
        if (!writeLock.tryLock()) {
            return false;
        }
        try {
            while (!p.done) {
                if (closed) {
                    // This engine's connection is gone: its own body fails; the others wait for a leader of theirs.
                    if (waiting.remove(p)) {
                        p.fail(new FsException(Errno.EIO, "metadata database " + file + " is closed"));
                        settle(List.of(p), false);
                    }
                    break;
                }
                commitGroup();
            }
        } finally {
            writeLock.unlock();
        }
        Pending<?> next = waiting.peek();
        if (next != null) {
            LockSupport.unpark(next.thread);
        }
        return true;
    }

    /** Under the write lock: commits up to MAX_GROUP waiting bodies together, or each alone if that fails. */
    private void commitGroup() {
        List<Pending<?>> group = new ArrayList<>();
        List<Pending<?>> refused = new ArrayList<>();
        Pending<?> q;
        while (group.size() < MAX_GROUP && (q = waiting.poll()) != null) {
            drained++;
            if (q.db.closed) {
                q.fail(new FsException(Errno.EIO, "metadata database " + file + " is closed"));
                refused.add(q);
            } else {
                group.add(q);
            }
        }
        if (!refused.isEmpty()) {
            settle(refused, false);
        }
        if (group.isEmpty()) {
            return;
        }
        if (group.size() == 1) {
            commitAlone(group.get(0));
            return;
        }
        boolean synced = group.stream().anyMatch(x -> x.synced);
        boolean committed = false;
        try {
            if (!synced) {
                writer.exec("PRAGMA synchronous=NORMAL");
            }
            try {
                committed = withRetries(() -> inGroup(group));
            } finally {
                if (!synced) {
                    restoreSynchronous();
                }
            }
        } catch (SQLException | FsException | RuntimeException e) {
            if (!committed && e instanceof FsException fe && fe.errno() == Errno.EAGAIN) {
                // Another process held the lock through every retry: alone, each would only wait as long again.
                for (Pending<?> x : group) {
                    x.fail(fe);
                }
                settle(group, synced);
                return;
            }
            if (!committed) {
                // A body's own SQL failed, or the commit did: each body is run alone, so that its own outcome,
                // and only its own, is what it reports.
                for (Pending<?> x : group) {
                    commitAlone(x);
                }
                return;
            }
            // Committed, and only the setting for the next transaction failed: the outcomes stand.
        }
        settle(group, synced);
    }

    /** One transaction for the group, each body in a savepoint; an SQLException from any aborts it whole. */
    private boolean inGroup(List<Pending<?>> group) throws SQLException {
        writer.exec("BEGIN IMMEDIATE");
        try {
            for (Pending<?> x : group) {
                runInSavepoint(x);
            }
            writer.exec("COMMIT");
            transactions++;
            return true;
        } catch (SQLException | RuntimeException | Error e) {
            writer.rollbackQuietly();
            throw e;
        }
    }

    /**
     * Runs one body of a group: its changes are released into the transaction, or rolled back to the
     * savepoint if it fails with an errno or a bug (an SQLException aborts the group instead).
     */
    private <T> void runInSavepoint(Pending<T> x) throws SQLException {
        writer.exec("SAVEPOINT body");
        writer.resetChanged();
        try {
            x.result = x.body.run(writer);
            x.failure = null;
            x.changed = writer.changed();
        } catch (FsException | RuntimeException | Error e) {
            writer.exec("ROLLBACK TO body");
            x.fail(e);
        }
        writer.exec("RELEASE body");
    }

    /** A body in a transaction of its own (with retries), as when no other writer waits. */
    private <T> void commitAlone(Pending<T> x) {
        try {
            if (!x.synced) {
                writer.exec("PRAGMA synchronous=NORMAL");
            }
            try {
                x.result = withRetries(() -> inTransaction(writer, "BEGIN IMMEDIATE", x.body));
                transactions++;
                x.failure = null;
                x.changed = writer.changed();
            } finally {
                if (!x.synced) {
                    restoreSynchronous();
                }
            }
        } catch (SQLException e) {
            x.fail(failure(e));
        } catch (FsException | RuntimeException | Error e) {
            x.fail(e);
        }
        settle(List.of(x), x.synced);
    }

    /**
     * After a commit: what {@link #sync} still owes. A synced commit that wrote frames synced the WAL, and
     * with it every frame before them; an unsynced one that made a file leaves that file owing.
     */
    private void settle(List<Pending<?>> committed, boolean synced) {
        long changed = 0;
        boolean owes = false;
        for (Pending<?> x : committed) {
            changed += x.changed;
            owes |= x.owes && x.changed > 0;
        }
        if (synced && changed > 0) {
            owed = false;
            for (Pending<?> x : committed) {
                x.db.owed = false;
            }
        } else if (owes) {
            for (Pending<?> x : committed) {
                if (x.owes && x.changed > 0) {
                    x.db.owed = true;
                }
            }
        }
        Thread self = Thread.currentThread();
        for (Pending<?> x : committed) {
            x.done = true;
            if (x.thread != self) {
                LockSupport.unpark(x.thread);
            }
        }
    }

    /**
     * Makes the commits {@link #writeUnsynced(Body, boolean)} left owing durable: one synced commit (of a
     * counter, since a commit that writes nothing syncs nothing), or nothing when none is owed.
     */
    void sync() throws FsException {
        writeLock.lock();
        try {
            if (!owed) {
                return;
            }
        } finally {
            writeLock.unlock();
        }
        write(c -> c.update("INSERT INTO counters (name, value) VALUES (?, 1)"
                + " ON CONFLICT (name) DO UPDATE SET value = value + 1", Txn.SYNCS));
    }

    private void restoreSynchronous() throws FsException {
        try {
            writer.exec("PRAGMA synchronous=FULL");
        } catch (SQLException e) {
            throw failure(e);
        }
    }

    /** Runs {@code body} in one read transaction: it sees a single committed state. */
    <T> T read(Body<T> body) throws FsException {
        Conn c = borrowReader();
        try {
            return withRetries(() -> inTransaction(c, "BEGIN", body));
        } finally {
            giveBack(c);
        }
    }

    private static <T> T inTransaction(Conn c, String begin, Body<T> body) throws SQLException, FsException {
        c.exec(begin);
        c.resetChanged();
        try {
            T result = body.run(c);
            c.exec("COMMIT");
            return result;
        } catch (SQLException | FsException | RuntimeException | Error e) {
            c.rollbackQuietly();
            throw e;
        }
    }

    private interface Attempt<T> {
        T run() throws SQLException, FsException;
    }

    private <T> T withRetries(Attempt<T> attempt) throws FsException {
        for (int n = 1;; n++) {
            try {
                return attempt.run();
            } catch (SQLException e) {
                if (busy(e)) {
                    meters.conflict();
                }
                if (!busy(e) || n == ATTEMPTS) {
                    throw failure(e);
                }
                meters.retried();
                // SQLite already waited busyTimeoutMs; a short pause lets a checkpoint or recovery finish.
                pause(n * 50L);
            }
        }
    }

    private static boolean busy(SQLException e) {
        int code = e.getErrorCode() & 0xff;
        return code == SQLITE_BUSY || code == SQLITE_LOCKED;
    }

    /** Maps a database error to the errno a file system would report. */
    private FsException failure(SQLException e) {
        int code = e.getErrorCode() & 0xff;
        String where = "metadata database " + file + ": ";
        meters.error(switch (code) {
            case SQLITE_BUSY, SQLITE_LOCKED -> "busy";
            case SQLITE_FULL -> "full";
            case SQLITE_READONLY, SQLITE_PERM -> "readonly";
            default -> "io";
        });
        return switch (code) {
            case SQLITE_BUSY, SQLITE_LOCKED -> new FsException(Errno.EAGAIN, where + "locked by another process for over "
                    + ATTEMPTS * busyTimeoutMs + " ms", e);
            case SQLITE_FULL -> new FsException(Errno.ENOSPC, where + "disk full", e);
            case SQLITE_READONLY, SQLITE_PERM -> new FsException(Errno.EROFS, where + "not writable: " + e.getMessage(), e);
            default -> new FsException(Errno.EIO, where + e.getMessage(), e);
        };
    }

    private static void pause(long ms) throws FsException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted while waiting for the metadata database");
        }
    }

    private Conn borrowReader() throws FsException {
        Conn c = idleReaders.poll();
        if (c != null) {
            return c;
        }
        synchronized (this) {
            checkOpen();
            if (readers < READERS) {
                try {
                    c = Conn.open(file, busyTimeoutMs);
                } catch (SQLException e) {
                    throw failure(e);
                }
                readers++;
                return c;
            }
        }
        try {
            while (c == null) {
                checkOpen();
                c = idleReaders.poll(100, TimeUnit.MILLISECONDS);
            }
            return c;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted while waiting for a metadata connection");
        }
    }

    private void giveBack(Conn c) {
        if (closed || !idleReaders.offer(c)) {
            c.close();
        }
        if (closed) {
            // close() may have drained the queue before this offer.
            closeIdleReaders();
        }
    }

    private void checkOpen() throws FsException {
        if (closed) {
            throw new FsException(Errno.EIO, "metadata database " + file + " is closed");
        }
    }

    private void closeIdleReaders() {
        Conn c;
        while ((c = idleReaders.poll()) != null) {
            c.close();
        }
    }

    /** Closes every connection; the last one to close checkpoints the WAL into the main file. */
    @Override
    public void close() {
        closed = true;
        closeIdleReaders();
        writeLock.lock();
        try {
            writer.close();
        } finally {
            writeLock.unlock();
        }
    }
}
