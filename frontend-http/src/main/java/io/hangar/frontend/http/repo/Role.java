package io.hangar.frontend.http.repo;

import java.util.Locale;

/** A user's role in a team; each includes the ones before it. */
enum Role {
    READER, WRITER, ADMIN;

    static Role parse(String s) throws RepoError {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw RepoError.bad("role must be reader, writer or admin, not " + s);
        }
    }

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    boolean atLeast(Role r) {
        return ordinal() >= r.ordinal();
    }
}
