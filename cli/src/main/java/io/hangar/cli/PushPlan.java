package io.hangar.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a push does with each local file, decided from its MD5 alone: <b>skip</b> it when the draft's manifest
 * already lists that path with that MD5 (an interrupted push resuming), <b>link</b> it when the team already
 * stores that MD5 (no bytes sent), else <b>upload</b> it. A second file with the MD5 of one being uploaded is
 * linked after the uploads ({@link #linkAfter}): the first upload makes that MD5 known.
 */
record PushPlan(List<LocalFile> skip, List<LocalFile> link, List<LocalFile> upload, List<LocalFile> linkAfter) {
    /** A file of the pushed directory: its '/'-separated path under the directory, size and MD5 (hex). */
    record LocalFile(String path, java.nio.file.Path file, long size, String md5) {
    }

    static PushPlan of(Collection<LocalFile> files, Set<String> known, Map<String, String> manifest) {
        List<LocalFile> skip = new ArrayList<>();
        List<LocalFile> link = new ArrayList<>();
        List<LocalFile> upload = new ArrayList<>();
        List<LocalFile> linkAfter = new ArrayList<>();
        Set<String> uploading = new HashSet<>();
        for (LocalFile f : files) {
            if (f.md5().equals(manifest.get(f.path()))) {
                skip.add(f);
            } else if (known.contains(f.md5())) {
                link.add(f);
            } else if (uploading.add(f.md5())) {
                upload.add(f);
            } else {
                linkAfter.add(f);
            }
        }
        return new PushPlan(skip, link, upload, linkAfter);
    }

    static long bytes(List<LocalFile> files) {
        return files.stream().mapToLong(LocalFile::size).sum();
    }
}
