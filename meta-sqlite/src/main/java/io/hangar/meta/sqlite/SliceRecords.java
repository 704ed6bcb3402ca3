package io.hangar.meta.sqlite;

import io.hangar.spi.meta.Slice;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A chunk's slice records as one blob of 24-byte records (id u64, size u32, off u32, len u32, pos u32,
 * big-endian): appending a write is a concatenation, and the whole chunk is read in one row.
 */
final class SliceRecords {
    static final int RECORD = 24;

    private SliceRecords() {
    }

    static byte[] encode(List<Slice> slices) {
        ByteBuffer b = ByteBuffer.allocate(slices.size() * RECORD);
        for (Slice s : slices) {
            b.putLong(s.id()).putInt(s.size()).putInt(s.off()).putInt(s.len()).putInt(s.pos());
        }
        return b.array();
    }

    static List<Slice> decode(byte[] blob) {
        ByteBuffer b = ByteBuffer.wrap(blob);
        List<Slice> out = new ArrayList<>(blob.length / RECORD);
        while (b.remaining() >= RECORD) {
            out.add(new Slice(b.getLong(), b.getInt(), b.getInt(), b.getInt(), b.getInt()));
        }
        return out;
    }
}
