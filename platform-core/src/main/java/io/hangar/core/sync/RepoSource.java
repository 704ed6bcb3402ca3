package io.hangar.core.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hangar.fs.FsException;
import io.hangar.spi.repo.AuditEntry;
import io.hangar.spi.repo.AuditPage;
import io.hangar.spi.repo.AuditQuery;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.sync.RepoChange;
import io.hangar.sync.VolumeSync;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A source repository as sync strategies see it: its audit log as changes, its tags. */
final class RepoSource implements VolumeSync.Source {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final RepositoryStore repo;

    RepoSource(RepositoryStore repo) {
        this.repo = repo;
    }

    @Override
    public List<RepoChange> changes(long afterSeq, int limit) throws FsException {
        List<RepoChange> out = new ArrayList<>();
        long after = afterSeq;
        // A page examines a bounded window and may be short before the end: follow it to the end or the limit.
        while (out.size() < limit) {
            AuditPage p = repo.audit(AuditQuery.all(Math.min(limit - out.size(), RepositoryStore.MAX_LIST)).after(after));
            for (AuditEntry e : p.entries()) {
                String action = "";
                boolean ok = false;
                try {
                    JsonNode d = JSON.readTree(e.detail());
                    action = d.path("action").asText("");
                    ok = d.path("result").asText("").equals("ok");
                } catch (IOException ignored) {
                    // not the repository's JSON: a change with no action, which strategies ignore
                }
                if (ok) {
                    out.add(new RepoChange(e.seq(), e.timeMs(), action, e.team(), e.model()));
                }
            }
            if (p.end() || p.next() <= after) {
                break;
            }
            after = p.next();
        }
        return out;
    }

    @Override
    public Map<String, Integer> tags(String team, String model) throws FsException {
        Map<String, Integer> out = new LinkedHashMap<>();
        String prefix = "tag/" + team + "/" + model + "/";
        String after = null;
        for (List<RepoRecord> page; !(page = repo.list(prefix, after, RepositoryStore.MAX_LIST)).isEmpty();
                after = page.get(page.size() - 1).key()) {
            for (RepoRecord r : page) {
                try {
                    out.put(r.key().substring(prefix.length()), JSON.readTree(r.value()).path("version").asInt());
                } catch (IOException ignored) {
                    // a tag record that is no JSON points nowhere
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        repo.close();
    }
}
