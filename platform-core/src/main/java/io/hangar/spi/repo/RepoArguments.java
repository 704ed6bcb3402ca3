package io.hangar.spi.repo;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.util.List;

/**
 * The argument checks of {@link RepositoryStore}, shared so that every store refuses exactly the same
 * things with the same errno (EINVAL) before it touches its backend.
 */
public final class RepoArguments {
    private RepoArguments() {
    }

    /** The key's UTF-8 bytes, after checking it is 1 to {@link RepositoryStore#MAX_KEY} bytes without NUL. */
    public static byte[] key(String key) throws FsException {
        if (key == null || key.isEmpty()) {
            throw new FsException(Errno.EINVAL, "empty repository key");
        }
        byte[] k = key.getBytes(UTF_8);
        if (k.length > RepositoryStore.MAX_KEY) {
            throw new FsException(Errno.EINVAL, "repository key longer than " + RepositoryStore.MAX_KEY + " bytes");
        }
        for (byte x : k) {
            if (x == 0) {
                throw new FsException(Errno.EINVAL, "repository key holds NUL");
            }
        }
        return k;
    }

    public static void prefix(String prefix) throws FsException {
        if (prefix == null) {
            throw new FsException(Errno.EINVAL, "null prefix (use \"\" for every key)");
        }
        if (!prefix.isEmpty()) {
            key(prefix);
        }
    }

    /**
     * The smallest byte string greater than every string starting with {@code prefix} (the exclusive end of a
     * prefix's key range in UTF-8 byte order); null if there is none (the prefix is empty or all 0xff).
     */
    public static byte[] prefixEnd(byte[] prefix) {
        for (int i = prefix.length - 1; i >= 0; i--) {
            if (prefix[i] != (byte) 0xff) {
                byte[] s = java.util.Arrays.copyOf(prefix, i + 1);
                s[i]++;
                return s;
            }
        }
        return null;
    }

    public static void limit(int limit) throws FsException {
        if (limit < 1 || limit > RepositoryStore.MAX_LIST) {
            throw new FsException(Errno.EINVAL, "limit " + limit + " is outside 1.." + RepositoryStore.MAX_LIST);
        }
    }

    public static void commit(List<RepoCondition> conditions, List<RepoWrite> writes, List<AuditEvent> audit)
            throws FsException {
        if (conditions.size() > RepositoryStore.MAX_WRITES || writes.size() > RepositoryStore.MAX_WRITES
                || audit.size() > RepositoryStore.MAX_WRITES) {
            throw new FsException(Errno.EINVAL, "a commit holds at most " + RepositoryStore.MAX_WRITES
                    + " conditions, writes and audit events each");
        }
        for (RepoCondition c : conditions) {
            key(c.key());
            if (c.version() < 0) {
                throw new FsException(Errno.EINVAL, "negative version in a condition on " + c.key());
            }
        }
        for (RepoWrite w : writes) {
            key(w.key());
            if (w.value() != null && w.value().length > RepositoryStore.MAX_VALUE) {
                throw new FsException(Errno.EINVAL, "value of " + w.key() + " is larger than "
                        + RepositoryStore.MAX_VALUE + " bytes");
            }
        }
        for (AuditEvent e : audit) {
            if (e.detail() == null || e.detail().length > RepositoryStore.MAX_VALUE) {
                throw new FsException(Errno.EINVAL, "an audit event needs a detail of at most "
                        + RepositoryStore.MAX_VALUE + " bytes");
            }
        }
    }

    public static void query(AuditQuery q) throws FsException {
        limit(q.limit());
        if (q.afterSeq() < 0) {
            throw new FsException(Errno.EINVAL, "negative audit cursor");
        }
    }

    /**
     * How many log entries one audit page may examine: a filter that matches rarely costs a bounded amount per
     * page, and the caller follows {@link AuditPage#next()}.
     */
    public static int scanBudget(int limit) {
        return Math.max(1000, limit * 10);
    }
}
