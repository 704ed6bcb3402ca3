package io.hangar.cli;

import io.hangar.cli.ModelRef.RefRule;
import io.hangar.cli.RepoClient.ApiException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The model repository commands ({@code model …}, {@code team …}, {@code user …}, {@code whoami}): clients of
 * the REST API a runtime's S3 gateway serves under /api/v1 (docs/repository.md), never of a volume directly.
 */
final class RepoCommands {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);

    private RepoCommands() {
    }

    /** The common part: the context, the connection options and a client made from them. */
    abstract static class Base implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        RepoOptions connection;

        CliContext ctx() {
            return CliContext.of(spec);
        }

        PrintStream out() {
            return ctx().out();
        }

        RepoClient client() {
            CliContext ctx = ctx();
            return new RepoClient(connection.server(ctx.env()), connection.token(ctx.env(), ctx.home()));
        }
    }

    /** A command that only groups subcommands: run alone, it prints its usage. */
    abstract static class Group implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CommandLine.usage(this, CliContext.of(spec).err());
            return ExitCodes.USAGE;
        }
    }

    static String time(long ms) {
        return ms <= 0 ? "-" : TIME.format(Instant.ofEpochMilli(ms));
    }

    /** Rows as columns padded to their widest cell, the last column unpadded. */
    static void table(PrintStream out, List<String[]> rows) {
        if (rows.isEmpty()) {
            return;
        }
        int[] w = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int c = 0; c < r.length; c++) {
                w[c] = Math.max(w[c], r[c].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder b = new StringBuilder();
            for (int c = 0; c < r.length; c++) {
                b.append(c == r.length - 1 ? r[c] : String.format("%-" + w[c] + "s  ", r[c]));
            }
            out.println(b.toString().stripTrailing());
        }
    }

    // ---- model ----

    @Command(name = "model", mixinStandardHelpOptions = true,
            description = "Models of the repository: push, pull, versions, tags, release lifecycle, shares, audit.",
            subcommands = {Push.class, Pull.class, ListModels.class, Versions.class, Tag.class, Submit.class,
                Approve.class, Release.class, Deprecate.class, Snapshot.class, Share.class, Audit.class,
                Delete.class, Trash.class})
    static final class Model extends Group {
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the models of TEAM.")
    static final class ListModels extends Base {
        @Parameters(paramLabel = "TEAM")
        String team;
        @Option(names = "--json", description = "Print the API's JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String text = client().getText("/teams/" + RepoClient.segment(ModelRef.team(team)) + "/models");
            if (json) {
                out().println(text);
                return ExitCodes.OK;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"MODEL", "VERSIONS", "CREATED", "BY"});
            for (Object o : Json.list(Json.parse(text))) {
                Map<String, Object> m = Json.obj(o);
                rows.add(new String[] {Json.str(m, "name"), Long.toString(Json.num(m, "versions", 0)),
                    time(Json.num(m, "created", 0)), String.valueOf(Json.str(m, "createdBy"))});
            }
            table(out(), rows);
            return ExitCodes.OK;
        }
    }

    @Command(name = "versions", mixinStandardHelpOptions = true,
            description = "Lists the versions of a model, with their state, size, uploader and tags.")
    static final class Versions extends Base {
        @Parameters(paramLabel = "TEAM/MODEL")
        String model;
        @Option(names = "--json", description = "Print the API's JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            ModelRef m = ModelRef.parse(model, RefRule.NONE);
            RepoClient c = client();
            String text = c.getText(m.modelPath() + "/versions");
            if (json) {
                out().println(text);
                return ExitCodes.OK;
            }
            Map<Long, List<String>> tags = new LinkedHashMap<>();
            for (Object o : Json.list(c.get(m.modelPath() + "/tags"))) {
                Map<String, Object> t = Json.obj(o);
                tags.computeIfAbsent(Json.num(t, "version", -1), k -> new ArrayList<>()).add(Json.str(t, "tag"));
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"VERSION", "STATE", "FILES", "SIZE", "CREATED", "BY", "TAGS"});
            for (Object o : Json.list(Json.parse(text))) {
                Map<String, Object> v = Json.obj(o);
                long n = Json.num(v, "number", 0);
                boolean counted = v.containsKey("files");
                rows.add(new String[] {Long.toString(n), String.valueOf(Json.str(v, "state")),
                    counted ? Long.toString(Json.num(v, "files", 0)) : "-",
                    counted ? Sizes.format(Json.num(v, "bytes", 0)) : "-", time(Json.num(v, "created", 0)),
                    String.valueOf(Json.str(v, "createdBy")), String.join(",", tags.getOrDefault(n, List.of()))});
            }
            table(out(), rows);
            return ExitCodes.OK;
        }
    }

    @Command(name = "tag", mixinStandardHelpOptions = true, description = "Points TAG at VERSION (moving it).")
    static final class Tag extends Base {
        @Parameters(index = "0", paramLabel = "TEAM/MODEL:TAG")
        String model;
        @Parameters(index = "1", paramLabel = "VERSION")
        String version;

        @Override
        public Integer call() throws Exception {
            ModelRef m = ModelRef.parse(model, RefRule.TAG);
            Map<String, Object> r = Json.obj(client().put(m.modelPath() + "/tags/" + RepoClient.segment(m.ref()),
                    Map.of("version", version)));
            out().println(m + " -> " + Json.num(r, "version", -1));
            return ExitCodes.OK;
        }
    }

    /** submit, approve, deprecate: a POST on a numbered version, printing its new state. */
    abstract static class Transition extends Base {
        @Parameters(paramLabel = "TEAM/MODEL:N")
        String version;

        abstract String action();

        Map<String, Object> body() {
            return Map.of();
        }

        @Override
        public Integer call() throws Exception {
            ModelRef m = ModelRef.parse(version, RefRule.NUMBER);
            Map<String, Object> v = Json.obj(client().post(m.modelPath() + "/versions/" + m.number() + "/" + action(),
                    body()));
            out().println(m.team() + "/" + m.model() + ":" + Json.num(v, "number", m.number()) + " "
                    + Json.str(v, "state") + (action().equals("approve") ? " (approved by "
                    + Json.list(v.get("approvals")).stream().map(a -> Json.str(Json.obj(a), "user")).toList() + ")" : ""));
            return ExitCodes.OK;
        }
    }

    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = "Submits a draft: its tree is frozen and its manifest written.")
    static final class Submit extends Transition {
        @Override
        String action() {
            return "submit";
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true,
            description = "Approves a submitted version (a team admin other than its uploader).")
    static final class Approve extends Transition {
        @Override
        String action() {
            return "approve";
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true,
            description = "Releases a submitted, approved version; --tag moves a tag to it in the same commit.")
    static final class Release extends Transition {
        @Option(names = "--tag", paramLabel = "TAG", description = "A tag to point at the released version.")
        String tag;

        @Override
        String action() {
            return "release";
        }

        @Override
        Map<String, Object> body() {
            return tag == null ? Map.of() : Map.of("tag", tag);
        }
    }

    @Command(name = "deprecate", mixinStandardHelpOptions = true,
            description = "Deprecates a released version (still readable).")
    static final class Deprecate extends Transition {
        @Override
        String action() {
            return "deprecate";
        }
    }

    @Command(name = "snapshot", mixinStandardHelpOptions = true,
            description = "Makes a new draft as a metadata-only copy of REF (number or tag); prints its number.")
    static final class Snapshot extends Base {
        @Parameters(paramLabel = "TEAM/MODEL:REF")
        String model;

        @Override
        public Integer call() throws Exception {
            ModelRef m = ModelRef.parse(model, RefRule.REQUIRED);
            Map<String, Object> v = Json.obj(client().post(m.modelPath() + "/versions", Map.of("from", m.ref())));
            out().println(Json.num(v, "number", -1));
            return ExitCodes.OK;
        }
    }

    @Command(name = "share", mixinStandardHelpOptions = true,
            description = "Shares a model read-only with team TO_TEAM (team admin).")
    static final class Share extends Base {
        @Parameters(index = "0", paramLabel = "TEAM/MODEL")
        String model;
        @Parameters(index = "1", paramLabel = "TO_TEAM")
        String to;

        @Override
        public Integer call() throws Exception {
            ModelRef m = ModelRef.parse(model, RefRule.NONE);
            client().put(m.modelPath() + "/shares/" + RepoClient.segment(ModelRef.team(to)), null);
            out().println(m + " shared with " + to);
            return ExitCodes.OK;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Moves version N to the team's trash (kept trashDays, restorable; a team admin any "
                    + "version, a writer their own drafts); with a PATH, that file of a draft.")
    static final class Delete extends Base {
        @Parameters(index = "0", paramLabel = "TEAM/MODEL:N")
        String model;
        @Parameters(index = "1", arity = "0..1", paramLabel = "PATH")
        String path;

        @Override
        public Integer call() throws Exception {
            ModelRef m = ModelRef.parse(model, RefRule.NUMBER);
            String v = m.modelPath() + "/versions/" + RepoClient.segment(m.ref());
            Map<String, Object> e = Json.obj(client().delete(path == null ? v : v + "/files/" + RepoClient.filePath(path)));
            out().println((path == null ? m.toString() : m + " " + path) + " moved to the trash as "
                    + Json.str(e, "id") + " (until " + time(Json.num(e, "expires", 0)) + ")");
            return ExitCodes.OK;
        }
    }

    @Command(name = "trash", mixinStandardHelpOptions = true,
            description = "The team's trash: list, restore ID, purge ID (team admin).",
            subcommands = {TrashList.class, TrashRestore.class, TrashPurge.class})
    static final class Trash extends Group {
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the trash of TEAM.")
    static final class TrashList extends Base {
        @Parameters(paramLabel = "TEAM")
        String team;

        @Override
        public Integer call() throws Exception {
            List<Object> entries = Json.list(client().get("/teams/" + RepoClient.segment(ModelRef.team(team)) + "/trash"));
            List<String[]> rows = new java.util.ArrayList<>();
            rows.add(new String[] {"ID", "KIND", "WHAT", "BY", "EXPIRES"});
            for (Object o : entries) {
                Map<String, Object> e = Json.obj(o);
                String what = Json.str(e, "model") + ":" + Json.num(e, "version", -1)
                        + (Json.str(e, "path") == null ? "" : " " + Json.str(e, "path"));
                rows.add(new String[] {Json.str(e, "id"), Json.str(e, "kind"), what, Json.str(e, "by"),
                    time(Json.num(e, "expires", 0))});
            }
            table(out(), rows);
            return ExitCodes.OK;
        }
    }

    /** A command on one trash entry: TEAM and ID. */
    abstract static class TrashEntry extends Base {
        @Parameters(index = "0", paramLabel = "TEAM")
        String team;
        @Parameters(index = "1", paramLabel = "ID")
        String id;

        String entryPath() {
            return "/teams/" + RepoClient.segment(ModelRef.team(team)) + "/trash/" + RepoClient.segment(id);
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Puts trash entry ID of TEAM back: a version in its state, a file at its path.")
    static final class TrashRestore extends TrashEntry {
        @Override
        public Integer call() throws Exception {
            client().post(entryPath() + "/restore", null);
            out().println(id + " restored");
            return ExitCodes.OK;
        }
    }

    @Command(name = "purge", mixinStandardHelpOptions = true,
            description = "Deletes trash entry ID of TEAM for good, now (team admin); its blocks are freed.")
    static final class TrashPurge extends TrashEntry {
        @Override
        public Integer call() throws Exception {
            client().delete(entryPath());
            out().println(id + " purged");
            return ExitCodes.OK;
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true,
            description = "Audit log entries, oldest first (site admin; a team admin with --team).")
    static final class Audit extends Base {
        @Option(names = "--team", paramLabel = "TEAM")
        String team;
        @Option(names = "--user", paramLabel = "USER")
        String user;
        @Option(names = "--model", paramLabel = "MODEL")
        String model;
        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most N entries (default 100).")
        int limit;
        @Option(names = "--json", description = "Print the entries as one JSON array.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (limit < 1) {
                throw CliException.usage("--limit must be at least 1");
            }
            RepoClient c = client();
            List<Object> entries = new ArrayList<>();
            Long after = null;
            while (entries.size() < limit) {
                Map<String, Object> q = new LinkedHashMap<>();
                q.put("team", team);
                q.put("user", user);
                q.put("model", model);
                q.put("after", after);
                q.put("limit", Math.min(1000, limit - entries.size()));
                Map<String, Object> page = Json.obj(c.get("/audit" + RepoClient.query(q)));
                for (Object e : Json.list(page.get("entries"))) {
                    if (entries.size() < limit) {
                        entries.add(e);
                    }
                }
                Object next = page.get("next");
                if (Boolean.TRUE.equals(page.get("end")) || !(next instanceof Number n)
                        || (after != null && n.longValue() == after)) {
                    break;
                }
                after = n.longValue();
            }
            if (json) {
                out().println(Json.write(entries));
                return ExitCodes.OK;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"TIME", "USER", "ACTION", "RESULT", "TARGET"});
            for (Object o : entries) {
                Map<String, Object> e = Json.obj(o);
                rows.add(new String[] {time(Json.num(e, "time", 0)), String.valueOf(Json.str(e, "user")),
                    String.valueOf(Json.str(e, "action")), String.valueOf(Json.str(e, "result")),
                    String.valueOf(Json.str(e, "target"))});
            }
            table(out(), rows);
            return ExitCodes.OK;
        }
    }

    // ---- push and pull ----

    /** Runs {@code task} on each item with {@code threads} threads; the first failure cancels the rest and is thrown. */
    interface Task<T> {
        void run(T item) throws Exception;
    }

    static <T> void parallel(int threads, List<T> items, Task<T> task) throws Exception {
        if (items.isEmpty()) {
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, items.size())), r -> {
            Thread t = new Thread(r, "hangar-model");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (T item : items) {
                fs.add(pool.submit(() -> {
                    task.run(item);
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof Exception ex) {
                        throw ex;
                    }
                    throw (Error) c;
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The MD5 (hex) of a local file. */
    static String md5(Path file, Progress progress) throws IOException {
        MessageDigest d = md5();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                d.update(buf, 0, n);
                progress.step(n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** Every file of a version's manifest, following next. */
    static List<Map<String, Object>> manifest(RepoClient c, ModelRef m, int n) throws InterruptedException {
        List<Map<String, Object>> files = new ArrayList<>();
        String after = null;
        while (true) {
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("after", after);
            q.put("limit", 1000);
            Map<String, Object> page = Json.obj(c.get(m.modelPath() + "/versions/" + n + "/manifest" + RepoClient.query(q)));
            Json.list(page.get("files")).forEach(f -> files.add(Json.obj(f)));
            String next = Json.str(page, "next");
            if (next == null || next.equals(after)) {
                return files;
            }
            after = next;
        }
    }

    @Command(name = "push", mixinStandardHelpOptions = true,
            description = "Uploads the files of DIR as a new version of TEAM/MODEL (created if absent): files the "
                    + "team already stores are linked, not sent; an interrupted push resumes in the caller's "
                    + "newest draft. Then submits it and points TAG at it.")
    static final class Push extends Base {
        @Parameters(index = "0", paramLabel = "DIR")
        Path dir;
        @Parameters(index = "1", paramLabel = "TEAM/MODEL[:TAG]")
        String target;
        @Option(names = "--threads", paramLabel = "N", defaultValue = "4", description = "Parallel hashes and uploads (default 4).")
        int threads;
        @Option(names = "--from", paramLabel = "REF", description = "Start the draft as a snapshot of version or tag REF.")
        String from;
        @Option(names = "--no-submit", description = "Leave the version a draft.")
        boolean noSubmit;

        @Override
        public Integer call() throws Exception {
            ModelRef m = ModelRef.parse(target, RefRule.OPTIONAL);
            if (m.ref() != null && m.numbered()) {
                throw CliException.usage(target + ": push makes a new version; after ':' comes a tag to point at it");
            }
            if (threads < 1) {
                throw CliException.usage("--threads must be at least 1");
            }
            List<Path> paths = localFiles(dir);
            RepoClient c = client();
            String user = Json.str(Json.obj(c.get("/whoami")), "user");

            long total = 0;
            for (Path p : paths) {
                total += Files.size(p);
            }
            try {
                c.post("/teams/" + RepoClient.segment(m.team()) + "/models", Map.of("name", m.model()));
            } catch (ApiException e) {
                if (e.status() != 409) {
                    throw e;
                }
            }
            List<Object> versions = Json.list(c.get(m.modelPath() + "/versions"));
            Map<String, Object> newest = versions.isEmpty() ? null : Json.obj(versions.get(versions.size() - 1));
            Map<String, Object> draft;
            boolean resumed;
            if (newest != null && "draft".equals(Json.str(newest, "state")) && user != null
                    && user.equals(Json.str(newest, "createdBy"))) {
                draft = newest;
                resumed = true;
            } else {
                draft = Json.obj(c.post(m.modelPath() + "/versions", from == null ? Map.of() : Map.of("from", from)));
                resumed = false;
            }
            int n = (int) Json.num(draft, "number", -1);
            String vpath = m.modelPath() + "/versions/" + n;
            Map<String, String> listed = new LinkedHashMap<>();
            if (resumed || from != null) {
                for (Map<String, Object> f : manifest(c, m, n)) {
                    listed.put(Json.str(f, "path"), Json.str(f, "md5"));
                }
            }

            // A file of a size the team never stored cannot be a duplicate: it is sent without hashing it here
            // first (the server hashes it on the way in), which on a first push saves a whole read and MD5 of
            // the model on this machine.
            Set<Long> sizesKnown = knownSizes(c, m.team(), paths);

            // One pipeline per file: hash it (if it may be a duplicate, or the draft lists it: a resumed push);
            // skip it if the draft lists it with that MD5; link it if the team stores its MD5 (no byte of it
            // is sent); else upload it. Threads overlap one file's hashing with another's upload. A local read
            // error stops the push with the draft half filled: pushing again resumes it.
            AtomicLong uploaded = new AtomicLong();
            AtomicLong deduplicated = new AtomicLong();
            AtomicLong already = new AtomicLong();
            try (Progress bar = Progress.bytes("pushing", 2 * total)) {
                List<Integer> idx = new ArrayList<>();
                for (int i = 0; i < paths.size(); i++) {
                    idx.add(i);
                }
                parallel(threads, idx, i -> {
                    Path p = paths.get(i);
                    LocalFile f;
                    try {
                        String rel = relative(dir, p);
                        long size = Files.size(p);
                        if (!sizesKnown.contains(size) && !listed.containsKey(rel)) {
                            bar.step(size);
                            upload(c, vpath, new LocalFile(rel, p, size, null), bar, uploaded, deduplicated);
                            return;
                        }
                        f = new LocalFile(rel, p, size, md5(p, bar));
                    } catch (IOException e) {
                        throw Errors.local(e, p);
                    }
                    if (f.md5().equals(listed.get(f.path()))) {
                        already.incrementAndGet();
                        bar.step(f.size());
                    } else if (!known(c, m.team(), f.md5()) || !link(c, vpath, f)) {
                        upload(c, vpath, f, bar, uploaded, deduplicated);
                    } else {
                        deduplicated.addAndGet(f.size());
                        bar.step(f.size());
                    }
                });
            }

            String state = "draft";
            if (!noSubmit) {
                state = Json.str(Json.obj(c.post(vpath + "/submit", Map.of())), "state");
            }
            String tagged = "";
            if (m.ref() != null) {
                c.put(m.modelPath() + "/tags/" + RepoClient.segment(m.ref()), Map.of("version", Integer.toString(n)));
                tagged = ", tagged " + m.ref();
            }
            out().println(m.team() + "/" + m.model() + ":" + n + " " + state + (resumed ? " (resumed)" : "") + ": "
                    + paths.size() + " files, " + Sizes.format(uploaded.get()) + " uploaded, "
                    + Sizes.format(deduplicated.get()) + " deduplicated"
                    + (already.get() == 0 ? "" : ", " + already.get() + " already there") + tagged);
            return ExitCodes.OK;
        }

        /** The sizes among these files' that the team has stored, asked 1,000 at a time. */
        private static Set<Long> knownSizes(RepoClient c, String team, List<Path> paths) throws InterruptedException {
            List<Long> sizes = new ArrayList<>();
            for (Path p : paths) {
                try {
                    sizes.add(Files.size(p));
                } catch (IOException e) {
                    throw Errors.local(e, p);
                }
            }
            sizes = sizes.stream().distinct().toList();
            Set<Long> known = new java.util.HashSet<>();
            for (int i = 0; i < sizes.size(); i += 1000) {
                Map<String, Object> r = Json.obj(c.post("/teams/" + RepoClient.segment(team) + "/sizes",
                        Map.of("sizes", sizes.subList(i, Math.min(sizes.size(), i + 1000)))));
                for (Object o : Json.list(r.get("known"))) {
                    known.add(((Number) o).longValue());
                }
            }
            return known;
        }

        private static boolean known(RepoClient c, String team, String md5) throws InterruptedException {
            Map<String, Object> r = Json.obj(c.post("/teams/" + RepoClient.segment(team) + "/dedup",
                    Map.of("md5", List.of(md5))));
            return Json.list(r.get("known")).contains(md5);
        }

        /** Links a file the team stores; false if the server no longer has it (it changed meanwhile): upload it. */
        private static boolean link(RepoClient c, String vpath, LocalFile f) throws InterruptedException {
            try {
                c.post(vpath + "/links", Map.of("path", f.path(), "md5", f.md5(), "size", f.size()));
                return true;
            } catch (ApiException e) {
                if (e.status() != 404) {
                    throw e;
                }
                return false;
            }
        }

        /** A file of the pushed directory: its '/'-separated path under the directory, size and MD5 (hex; null: not hashed here). */
        record LocalFile(String path, Path file, long size, String md5) {
        }

        private static void upload(RepoClient c, String vpath, LocalFile f, Progress bar, AtomicLong uploaded,
                AtomicLong deduplicated) throws InterruptedException {
            AtomicLong counted = new AtomicLong();
            Map<String, Object> r = c.upload(vpath + "/files/" + RepoClient.filePath(f.path()), f.file(), f.md5(), n -> {
                // A resent body (a retried request) counts once.
                long before = counted.getAndAdd(n);
                long step = Math.max(0, Math.min(n, f.size() - before));
                bar.step(step);
            });
            bar.step(Math.max(0, f.size() - counted.get()));
            if (Boolean.TRUE.equals(r.get("deduplicated"))) {
                deduplicated.addAndGet(f.size());
            } else {
                uploaded.addAndGet(f.size());
            }
        }

        static List<Path> localFiles(Path dir) {
            if (!Files.isDirectory(dir)) {
                throw new CliException(Files.exists(dir) ? ExitCodes.REFUSED : ExitCodes.NOT_FOUND,
                        dir + ": " + (Files.exists(dir) ? "not a directory" : "no such directory"));
            }
            try (Stream<Path> s = Files.walk(dir)) {
                List<Path> l = s.filter(Files::isRegularFile).sorted().toList();
                if (l.isEmpty()) {
                    throw CliException.usage(dir + ": no files to push");
                }
                return l;
            } catch (IOException e) {
                throw Errors.local(e, dir);
            } catch (java.io.UncheckedIOException e) {
                throw Errors.local(e.getCause(), dir);
            }
        }

        static String relative(Path dir, Path file) {
            List<String> parts = new ArrayList<>();
            for (Path p : dir.relativize(file)) {
                parts.add(p.toString());
            }
            return String.join("/", parts);
        }
    }

    @Command(name = "pull", mixinStandardHelpOptions = true,
            description = "Downloads a version (REF: number or tag; default tag latest, else the newest version) "
                    + "into DIR, checking every file's MD5 against the manifest.")
    static final class Pull extends Base {
        @Parameters(index = "0", paramLabel = "TEAM/MODEL[:REF]")
        String source;
        @Parameters(index = "1", paramLabel = "DIR")
        Path dir;
        @Option(names = "--threads", paramLabel = "N", defaultValue = "4", description = "Parallel downloads (default 4).")
        int threads;

        @Override
        public Integer call() throws Exception {
            ModelRef m = ModelRef.parse(source, RefRule.OPTIONAL);
            if (threads < 1) {
                throw CliException.usage("--threads must be at least 1");
            }
            RepoClient c = client();
            int n = resolve(c, m);
            List<Map<String, Object>> files = manifest(c, m, n);
            Path root = dir.toAbsolutePath().normalize();
            long total = 0;
            for (Map<String, Object> f : files) {
                target(root, Json.str(f, "path"));
                total += Json.num(f, "size", 0);
            }
            String vpath = m.modelPath() + "/versions/" + n;
            try {
                Files.createDirectories(root);
            } catch (IOException e) {
                throw Errors.local(e, root);
            }
            try (Progress bar = Progress.bytes("pulling", total)) {
                parallel(threads, files, f -> fetch(c, vpath, root, f, bar));
            }
            out().println(m.team() + "/" + m.model() + ":" + n + " -> " + dir + ": " + files.size() + " files, "
                    + Sizes.format(total));
            return ExitCodes.OK;
        }

        /** The version number of the ref: as given, a tag's, or (none given) tag latest's, else the newest. */
        static int resolve(RepoClient c, ModelRef m) throws InterruptedException {
            if (m.ref() != null && m.numbered()) {
                return m.number();
            }
            String ref = m.ref() != null ? m.ref() : "latest";
            try {
                return (int) Json.num(Json.obj(c.get(m.modelPath() + "/versions/" + RepoClient.segment(ref))), "number", -1);
            } catch (ApiException e) {
                if (e.status() != 404 || m.ref() != null) {
                    throw e;
                }
            }
            List<Object> versions = Json.list(c.get(m.modelPath() + "/versions"));
            if (versions.isEmpty()) {
                throw new CliException(ExitCodes.NOT_FOUND, m + " has no versions");
            }
            return (int) Json.num(Json.obj(versions.get(versions.size() - 1)), "number", -1);
        }

        /** Where a manifest path lands under root; a path that would leave it is refused. */
        static Path target(Path root, String path) {
            if (path == null || path.isEmpty() || path.startsWith("/")) {
                throw new CliException(ExitCodes.FAILURE, "the manifest lists a bad path: " + path);
            }
            for (String s : path.split("/", -1)) {
                if (s.isEmpty() || s.equals(".") || s.equals("..")) {
                    throw new CliException(ExitCodes.FAILURE, "the manifest lists a bad path: " + path);
                }
            }
            Path t = root.resolve(path).normalize();
            if (!t.startsWith(root) || t.equals(root)) {
                throw new CliException(ExitCodes.FAILURE, "the manifest lists a bad path: " + path);
            }
            return t;
        }

        private static void fetch(RepoClient c, String vpath, Path root, Map<String, Object> f, Progress bar)
                throws Exception {
            String path = Json.str(f, "path");
            String want = Json.str(f, "md5");
            Path t = target(root, path);
            Path tmp = t.resolveSibling("." + t.getFileName() + ".part-"
                    + Long.toHexString(ThreadLocalRandom.current().nextLong()));
            MessageDigest d = md5();
            try {
                Files.createDirectories(t.getParent());
                try (InputStream in = c.download(vpath + "/files/" + RepoClient.filePath(path));
                        OutputStream out = Files.newOutputStream(tmp)) {
                    byte[] buf = new byte[1 << 16];
                    int k;
                    while ((k = in.read(buf)) > 0) {
                        out.write(buf, 0, k);
                        d.update(buf, 0, k);
                        bar.step(k);
                    }
                }
                String got = HexFormat.of().formatHex(d.digest());
                if (want != null && !want.equals(got)) {
                    Files.deleteIfExists(tmp);
                    throw new CliException(ExitCodes.FAILURE, path + ": MD5 " + got + " does not match the manifest's "
                            + want + " (file not kept)");
                }
                try {
                    Files.move(tmp, t, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, t, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                Files.deleteIfExists(tmp);
                throw Errors.local(e, t);
            } catch (RuntimeException | InterruptedException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
        }
    }

    // ---- team, user, whoami ----

    @Command(name = "team", mixinStandardHelpOptions = true, description = "Teams of the model repository.",
            subcommands = {TeamCreate.class, TeamAdd.class})
    static final class Team extends Group {
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates team NAME (site admin).")
    static final class TeamCreate extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            client().post("/teams", Map.of("name", ModelRef.team(name)));
            out().println("team " + name + " created");
            return ExitCodes.OK;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Gives USER a ROLE in TEAM (team admin).")
    static final class TeamAdd extends Base {
        @Parameters(index = "0", paramLabel = "TEAM")
        String team;
        @Parameters(index = "1", paramLabel = "USER")
        String user;
        @Parameters(index = "2", paramLabel = "ROLE", description = "reader, writer or admin")
        String role;

        @Override
        public Integer call() throws Exception {
            if (!List.of("reader", "writer", "admin").contains(role)) {
                throw CliException.usage("role " + role + ": expected reader, writer or admin");
            }
            client().put("/teams/" + RepoClient.segment(ModelRef.team(team)) + "/members/" + RepoClient.segment(user),
                    Map.of("role", role));
            out().println(user + " is " + (role.equals("admin") ? "an " : "a ") + role + " of " + team);
            return ExitCodes.OK;
        }
    }

    @Command(name = "user", mixinStandardHelpOptions = true, description = "Users and their API tokens.",
            subcommands = {UserCreate.class, UserToken.class})
    static final class User extends Group {
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates user NAME (site admin).")
    static final class UserCreate extends Base {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--site-admin", description = "Make the user a site administrator.")
        boolean siteAdmin;

        @Override
        public Integer call() throws Exception {
            client().post("/users", Map.of("name", name, "siteAdmin", siteAdmin));
            out().println("user " + name + " created" + (siteAdmin ? " (site admin)" : ""));
            return ExitCodes.OK;
        }
    }

    @Command(name = "token", mixinStandardHelpOptions = true,
            description = "Issues an API token for user NAME and prints it (shown once). With --team and --model, "
                    + "a read-only token for that model's released versions.")
    static final class UserToken extends Base {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--team", paramLabel = "TEAM")
        String team;
        @Option(names = "--model", paramLabel = "MODEL")
        String model;

        @Override
        public Integer call() throws Exception {
            if ((team == null) != (model == null)) {
                throw CliException.usage("--team and --model go together");
            }
            Map<String, Object> body = new LinkedHashMap<>();
            if (team != null) {
                body.put("team", ModelRef.team(team));
                body.put("model", model);
            }
            Map<String, Object> r = Json.obj(client().post("/users/" + RepoClient.segment(name) + "/tokens", body));
            out().println(Json.str(r, "token"));
            return ExitCodes.OK;
        }
    }

    @Command(name = "whoami", mixinStandardHelpOptions = true, description = "The caller of the model repository: user, teams and roles.")
    static final class Whoami extends Base {
        @Option(names = "--json", description = "Print the API's JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String text = client().getText("/whoami");
            if (json) {
                out().println(text);
                return ExitCodes.OK;
            }
            Map<String, Object> w = Json.object(text);
            out().println(Json.str(w, "user") + (Boolean.TRUE.equals(w.get("siteAdmin")) ? " (site admin)" : ""));
            Map<String, Object> scope = Json.obj(w.get("scope"));
            if (!scope.isEmpty()) {
                out().println("  token scope: " + Json.str(scope, "team") + "/" + Json.str(scope, "model") + ", "
                        + Json.str(scope, "access"));
            }
            Json.obj(w.get("teams")).forEach((t, r) -> out().println("  " + t + ": " + r));
            return ExitCodes.OK;
        }
    }
}
