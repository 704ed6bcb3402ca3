package io.hangar.cli;

import java.util.regex.Pattern;

/**
 * A model argument {@code <team>/<model>[:<ref>]}; the ref is a version number ({@code 3} or {@code v3}) or a
 * tag. Names follow the API's patterns (openapi.yaml), so a typo fails here with exit 2, not at the server.
 */
record ModelRef(String team, String model, String ref) {
    static final Pattern TEAM = Pattern.compile("[a-z0-9][a-z0-9-]{1,61}[a-z0-9]");
    static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    static final Pattern NUMBER = Pattern.compile("v?[0-9]{1,8}");
    static final Pattern TAG = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,127}");

    /** What an argument may or must carry after the colon. */
    enum RefRule { NONE, OPTIONAL, REQUIRED, NUMBER, TAG }

    static ModelRef parse(String arg, RefRule rule) {
        String form = switch (rule) {
            case NONE -> "<team>/<model>";
            case OPTIONAL -> "<team>/<model>[:<ref>]";
            case REQUIRED -> "<team>/<model>:<ref>";
            case NUMBER -> "<team>/<model>:<version>";
            case TAG -> "<team>/<model>:<tag>";
        };
        int slash = arg.indexOf('/');
        if (slash < 0) {
            throw CliException.usage(arg + ": expected " + form);
        }
        String team = arg.substring(0, slash);
        String rest = arg.substring(slash + 1);
        int colon = rest.indexOf(':');
        String model = colon < 0 ? rest : rest.substring(0, colon);
        String ref = colon < 0 ? null : rest.substring(colon + 1);
        team(team);
        if (!MODEL.matcher(model).matches()) {
            throw CliException.usage(arg + ": '" + model + "' is not a model name (letters, digits, . _ -; up to 128)");
        }
        if (ref != null && ref.isEmpty()) {
            throw CliException.usage(arg + ": empty ref after ':'; expected " + form);
        }
        switch (rule) {
            case NONE -> {
                if (ref != null) {
                    throw CliException.usage(arg + ": no ref here; expected " + form);
                }
            }
            case OPTIONAL, REQUIRED, NUMBER, TAG -> {
                if (ref == null && rule != RefRule.OPTIONAL) {
                    throw CliException.usage(arg + ": expected " + form);
                }
                if (ref != null) {
                    boolean number = NUMBER.matcher(ref).matches();
                    if (rule == RefRule.NUMBER && !number) {
                        throw CliException.usage(arg + ": '" + ref + "' is not a version number");
                    }
                    if (rule == RefRule.TAG && (number || !TAG.matcher(ref).matches())) {
                        throw CliException.usage(arg + ": '" + ref + "' is not a tag (it starts with a letter)");
                    }
                    if (!number && !TAG.matcher(ref).matches()) {
                        throw CliException.usage(arg + ": '" + ref + "' is neither a version number nor a tag");
                    }
                }
            }
        }
        return new ModelRef(team, model, ref);
    }

    /** Checks a team name. */
    static String team(String team) {
        if (!TEAM.matcher(team).matches()) {
            throw CliException.usage("'" + team + "' is not a team name (3-63 of a-z 0-9 -, not starting or ending with -)");
        }
        return team;
    }

    /** Whether the ref is a version number. */
    boolean numbered() {
        return ref != null && NUMBER.matcher(ref).matches();
    }

    /** The version number of a numbered ref. */
    int number() {
        return Integer.parseInt(ref.startsWith("v") ? ref.substring(1) : ref);
    }

    /** The API path of the model: {@code /teams/t/models/m}. */
    String modelPath() {
        return "/teams/" + RepoClient.segment(team) + "/models/" + RepoClient.segment(model);
    }

    @Override
    public String toString() {
        return team + "/" + model + (ref == null ? "" : ":" + ref);
    }
}
