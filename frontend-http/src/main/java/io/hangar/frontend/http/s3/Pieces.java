package io.hangar.frontend.http.s3;

import java.util.ArrayList;
import java.util.List;

/**
 * The pieces of a request body that arrived since its last write to the volume, each counted in the
 * gateway's {@link Budget} as it arrives (the bytes are held from then on). {@link #take} joins them into one
 * write; the caller gives the bytes back to the budget once that write is done. No buffer is allocated ahead
 * of the data.
 */
public final class Pieces {
    private final Budget budget;
    private final List<byte[]> pieces = new ArrayList<>();
    private int length;

    public Pieces(Budget budget) {
        this.budget = budget;
    }

    /** Keeps {@code piece} (not copied) and counts it. */
    public void add(byte[] piece) {
        if (piece.length == 0) {
            return;
        }
        pieces.add(piece);
        length += piece.length;
        budget.take(piece.length);
    }

    /** Bytes kept. */
    public int length() {
        return length;
    }

    /** The bytes kept, in one array (still counted: release them once written); empty afterwards. */
    public byte[] take() {
        byte[] bytes;
        if (pieces.size() == 1) {
            bytes = pieces.get(0);
        } else {
            bytes = new byte[length];
            int at = 0;
            for (byte[] piece : pieces) {
                System.arraycopy(piece, 0, bytes, at, piece.length);
                at += piece.length;
            }
        }
        pieces.clear();
        length = 0;
        return bytes;
    }

    /** Gives back what was kept and never taken (the request ends without writing it). */
    public void drop() {
        if (length > 0) {
            budget.release(length);
            pieces.clear();
            length = 0;
        }
    }
}
