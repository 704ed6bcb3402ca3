package io.hangar.spi.sync;

/**
 * One committed change of the source repository, as its audit log records it: {@code action} such as
 * {@code version.release}, {@code tag.set}, {@code file.put}, {@code version.submit}; {@code team} and
 * {@code model} it touched (either null for site-wide actions).
 */
public record RepoChange(long seq, long timeMs, String action, String team, String model) {
}
