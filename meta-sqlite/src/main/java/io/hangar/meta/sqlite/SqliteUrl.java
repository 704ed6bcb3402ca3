package io.hangar.meta.sqlite;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Where a {@code sqlite:} URL points. Absolute: {@code sqlite:///var/lib/hangar/meta.db} or
 * {@code sqlite:/var/lib/hangar/meta.db}. Relative to the working directory: {@code sqlite:meta.db} or
 * {@code sqlite://meta.db} (the JuiceFS spelling, where the first path element sits in the authority).
 */
final class SqliteUrl {
    static final String SCHEME = "sqlite";

    private SqliteUrl() {
    }

    static Path path(URI url) throws FsException {
        if (url.getScheme() == null || !url.getScheme().equalsIgnoreCase(SCHEME)) {
            throw bad(url, "scheme must be " + SCHEME);
        }
        if (url.getRawQuery() != null || url.getRawFragment() != null) {
            throw bad(url, "no query or fragment is understood");
        }
        String path;
        if (url.isOpaque()) {
            path = url.getSchemeSpecificPart();
        } else if (url.getRawAuthority() != null) {
            if (url.getUserInfo() != null || url.getPort() != -1) {
                throw bad(url, "a file URL has no user or port");
            }
            path = url.getAuthority() + (url.getPath() == null ? "" : url.getPath());
        } else {
            path = url.getPath();
        }
        if (path == null || path.isEmpty() || path.endsWith("/")) {
            throw bad(url, "it names no file");
        }
        if (path.indexOf('?') >= 0) {
            // sqlite-jdbc would read everything after '?' in the file name as connection options.
            throw bad(url, "the path may not contain '?'");
        }
        try {
            return Path.of(path).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw bad(url, e.getMessage());
        }
    }

    private static FsException bad(URI url, String why) {
        return new FsException(Errno.EINVAL, "bad sqlite metadata URL " + url + ": " + why
                + " (expected sqlite:///absolute/path/meta.db)");
    }
}
