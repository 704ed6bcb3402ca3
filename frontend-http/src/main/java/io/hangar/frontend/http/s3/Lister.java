package io.hangar.frontend.http.s3;

import io.hangar.fs.DirEntry;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Lists a bucket's keys in S3 order (UTF-8 byte order of the whole key) by walking its directories: the
 * entries of each directory are sorted by name, a directory's as "name/" (so "a-b" comes before "a/x", as
 * in S3), and subtrees entirely before the start point or outside the prefix are never entered. With a
 * delimiter, keys that have it past the prefix roll up into common prefixes; for "/" a directory becomes its
 * common prefix without being walked. A directory that holds nothing is no prefix; a marked one is the key
 * "dir/". Each directory on the path is read whole (in pages of 1000) and sorted in memory.
 */
final class Lister {
    /** One listed item: an object, or a common prefix ({@code info == null}). */
    record Item(String key, ObjectStore.Info info) {
        boolean prefix() {
            return info == null;
        }
    }

    record Page(List<Item> items, boolean truncated) {
        /** The last key or prefix returned: where the next page starts after. */
        String last() {
            return items.isEmpty() ? null : items.get(items.size() - 1).key();
        }
    }

    private static final String MAX = new String(Character.toChars(Character.MAX_CODE_POINT));

    private final ObjectStore store;
    private final String prefix;
    private final String delimiter;
    private final int max;
    private final String after;
    private final List<Item> items = new ArrayList<>();
    private boolean truncated;
    private String lastPrefix;

    private static final class Full extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Full() {
            super(null, null, false, false);
        }
    }

    /**
     * @param after list only keys after this one (a marker, a start-after or a continuation); when it is a
     *            common prefix of this listing, nothing under it either
     */
    private Lister(ObjectStore store, String prefix, String delimiter, int max, String after) {
        this.store = store;
        this.prefix = prefix == null ? "" : prefix;
        this.delimiter = delimiter == null || delimiter.isEmpty() ? null : delimiter;
        this.max = max;
        String a = after == null ? "" : after;
        if (this.delimiter != null && a.startsWith(this.prefix)) {
            int i = a.indexOf(this.delimiter, this.prefix.length());
            if (i >= 0 && i + this.delimiter.length() == a.length()) {
                a = a + MAX;
            }
        }
        this.after = a;
    }

    static Page list(ObjectStore store, long bucket, String prefix, String delimiter, int max, String after)
            throws FsException {
        Lister l = new Lister(store, prefix, delimiter, max, after);
        if (max > 0) {
            try {
                l.walk(bucket, "");
            } catch (Full full) {
                // max items and one more seen: truncated.
            }
        } else {
            l.truncated = false;
        }
        return new Page(l.items, l.truncated);
    }

    private record Named(DirEntry e, String sortName) {
    }

    private void walk(long dir, String dirKey) throws FsException {
        List<Named> entries = new ArrayList<>();
        for (DirEntry e : store.readdirAll(dir)) {
            if (e.type() == FileType.DIRECTORY) {
                entries.add(new Named(e, e.name() + "/"));
            } else if (e.type() == FileType.FILE) {
                entries.add(new Named(e, e.name()));
            }
        }
        entries.sort(Comparator.comparing(Named::sortName, Keys.ORDER));
        for (Named n : entries) {
            String key = dirKey + n.sortName();
            boolean isDir = n.e().type() == FileType.DIRECTORY;
            if (isDir) {
                if (!key.startsWith(prefix) && !prefix.startsWith(key)) {
                    continue;
                }
                // Every key below starts with `key`: skip the subtree if all of it is at or before `after`.
                if (Keys.compare(key + MAX, after) <= 0) {
                    continue;
                }
                if (delimiter != null && key.startsWith(prefix)) {
                    int i = key.indexOf(delimiter, prefix.length());
                    if (i >= 0) {
                        String cp = key.substring(0, i + delimiter.length());
                        if (!cp.equals(lastPrefix) && !(after.startsWith(cp) && !after.equals(cp))
                                && hasContent(n.e().inode())) {
                            addPrefix(cp);
                        }
                        continue;
                    }
                }
                if (key.startsWith(prefix) && Keys.compare(key, after) > 0
                        && store.hasXattr(n.e().inode(), ObjectStore.XA_MARKER)) {
                    addKey(key, n.e());
                }
                walk(n.e().inode(), key);
            } else {
                if (!key.startsWith(prefix) || Keys.compare(key, after) <= 0) {
                    continue;
                }
                addKey(key, n.e());
            }
        }
    }

    private boolean hasContent(long dir) throws FsException {
        return store.hasXattr(dir, ObjectStore.XA_MARKER) || !store.volume.readdir(dir, null, 1, false).isEmpty();
    }

    private void addKey(String key, DirEntry e) throws FsException {
        if (delimiter != null) {
            int i = key.indexOf(delimiter, prefix.length());
            if (i >= 0) {
                addPrefix(key.substring(0, i + delimiter.length()));
                return;
            }
        }
        full();
        items.add(new Item(key, store.info(key, e.attr() != null ? e.attr() : store.volume.getattr(e.inode()), false)));
    }

    private void addPrefix(String cp) {
        if (cp.equals(lastPrefix) || (after.startsWith(cp) && !after.equals(cp))) {
            return;
        }
        full();
        lastPrefix = cp;
        items.add(new Item(cp, null));
    }

    private void full() {
        if (items.size() >= max) {
            truncated = true;
            throw new Full();
        }
    }
}
