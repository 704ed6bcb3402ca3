package io.hangar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.cli.ModelRef.RefRule;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pure parts of the model repository commands: arguments, credentials, JSON, the push planner; no server. */
class RepoCommandsTest {
    @TempDir
    Path dir;

    private static int usage(Runnable r) {
        return assertThrows(CliException.class, r::run).exitCode();
    }

    @Test
    void modelRefs() {
        assertEquals(new ModelRef("vision", "resnet", null), ModelRef.parse("vision/resnet", RefRule.OPTIONAL));
        assertEquals(new ModelRef("vision", "resnet-50.v2_a", "prod"), ModelRef.parse("vision/resnet-50.v2_a:prod", RefRule.OPTIONAL));
        ModelRef n = ModelRef.parse("vision/resnet:v12", RefRule.NUMBER);
        assertTrue(n.numbered());
        assertEquals(12, n.number());
        assertEquals(3, ModelRef.parse("vision/resnet:3", RefRule.REQUIRED).number());
        assertEquals("latest", ModelRef.parse("vision/resnet:latest", RefRule.TAG).ref());
        assertEquals("/teams/vision/models/resnet", n.modelPath());
        assertEquals("vision/resnet:v12", n.toString());

        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("resnet", RefRule.OPTIONAL)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("Vision/resnet", RefRule.OPTIONAL)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("ab/resnet", RefRule.OPTIONAL)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("vision/", RefRule.OPTIONAL)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("vision/.hidden", RefRule.OPTIONAL)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("vision/a/b", RefRule.OPTIONAL)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("vision/resnet:", RefRule.OPTIONAL)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("vision/resnet:prod", RefRule.NONE)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("vision/resnet", RefRule.REQUIRED)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("vision/resnet:prod", RefRule.NUMBER)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("vision/resnet:3", RefRule.TAG)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.parse("vision/resnet:-x", RefRule.OPTIONAL)));
        assertEquals(ExitCodes.USAGE, usage(() -> ModelRef.team("-ab")));
        assertEquals("team-1", ModelRef.team("team-1"));
    }

    @Test
    void credentialsFile() throws Exception {
        Path f = dir.resolve("credentials");
        assertNull(RepoOptions.credentialsToken(f));
        Files.writeString(f, "# hangar\n\nserver=http://x\n  token = hgr_ab_cd  \ntoken=second\n");
        assertEquals("hgr_ab_cd", RepoOptions.credentialsToken(f));
        Files.writeString(f, "token=\"hgr_q\"\n");
        assertEquals("hgr_q", RepoOptions.credentialsToken(f));
        Files.writeString(f, "tokens=x\ntoken=\n");
        assertNull(RepoOptions.credentialsToken(f));
    }

    @Test
    void connectionOptionsOrder() throws Exception {
        Path home = dir.resolve("home");
        Files.createDirectories(home.resolve(".hangar"));
        Files.writeString(home.resolve(".hangar/credentials"), "token=from-file\n");
        RepoOptions o = new RepoOptions();
        assertEquals("from-file", o.token(Map.of(), home));
        assertEquals("from-env", o.token(Map.of("HANGAR_TOKEN", "from-env"), home));
        o.token = "from-option";
        assertEquals("from-option", o.token(Map.of("HANGAR_TOKEN", "from-env"), home));
        assertEquals(ExitCodes.USAGE, usage(() -> new RepoOptions().token(Map.of(), dir.resolve("nobody"))));

        assertEquals("http://127.0.0.1:9000", o.server(Map.of()));
        assertEquals("http://h:1", o.server(Map.of("HANGAR_SERVER", "http://h:1/")));
        o.server = "https://g:2";
        assertEquals("https://g:2", o.server(Map.of("HANGAR_SERVER", "http://h:1")));
        o.server = "g:2";
        assertEquals(ExitCodes.USAGE, usage(() -> o.server(Map.of())));
    }

    @Test
    void json() {
        Map<String, Object> o = Json.object("{\"a\": [1, -2.5e1, true, null, \"x\\\"\\u00e9\\n\"], \"b\": {}, \"c\": []}");
        assertEquals(List.of(1L, -25.0, true, "x\"é\n").subList(0, 3), Json.list(o.get("a")).subList(0, 3));
        assertNull(Json.list(o.get("a")).get(3));
        assertEquals("x\"é\n", Json.list(o.get("a")).get(4));
        assertEquals("{\"a\":[1,-25.0,true,null,\"x\\\"é\\n\"],\"b\":{},\"c\":[]}", Json.write(o));
        assertEquals(o, Json.object(Json.write(o)));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1,]"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("1 2"));
        assertEquals("\"\\u0001\"", Json.write("\u0001"));
    }

    @Test
    void refusalsAndTheirExitCodes() {
        CliException e = RepoClient.refusal(403, "{\"code\":\"AccessDenied\",\"message\":\"bob is not a writer of team t\"}");
        assertEquals(ExitCodes.DENIED, e.exitCode());
        assertEquals("AccessDenied: bob is not a writer of team t", e.getMessage());
        assertEquals(ExitCodes.DENIED, RepoClient.refusal(401, "{\"code\":\"Unauthenticated\",\"message\":\"m\"}").exitCode());
        assertEquals(ExitCodes.NOT_FOUND, RepoClient.refusal(404, "{\"code\":\"NotFound\",\"message\":\"no model t/m\"}").exitCode());
        assertEquals(ExitCodes.REFUSED, RepoClient.refusal(409, "{\"code\":\"Conflict\",\"message\":\"m\"}").exitCode());
        assertEquals(ExitCodes.USAGE, RepoClient.refusal(400, "{\"code\":\"BadRequest\",\"message\":\"m\"}").exitCode());
        assertEquals(ExitCodes.FAILURE, RepoClient.refusal(400, "{\"code\":\"BadDigest\",\"message\":\"m\"}").exitCode());
        assertEquals(ExitCodes.UNREACHABLE, RepoClient.refusal(503, "{\"code\":\"Unavailable\",\"message\":\"m\"}").exitCode());
        CliException html = RepoClient.refusal(502, "<html>bad gateway</html>");
        assertEquals(ExitCodes.FAILURE, html.exitCode());
        assertEquals("HTTP502: <html>bad gateway</html>", html.getMessage());
    }

    @Test
    void pathsAndQueries() {
        assertEquals("a%20b/c%2Bd/%C3%A9", RepoClient.filePath("a b/c+d/é"));
        Map<String, Object> q = new java.util.LinkedHashMap<>();
        q.put("team", "t");
        q.put("user", null);
        q.put("limit", 5);
        assertEquals("?team=t&limit=5", RepoClient.query(q));
        assertEquals("", RepoClient.query(Map.of()));
        Path root = dir.toAbsolutePath();
        assertEquals(root.resolve("x/y.bin"), RepoCommands.Pull.target(root, "x/y.bin"));
        for (String bad : new String[] {"../x", "x/../../y", "/etc/passwd", "a//b", "", "./a"}) {
            assertEquals(ExitCodes.FAILURE, usage(() -> RepoCommands.Pull.target(root, bad)), bad);
        }
        assertEquals("sub/b.bin", RepoCommands.Push.relative(dir, dir.resolve("sub").resolve("b.bin")));
    }

    @Test
    void commandLineErrorsAreOneLine() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        // Nothing listens on the port now: unreachable, exit 5, one line naming the command.
        CliRun r = CliRun.of(Map.of("HANGAR_TOKEN", "hgr_x_y"), "model", "list", "team-a", "--server",
                "http://127.0.0.1:" + port);
        assertEquals(ExitCodes.UNREACHABLE, r.exit(), r.stderr());
        assertEquals(1, r.errLines().size(), r.stderr());
        assertTrue(r.stderr().startsWith("hangar model list: cannot reach http://127.0.0.1:" + port), r.stderr());

        CliRun noToken = CliRun.of(Map.of("HOME", dir.toString()), "whoami");
        assertEquals(ExitCodes.USAGE, noToken.exit(), noToken.stderr());
        assertTrue(noToken.stderr().startsWith("hangar whoami: no API token"), noToken.stderr());

        CliRun badRef = CliRun.of(Map.of("HANGAR_TOKEN", "t"), "model", "submit", "team-a/m:prod");
        assertEquals(ExitCodes.USAGE, badRef.exit());
        assertEquals(List.of("hangar model submit: team-a/m:prod: 'prod' is not a version number"), badRef.errLines());

        Files.createDirectories(dir.resolve("empty"));
        CliRun empty = CliRun.of(Map.of("HANGAR_TOKEN", "t"), "model", "push", dir.resolve("empty").toString(), "team-a/m");
        assertEquals(ExitCodes.USAGE, empty.exit(), empty.stderr());
    }
}
