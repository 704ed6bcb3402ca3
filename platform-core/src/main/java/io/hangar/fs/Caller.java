package io.hangar.fs;

/** Who asks: the credentials new inodes are owned by and ownership rules are checked against. */
public record Caller(int uid, int gid, int[] groups, long pid) {
    public static final Caller ROOT = new Caller(0, 0, new int[0], 0);

    public boolean isRoot() {
        return uid == 0;
    }

    public boolean inGroup(int g) {
        if (gid == g) {
            return true;
        }
        for (int x : groups) {
            if (x == g) {
                return true;
            }
        }
        return false;
    }
}
