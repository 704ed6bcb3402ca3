package io.hangar.frontend.http.s3;

import io.hangar.fs.FsException;
import io.hangar.frontend.http.repo.S3Access;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.vfs.Volume;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;

/**
 * Requests signed with a repository user's S3 key (a key not in the credentials file): the key is found in
 * the volume's repository, and each request is authorized by the repository's rules before the handler runs
 * it. What the user may do in this one request becomes a {@link Credentials.Key} whose read and write lists
 * hold just the buckets it was allowed, so the handler's own checks (the same as for operator keys) pass for
 * those and for nothing else. Every method that blocks is called on a worker.
 */
final class RepositoryUsers {
    private final Volume volume;
    private volatile S3Access access;

    RepositoryUsers(Volume volume) {
        this.volume = volume;
    }

    /** Serves the users of the repository in {@code store} (null: none, only operator keys work). */
    void attach(RepositoryStore store, String apiTokenFile) {
        access = store == null ? null : new S3Access(store, volume, apiTokenFile);
    }

    S3Access access() {
        return access;
    }

    /** A user's key, or null. */
    S3Access.Key find(String accessKey, String origin) throws FsException {
        S3Access a = access;
        return a == null ? null : a.find(accessKey, origin);
    }

    /**
     * What the request may do, as an operator-style key; AccessDenied if the repository refuses it (the
     * handler's failure path audits it).
     */
    Credentials.Key authorize(S3Access.Key k, String method, String bucket, String key,
            Function<String, String> param, Function<String, String> header) throws S3Error, FsException {
        S3Access a = access;
        if (a == null) {
            throw S3Error.accessDenied("the repository is not available");
        }
        S3Access.Principal p = k.principal();
        Set<String> read = new HashSet<>();
        Set<String> write = new HashSet<>();
        try {
            if (bucket == null) {
                if (method.equals("GET")) {
                    Set<String> teams = a.teams(p);
                    read.addAll(teams == null ? Set.of("*") : teams);
                }
            } else if (key == null) {
                switch (method) {
                    case "GET", "HEAD" -> {
                        a.requireList(p, bucket, param.apply("prefix"));
                        read.add(bucket);
                    }
                    case "PUT", "DELETE" -> {
                        a.requireSiteAdmin(p);
                        write.add(bucket);
                    }
                    case "POST" -> {
                        a.requireWrite(p, bucket);
                        write.add(bucket);
                    }
                    default -> {
                        // MethodNotAllowed follows.
                    }
                }
            } else {
                switch (method) {
                    case "GET", "HEAD" -> {
                        a.requireRead(p, bucket, key);
                        read.add(bucket);
                    }
                    case "PUT", "POST", "DELETE" -> {
                        a.requireWrite(p, bucket);
                        write.add(bucket);
                        String source = header.apply("x-amz-copy-source");
                        if (method.equals("PUT") && source != null) {
                            String[] src = S3Handler.copySource(source);
                            a.requireRead(p, src[0], src[1]);
                            read.add(src[0]);
                        }
                    }
                    default -> {
                        // MethodNotAllowed follows.
                    }
                }
            }
        } catch (S3Access.Denied d) {
            throw S3Error.accessDenied("Access Denied: " + d.getMessage());
        }
        return new Credentials.Key(k.accessKey(), k.secret(), Set.copyOf(read), Set.copyOf(write));
    }
}
