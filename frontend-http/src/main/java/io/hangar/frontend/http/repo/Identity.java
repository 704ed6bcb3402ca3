package io.hangar.frontend.http.repo;

/**
 * Who a request comes from, as its token says. A scoped token ({@code scopeTeam}/{@code scopeModel} set) is
 * an inference pod's: it may read that one model's released versions and do nothing else.
 */
record Identity(String user, boolean siteAdmin, String scopeTeam, String scopeModel, String origin) {
    boolean scoped() {
        return scopeTeam != null;
    }

    Identity from(String origin) {
        return new Identity(user, siteAdmin, scopeTeam, scopeModel, origin);
    }
}
