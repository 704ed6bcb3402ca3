package io.hangar.frontend.fuse.lowlevel;

import io.hangar.fs.Attr;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Offsets and builders of the C structs the low-level API exchanges, for Linux x86_64 and aarch64 with
 * libfuse 3.14 (../shared/notes/libfuse3-lowlevel.md; both are LP64 with the same generic layouts except
 * {@code struct stat}, whose aarch64 form is checked in {@link #supported()}).
 */
final class Layout {
    static final int STAT = 144;
    static final int ENTRY_PARAM = 176;
    static final int STATVFS = 112;
    static final int FLOCK = 32;
    static final int OPS_SIZE = Fuse3.OPS * 8;

    // struct stat (x86_64)
    static final int ST_INO = 8, ST_NLINK = 16, ST_MODE = 24, ST_UID = 28, ST_GID = 32, ST_RDEV = 40,
            ST_SIZE = 48, ST_BLKSIZE = 56, ST_BLOCKS = 64, ST_ATIM = 72, ST_MTIM = 88, ST_CTIM = 104;

    // struct fuse_file_info
    static final int FI_FLAGS = 0, FI_BITS = 4, FI_FH = 16, FI_LOCK_OWNER = 24;
    static final int FI_DIRECT_IO = 0x2, FI_KEEP_CACHE = 0x4, FI_FLOCK_RELEASE = 0x20;

    // struct fuse_conn_info
    static final int CONN_MAX_WRITE = 8, CONN_MAX_READ = 12, CONN_MAX_READAHEAD = 16, CONN_CAPABLE = 20,
            CONN_WANT = 24, CONN_MAX_BACKGROUND = 28, CONN_CONGESTION_THRESHOLD = 32;

    // struct flock (x86_64): short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
    static final int FL_TYPE = 0, FL_WHENCE = 2, FL_START = 8, FL_LEN = 16, FL_PID = 24;

    // struct fuse_ctx
    static final int CTX_UID = 0, CTX_GID = 4, CTX_PID = 8;

    private Layout() {
    }

    /** Whether this process runs where these layouts were verified. */
    static boolean supported() {
        String arch = System.getProperty("os.arch");
        return System.getProperty("os.name").equals("Linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A struct stat of {@code a}, reported under st_ino {@code ino}. */
    static void stat(ByteBuffer b, int base, Attr a, int blksize) {
        b.putLong(base + ST_INO, a.inode());
        b.putLong(base + ST_NLINK, a.nlink());
        b.putInt(base + ST_MODE, a.stMode());
        b.putInt(base + ST_UID, a.uid());
        b.putInt(base + ST_GID, a.gid());
        b.putLong(base + ST_RDEV, a.rdev() & 0xffffffffL);
        b.putLong(base + ST_SIZE, a.length());
        b.putLong(base + ST_BLKSIZE, blksize);
        b.putLong(base + ST_BLOCKS, (a.length() + 511) / 512);
        time(b, base + ST_ATIM, a.atimeNs());
        time(b, base + ST_MTIM, a.mtimeNs());
        time(b, base + ST_CTIM, a.ctimeNs());
    }

    static byte[] stat(Attr a, int blksize) {
        ByteBuffer b = le(STAT);
        stat(b, 0, a, blksize);
        return b.array();
    }

    /** A struct stat with only st_ino and the type bits of st_mode, as readdir reports them. */
    static byte[] dirStat(long ino, int typeBits) {
        ByteBuffer b = le(STAT);
        b.putLong(ST_INO, ino);
        b.putInt(ST_MODE, typeBits);
        return b.array();
    }

    /** A fuse_entry_param: nodeid {@code nodeid} (0: a negative entry), generation 0. */
    static byte[] entry(long nodeid, Attr a, double attrTimeout, double entryTimeout, int blksize) {
        ByteBuffer b = le(ENTRY_PARAM);
        b.putLong(0, nodeid);
        b.putLong(8, 0);
        if (a != null) {
            stat(b, 16, a, blksize);
        }
        b.putDouble(160, attrTimeout);
        b.putDouble(168, entryTimeout);
        return b.array();
    }

    static void time(ByteBuffer b, int off, long ns) {
        b.putLong(off, Math.floorDiv(ns, 1_000_000_000L));
        b.putLong(off + 8, Math.floorMod(ns, 1_000_000_000L));
    }

    static byte[] statvfs(long bsize, long blocks, long bfree, long files, long ffree, long namemax) {
        ByteBuffer b = le(STATVFS);
        b.putLong(0, bsize); // f_bsize
        b.putLong(8, bsize); // f_frsize
        b.putLong(16, blocks);
        b.putLong(24, bfree);
        b.putLong(32, bfree); // f_bavail
        b.putLong(40, files);
        b.putLong(48, ffree);
        b.putLong(56, ffree); // f_favail
        b.putLong(80, namemax);
        return b.array();
    }

    static byte[] flock(short type, long start, long len, int pid) {
        ByteBuffer b = le(FLOCK);
        b.putShort(FL_TYPE, type);
        b.putShort(FL_WHENCE, (short) 0);
        b.putLong(FL_START, start);
        b.putLong(FL_LEN, len);
        b.putInt(FL_PID, pid);
        return b.array();
    }
}
