package io.hangar.meta.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** One operation's Lua script (the shared prelude plus its body) and its SHA-1 for EVALSHA. */
final class LuaScript {
    private static final String PRELUDE = resource("prelude");
    /** The repository store's keys and helpers, after the shared prelude (repo_* scripts only). */
    private static final String REPO_PRELUDE = PRELUDE + "\n" + resource("repo_prelude");

    final String name;
    final byte[] text;
    final byte[] sha;

    private LuaScript(String name) {
        this(name, true);
    }

    private LuaScript(String name, boolean withPrelude) {
        this(name, withPrelude ? PRELUDE : null);
    }

    private LuaScript(String name, String prelude) {
        this.name = name;
        this.text = ((prelude != null ? prelude + "\n" : "") + resource(name)).getBytes(StandardCharsets.UTF_8);
        try {
            this.sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text))
                    .getBytes(StandardCharsets.US_ASCII);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is a required JDK algorithm", e);
        }
    }

    static final LuaScript FORMAT = new LuaScript("format");
    static final LuaScript LOOKUP = new LuaScript("lookup", false);
    static final LuaScript SETATTR = new LuaScript("setattr");
    static final LuaScript MKNOD = new LuaScript("mknod");
    static final LuaScript UNLINK = new LuaScript("unlink");
    static final LuaScript RMDIR = new LuaScript("rmdir");
    static final LuaScript RENAME = new LuaScript("rename");
    static final LuaScript LINK = new LuaScript("link");
    static final LuaScript READLINK = new LuaScript("readlink");
    static final LuaScript GETXATTR = new LuaScript("getxattr");
    static final LuaScript SETXATTR = new LuaScript("setxattr");
    static final LuaScript LISTXATTR = new LuaScript("listxattr");
    static final LuaScript REMOVEXATTR = new LuaScript("removexattr");
    static final LuaScript STATFS = new LuaScript("statfs");
    static final LuaScript WRITE_SLICE = new LuaScript("write_slice");
    static final LuaScript TRUNCATE = new LuaScript("truncate");
    static final LuaScript COMPACT_CHUNK = new LuaScript("compact_chunk");
    static final LuaScript CLONE = new LuaScript("clone");
    static final LuaScript COPY_RANGE = new LuaScript("copy_range");
    static final LuaScript SESSION_OPEN = new LuaScript("session_open");
    static final LuaScript SESSION_HEARTBEAT = new LuaScript("session_heartbeat");
    static final LuaScript SESSION_CLOSE = new LuaScript("session_close");
    static final LuaScript SESSION_CLEAN = new LuaScript("session_clean");
    static final LuaScript SESSION_OTHERS = new LuaScript("session_others");
    static final LuaScript SESSION_LIST = new LuaScript("session_list");
    static final LuaScript FILE_OPEN = new LuaScript("file_open");
    static final LuaScript FILE_RELEASE = new LuaScript("file_release");
    static final LuaScript REPO_GET = new LuaScript("repo_get", REPO_PRELUDE);
    static final LuaScript REPO_LIST = new LuaScript("repo_list", REPO_PRELUDE);
    static final LuaScript REPO_COMMIT = new LuaScript("repo_commit", REPO_PRELUDE);
    static final LuaScript REPO_AUDIT = new LuaScript("repo_audit", REPO_PRELUDE);

    private static String resource(String name) {
        String path = "lua/" + name + ".lua";
        try (InputStream in = LuaScript.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing script resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
