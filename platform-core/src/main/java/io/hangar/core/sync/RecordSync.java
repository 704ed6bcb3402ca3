package io.hangar.core.sync;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hangar.core.sync.VolumeSyncer.Side;
import io.hangar.fs.Attr;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.repo.AuditEvent;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.repo.RepositoryStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * After the namespace, the repository records of the model versions a sync carried (docs/repository.md, "Keys
 * of the repository store"): the team and model if the destination lacks them, the version record, its
 * manifest (with the destination's inode and ctime of each file, so the destination's dedup and checks trust
 * them), and the tags that point at it. Only versions whose directory at the destination was written by a
 * sync from this source are touched, and only records that differ are written; one audit event per version
 * that changed. Work follows the models under the synced path.
 */
final class RecordSync {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern VERSION_DIR = Pattern.compile("v([1-9][0-9]{0,8})");
    private static final int PAGE = RepositoryStore.MAX_LIST;
    private static final int BATCH = 500;

    private final Side src;
    private final Side dst;
    private final String origin;
    private final List<RepoWrite> writes = new ArrayList<>();
    private long written;

    RecordSync(Side src, Side dst, String origin) {
        this.src = src;
        this.dst = dst;
        this.origin = StatusLog.withoutCredentials(origin); // no credentials in the audit log
    }

    /** Syncs the records of the versions under the synced path {@code names}; returns the records written. */
    long run(List<String> names) throws FsException {
        if (names.isEmpty()) {
            each(src.repo(), "model/", m -> {
                String[] tm = m.key().substring("model/".length()).split("/", 2);
                model(tm[0], tm[1], 0);
            });
        } else if (names.size() == 1) {
            String models = "model/" + names.get(0) + "/";
            each(src.repo(), models, m -> model(names.get(0), m.key().substring(models.length()), 0));
        } else {
            int only = 0;
            if (names.size() >= 3) {
                Matcher v = VERSION_DIR.matcher(names.get(2));
                if (!v.matches()) {
                    return 0;
                }
                only = Integer.parseInt(v.group(1));
            }
            model(names.get(0), names.get(1), only);
        }
        return written;
    }

    private void model(String team, String model, int only) throws FsException {
        Optional<RepoRecord> m = src.repo().get("model/" + team + "/" + model);
        if (m.isEmpty()) {
            return;
        }
        List<Integer> synced = new ArrayList<>();
        String prefix = "version/" + team + "/" + model + "/";
        each(src.repo(), prefix, v -> {
            int n = Integer.parseInt(v.key().substring(prefix.length()));
            if ((only == 0 || n == only) && syncedHere(team, model, n)) {
                synced.add(n); // version numbers only: a model's versions are few next to its files
            }
        });
        if (synced.isEmpty()) {
            return;
        }
        copyIfAbsent("team/" + team);
        modelRecord(m.get());
        for (int n : synced) {
            long before = written + writes.size();
            put(prefix + String.format("%08d", n), src.repo().get(prefix + String.format("%08d", n)).get().value());
            manifest(team, model, n);
            each(src.repo(), "tag/" + team + "/" + model + "/", t -> {
                if (read(t.value()).path("version").asInt() == n) {
                    put(t.key(), t.value());
                }
            });
            if (written + writes.size() > before) {
                ObjectNode d = JSON.createObjectNode().put("action", "sync.apply").put("target",
                        team + "/" + model + ":" + n).put("result", "ok").put("origin", origin);
                flush(new AuditEvent(team, "sync", model, bytes(d)));
            }
        }
        flush(null);
    }

    /** The version's directory at the destination was applied by a sync from this source. */
    private boolean syncedHere(String team, String model, int n) throws FsException {
        long at = MetadataEngine.ROOT;
        for (String name : List.of(team, model, "v" + n)) {
            Attr a = SyncRun.lookup(dst.meta(), at, name);
            if (a == null) {
                return false;
            }
            at = a.inode();
        }
        SyncMark mark = SyncMark.read(dst.meta(), at);
        return mark != null && mark.source().equals(src.format().uuid());
    }

    private void manifest(String team, String model, int n) throws FsException {
        String prefix = "file/" + team + "/" + model + "/" + String.format("%08d", n) + "/";
        String base = "/" + team + "/" + model + "/v" + n + "/";
        each(src.repo(), prefix, f -> {
            ObjectNode rec = read(f.value());
            Attr a = resolve(dst.meta(), base + f.key().substring(prefix.length()));
            if (a != null) { // else not applied (a conflict or a failure, reported by the walk)
                rec.put("inode", a.inode()).put("ctime", a.ctimeNs());
                put(f.key(), bytes(rec));
            }
        });
    }

    private void modelRecord(RepoRecord m) throws FsException {
        Optional<RepoRecord> here = dst.repo().get(m.key());
        if (here.isEmpty()) {
            put(m.key(), m.value());
            return;
        }
        ObjectNode d = read(here.get().value());
        int theirs = read(m.value()).path("versions").asInt();
        if (theirs > d.path("versions").asInt()) {
            // Version numbers come from the source: the destination's next local number must not take them.
            put(m.key(), bytes(d.put("versions", theirs)));
        }
    }

    private void copyIfAbsent(String key) throws FsException {
        if (dst.repo().get(key).isEmpty()) {
            src.repo().get(key).ifPresent(r -> writes.add(RepoWrite.put(key, r.value())));
        }
    }

    /** Queues the record unless the destination holds these bytes already. */
    private void put(String key, byte[] value) throws FsException {
        Optional<RepoRecord> here = dst.repo().get(key);
        if (here.isEmpty() || !Arrays.equals(here.get().value(), value)) {
            writes.add(RepoWrite.put(key, value));
            if (writes.size() >= BATCH) {
                flush(null);
            }
        }
    }

    private void flush(AuditEvent event) throws FsException {
        if (writes.isEmpty() && event == null) {
            return;
        }
        dst.repo().commit(List.of(), List.copyOf(writes), event == null ? List.of() : List.of(event));
        written += writes.size();
        writes.clear();
    }

    private interface Visit {
        void record(RepoRecord r) throws FsException;
    }

    /** Every record under {@code prefix} in key order, one page in memory at a time. */
    private static void each(RepositoryStore r, String prefix, Visit visit) throws FsException {
        String after = null;
        for (List<RepoRecord> page; !(page = r.list(prefix, after, PAGE)).isEmpty();
                after = page.get(page.size() - 1).key()) {
            for (RepoRecord x : page) {
                visit.record(x);
            }
            if (page.size() < PAGE) {
                break;
            }
        }
    }

    static Attr resolve(MetadataEngine m, String path) throws FsException {
        long at = MetadataEngine.ROOT;
        Attr a = m.getattr(at);
        for (String name : path.substring(1).split("/")) {
            a = SyncRun.lookup(m, at, name);
            if (a == null) {
                return null;
            }
            at = a.inode();
        }
        return a;
    }

    private static ObjectNode read(byte[] v) {
        try {
            return (ObjectNode) JSON.readTree(new String(v, StandardCharsets.UTF_8));
        } catch (IOException | ClassCastException e) {
            return JSON.createObjectNode();
        }
    }

    private static byte[] bytes(ObjectNode n) {
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
