package io.hangar.core.layout;

import io.hangar.spi.meta.Slice;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Turns a chunk's slice records (write order, newest wins) into the non-overlapping runs a reader sees. */
public final class SliceMerger {
    private SliceMerger() {
    }

    /**
     * The visible segments of a chunk in position order. Positions no slice covers are absent (they read
     * as zeros); hole records appear as zero segments.
     */
    public static List<Segment> merge(List<Slice> slices) {
        TreeMap<Integer, Segment> runs = new TreeMap<>();
        for (Slice s : slices) {
            if (s.len() <= 0) {
                continue;
            }
            cut(runs, s.pos(), s.end());
            runs.put(s.pos(), new Segment(s.pos(), s.len(), s.id(), s.size(), s.off()));
        }
        return new ArrayList<>(runs.values());
    }

    /** Removes [from, to) from the runs, trimming runs that straddle either edge. */
    private static void cut(TreeMap<Integer, Segment> runs, int from, int to) {
        Map.Entry<Integer, Segment> before = runs.lowerEntry(from);
        if (before != null && before.getValue().end() > from) {
            Segment b = before.getValue();
            runs.put(b.pos(), new Segment(b.pos(), from - b.pos(), b.sliceId(), b.sliceSize(), b.sliceOff()));
            if (b.end() > to) {
                int skip = to - b.pos();
                runs.put(to, new Segment(to, b.end() - to, b.sliceId(), b.sliceSize(), b.sliceOff() + skip));
                return;
            }
        }
        Map.Entry<Integer, Segment> e = runs.ceilingEntry(from);
        while (e != null && e.getKey() < to) {
            Segment s = e.getValue();
            runs.remove(s.pos());
            if (s.end() > to) {
                int skip = to - s.pos();
                runs.put(to, new Segment(to, s.end() - to, s.sliceId(), s.sliceSize(), s.sliceOff() + skip));
                break;
            }
            e = runs.ceilingEntry(from);
        }
    }
}
