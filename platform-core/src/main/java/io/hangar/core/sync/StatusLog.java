package io.hangar.core.sync;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.sync.RepoChange;
import io.hangar.sync.SyncStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The syncs recorded at a destination: {@code sync/status/<hash of the source URL>/<name>}, one JSON record
 * each, the source shown without credentials; and where each runner is in its source's log,
 * {@code sync/position/<hash of the source URL>/<name>}.
 */
final class StatusLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String PREFIX = "sync/status/";
    static final String POSITION_PREFIX = "sync/position/";
    private final RepositoryStore repo;

    StatusLog(RepositoryStore repo) {
        this.repo = repo;
    }

    void record(SyncStatus s) throws FsException {
        SyncStatus clean = new SyncStatus(withoutCredentials(s.source()), s.name(), s.state(), s.startedMs(),
                s.endedMs(), s.scanned(), s.copiedFiles(), s.copiedBytes(), s.skipped(), s.conflicts(), s.failed(),
                withoutCredentials(s.error()));
        try {
            repo.commit(List.of(), List.of(RepoWrite.put(key(s.source(), s.name()), JSON.writeValueAsBytes(clean))),
                    List.of());
        } catch (IOException e) {
            throw new FsException(Errno.EIO, "sync status not written: " + e.getMessage(), e);
        }
    }

    void recordPosition(String source, String name, RepoChange last) throws FsException {
        try {
            repo.commit(List.of(), List.of(RepoWrite.put(POSITION_PREFIX + hashed(source, name),
                    JSON.writeValueAsBytes(last))), List.of());
        } catch (IOException e) {
            throw new FsException(Errno.EIO, "sync position not written: " + e.getMessage(), e);
        }
    }

    Optional<RepoChange> position(String source, String name) throws FsException {
        Optional<RepoRecord> v = repo.get(POSITION_PREFIX + hashed(source, name));
        if (v.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(v.get().value(), RepoChange.class));
        } catch (IOException e) {
            return Optional.empty(); // a record of another format: start again from the log's beginning
        }
    }

    List<SyncStatus> list() throws FsException {
        List<SyncStatus> out = new ArrayList<>();
        String after = null;
        for (List<RepoRecord> page; !(page = repo.list(PREFIX, after, RepositoryStore.MAX_LIST)).isEmpty();
                after = page.get(page.size() - 1).key()) {
            for (RepoRecord r : page) {
                try {
                    out.add(JSON.readValue(r.value(), SyncStatus.class));
                } catch (IOException e) {
                    // a record of another format: left out
                }
            }
        }
        return out;
    }

    /** {@code text} with the user information of every URL in it left out ({@code redis://:secret@host}). */
    static String withoutCredentials(String text) {
        return text == null ? "" : text.replaceAll("//[^@/\\s]*@", "//");
    }

    static String key(String source, String name) {
        return PREFIX + hashed(source, name);
    }

    private static String hashed(String source, String name) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(source.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8) + "/" + name;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
