package io.hangar.core.layout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.meta.Slice;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SliceMergerTest {

    @Test
    void singleSliceIsOneSegment() {
        List<Segment> s = SliceMerger.merge(List.of(new Slice(7, 100, 0, 100, 10)));
        assertEquals(List.of(new Segment(10, 100, 7, 100, 0)), s);
    }

    @Test
    void newerSliceWinsInTheMiddle() {
        List<Segment> s = SliceMerger.merge(List.of(new Slice(1, 100, 0, 100, 0), new Slice(2, 10, 0, 10, 40)));
        assertEquals(List.of(new Segment(0, 40, 1, 100, 0), new Segment(40, 10, 2, 10, 0),
                new Segment(50, 50, 1, 100, 50)), s);
    }

    @Test
    void newerSliceCoversOlderCompletely() {
        List<Segment> s = SliceMerger.merge(List.of(new Slice(1, 10, 0, 10, 5), new Slice(2, 30, 0, 30, 0)));
        assertEquals(List.of(new Segment(0, 30, 2, 30, 0)), s);
    }

    @Test
    void holeRecordReadsAsZeroOnTop() {
        List<Segment> s = SliceMerger.merge(List.of(new Slice(1, 100, 0, 100, 0), Slice.hole(60, 40)));
        assertEquals(List.of(new Segment(0, 60, 1, 100, 0), new Segment(60, 40, 0, 40, 0)), s);
        assertTrue(s.get(1).isZero());
    }

    @Test
    void sliceOffsetIsCarriedThroughCuts() {
        List<Segment> s = SliceMerger.merge(List.of(new Slice(1, 200, 50, 100, 0), new Slice(2, 10, 0, 10, 0)));
        assertEquals(List.of(new Segment(0, 10, 2, 10, 0), new Segment(10, 90, 1, 200, 60)), s);
    }

    @Test
    void gapsAreAbsent() {
        List<Segment> s = SliceMerger.merge(List.of(new Slice(1, 10, 0, 10, 0), new Slice(2, 10, 0, 10, 100)));
        assertEquals(2, s.size());
        assertEquals(100, s.get(1).pos());
    }

    /** Random slices against a byte-per-position model: the merged view must match the model exactly. */
    @Test
    void randomSlicesMatchAPaintedModel() {
        Random r = new Random(42);
        for (int round = 0; round < 200; round++) {
            int size = 1000;
            long[] model = new long[size];
            int[] modelOff = new int[size];
            List<Slice> slices = new ArrayList<>();
            for (int i = 0; i < 1 + r.nextInt(30); i++) {
                int pos = r.nextInt(size - 1);
                int len = 1 + r.nextInt(size - pos);
                int off = r.nextInt(50);
                long id = r.nextInt(5) == 0 ? 0 : i + 1;
                slices.add(new Slice(id, off + len, off, len, pos));
                for (int p = pos; p < pos + len; p++) {
                    model[p] = id == 0 ? -1 : id;
                    modelOff[p] = off + (p - pos);
                }
            }
            long[] got = new long[size];
            int[] gotOff = new int[size];
            int lastEnd = -1;
            for (Segment seg : SliceMerger.merge(slices)) {
                assertTrue(seg.pos() >= lastEnd, "segments overlap or are out of order");
                lastEnd = seg.end();
                for (int p = seg.pos(); p < seg.end(); p++) {
                    got[p] = seg.isZero() ? -1 : seg.sliceId();
                    gotOff[p] = seg.isZero() ? modelOff[p] : seg.sliceOff() + (p - seg.pos());
                }
            }
            assertArrayEquals(model, got, "round " + round);
            assertArrayEquals(modelOff, gotOff, "round " + round);
        }
    }
}
