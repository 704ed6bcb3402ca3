package io.hangar.sync.plugin.tags;

import io.hangar.spi.sync.RepoChange;
import io.hangar.spi.sync.SourceView;
import io.hangar.spi.sync.SyncRequest;
import io.hangar.spi.sync.SyncStrategy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;

/**
 * Syncs a model's versions whose tags match the selector whenever the source's repository records a change
 * to that model that can move what a tag selects or what a selected version holds: an upload, a version
 * made, submitted, released or deprecated, a tag set. Each such change looks the model's tags up once per
 * call; a model changed many times in one call is synced once. When the changes select more versions than
 * one answer may hold ({@link #MAX_REQUESTS}), the rest wait here and are answered by the calls that follow.
 */
@Component(service = SyncStrategy.class, configurationPid = TagConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = TagConfig.class, factory = true)
public class TagStrategy implements SyncStrategy {
    /** The actions after which a selected version may hold something new or a tag may point elsewhere. */
    static final Set<String> TRIGGERS = Set.of("file.put", "version.create", "version.submit", "version.release",
            "version.deprecate", "version.restore", "file.restore", "tag.set");

    private String selector;
    private Set<String> teams;
    private boolean warm;
    /** Requests the changes led to that no answer has held yet, in the order they were found. */
    private final Map<String, SyncRequest> backlog = new LinkedHashMap<>();

    public TagStrategy() {
    }

    /** For tests and other runners outside a framework. */
    public TagStrategy(String selector, Set<String> teams, boolean warm) {
        configure(selector, teams, warm);
    }

    @Activate
    void activate(TagConfig c) {
        Set<String> teams = new java.util.HashSet<>();
        for (String t : c.teams()) {
            if (!t.isBlank()) {
                teams.add(t.trim());
            }
        }
        configure(c.selector(), teams, !c.sync_warm_group().isBlank());
    }

    private void configure(String selector, Set<String> teams, boolean warm) {
        if (selector == null || selector.isBlank() || selector.equals("*")) {
            throw new IllegalArgumentException("selector must name a tag or a tag prefix ending in '*': " + selector);
        }
        this.selector = selector;
        this.teams = Set.copyOf(teams);
        this.warm = warm;
    }

    boolean selects(String tag) {
        return selector.endsWith("*") ? tag.startsWith(selector.substring(0, selector.length() - 1))
                : tag.equals(selector);
    }

    /** The same each run (the teams sorted): the runner's status and position are kept under it. */
    @Override
    public String describe() {
        return "tags " + selector + (teams.isEmpty() ? "" : " of " + String.join(",", new java.util.TreeSet<>(teams)));
    }

    @Override
    public List<SyncRequest> due(long nowMs, List<RepoChange> changes, SourceView source) throws Exception {
        Map<String, String> models = new LinkedHashMap<>(); // team/model -> the change that named it first
        for (RepoChange c : changes) {
            if (c.team() != null && c.model() != null && TRIGGERS.contains(c.action())
                    && (teams.isEmpty() || teams.contains(c.team()))) {
                models.putIfAbsent(c.team() + "/" + c.model(), c.action());
            }
        }
        for (Map.Entry<String, String> m : models.entrySet()) {
            String[] tm = m.getKey().split("/", 2);
            // Sorted, so that a model's versions are found in one order whatever map the source answers.
            for (Map.Entry<String, Integer> t : new java.util.TreeMap<>(source.tags(tm[0], tm[1])).entrySet()) {
                if (selects(t.getKey()) && t.getValue() > 0) {
                    String path = "/" + m.getKey() + "/v" + t.getValue();
                    backlog.putIfAbsent(path, new SyncRequest(path, warm, "tag " + t.getKey() + " after "
                            + m.getValue()));
                }
            }
        }
        List<SyncRequest> out = new java.util.ArrayList<>(Math.min(backlog.size(), MAX_REQUESTS));
        for (java.util.Iterator<SyncRequest> i = backlog.values().iterator(); i.hasNext() && out.size() < MAX_REQUESTS;) {
            out.add(i.next());
            i.remove();
        }
        return List.copyOf(out);
    }
}
