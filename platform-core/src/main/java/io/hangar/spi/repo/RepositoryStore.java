package io.hangar.spi.repo;

import io.hangar.fs.FsException;
import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Keyed records with atomic, conditional commits, and an append-only audit log, kept in a metadata
 * engine's backend. Keys are UTF-8 strings of 1 to {@link #MAX_KEY} bytes without NUL, listed in UTF-8 byte
 * order; values are at most {@link #MAX_VALUE} bytes.
 *
 * <p>Every method is bounded by what it touches: a commit by its conditions and writes (at most
 * {@link #MAX_WRITES} of each), a listing or an audit page by its {@code limit} (at most {@link #MAX_LIST}). Bad
 * arguments (an empty, too long or NUL-holding key, a value or a batch over its limit, a limit below 1 or over
 * the maximum) fail with EINVAL and change nothing. An unreachable backend is EIO or EAGAIN and leaves nothing
 * half-applied.
 *
 * <p>Implementations are thread-safe; several stores (processes) may share one backend and see each other's
 * commits at once. The conformance kit in platform-core's test artifact checks all of this.
 */
@ConsumerType
public interface RepositoryStore extends AutoCloseable {
    int MAX_KEY = 1024;
    int MAX_VALUE = 1 << 20;
    int MAX_WRITES = 1000;
    int MAX_LIST = 1000;

    Optional<RepoRecord> get(String key) throws FsException;

    /**
     * Records whose key starts with {@code prefix} (may be empty), in key order, starting after the key
     * {@code after} (null: from the first), at most {@code limit}.
     */
    List<RepoRecord> list(String prefix, String after, int limit) throws FsException;

    /**
     * Applies {@code writes} in order and appends {@code audit} to the log, all at once, if and only if every
     * condition holds; otherwise changes nothing and returns false. A key may appear in several writes; the
     * last wins. Durable when it returns true.
     */
    boolean commit(List<RepoCondition> conditions, List<RepoWrite> writes, List<AuditEvent> audit)
            throws FsException;

    /** One page of the audit log; see {@link AuditPage} for how to read on. */
    AuditPage audit(AuditQuery query) throws FsException;

    /** Frees connections. Idempotent; does not throw for a backend that is already gone. */
    @Override
    void close();
}
