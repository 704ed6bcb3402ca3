package io.hangar.meta.redis;

import io.hangar.fs.Attr;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.SliceRef;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Encodings of the key schema (see docs/meta-redis.md): attribute hashes, entry members, slice records. */
final class Codec {
    /** Bytes of one slice record: id u64, size u32, off u32, len u32, pos u32, big-endian. */
    static final int SLICE_BYTES = 24;

    private Codec() {
    }

    static char typeChar(FileType t) {
        return switch (t) {
            case FILE -> 'f';
            case DIRECTORY -> 'd';
            case SYMLINK -> 'l';
            case FIFO -> 'p';
            case SOCKET -> 's';
            case CHAR_DEVICE -> 'c';
            case BLOCK_DEVICE -> 'b';
        };
    }

    static FileType type(char c) throws FsException {
        return switch (c) {
            case 'f' -> FileType.FILE;
            case 'd' -> FileType.DIRECTORY;
            case 'l' -> FileType.SYMLINK;
            case 'p' -> FileType.FIFO;
            case 's' -> FileType.SOCKET;
            case 'c' -> FileType.CHAR_DEVICE;
            case 'b' -> FileType.BLOCK_DEVICE;
            default -> throw corrupt("unknown file type code '" + c + "'");
        };
    }

    /** Attributes from an inode hash as HGETALL returns it to a script (field, value, field, value…). */
    static Attr attr(long inode, List<?> flat) throws FsException {
        Fields f = new Fields();
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            f.set(str(flat.get(i)), str(flat.get(i + 1)));
        }
        return f.attr(inode);
    }

    static Attr attr(long inode, Map<String, String> m) throws FsException {
        Fields f = new Fields();
        m.forEach(f::set);
        return f.attr(inode);
    }

    /** Collects the fields of an inode hash without an intermediate map: this runs for every lookup. */
    private static final class Fields {
        private String t;
        private String mo;
        private String u;
        private String g;
        private String n;
        private String l;
        private String at;
        private String mt;
        private String ct;
        private String rd;
        private String p;
        private int count;

        void set(String field, String value) {
            count++;
            switch (field) {
                case "t" -> t = value;
                case "mo" -> mo = value;
                case "u" -> u = value;
                case "g" -> g = value;
                case "n" -> n = value;
                case "l" -> l = value;
                case "at" -> at = value;
                case "mt" -> mt = value;
                case "ct" -> ct = value;
                case "rd" -> rd = value;
                case "p" -> p = value;
                default -> count--;
            }
        }

        Attr attr(long inode) throws FsException {
            if (count == 0) {
                throw new FsException(Errno.ENOENT, "no inode " + inode);
            }
            try {
                return new Attr(inode, type(t.charAt(0)), Integer.parseInt(mo), Integer.parseInt(u),
                        Integer.parseInt(g), Long.parseLong(n), Long.parseLong(l), Long.parseLong(at),
                        Long.parseLong(mt), Long.parseLong(ct), Integer.parseInt(rd), Long.parseLong(p));
            } catch (RuntimeException e) {
                throw corrupt("bad attributes of inode " + inode);
            }
        }
    }

    /** Index of the NUL that ends the name in a member. */
    static int nameEnd(byte[] member) throws FsException {
        for (int i = 0; i < member.length; i++) {
            if (member[i] == 0) {
                if (i + 2 >= member.length) {
                    break;
                }
                return i;
            }
        }
        throw corrupt("bad directory member " + new String(member, StandardCharsets.UTF_8));
    }

    static byte[] slice(Slice s) {
        return ByteBuffer.allocate(SLICE_BYTES).putLong(s.id()).putInt(s.size()).putInt(s.off()).putInt(s.len())
                .putInt(s.pos()).array();
    }

    static byte[] slices(List<Slice> list) {
        ByteBuffer b = ByteBuffer.allocate(SLICE_BYTES * list.size());
        for (Slice s : list) {
            b.put(slice(s));
        }
        return b.array();
    }

    static Slice slice(byte[] rec) throws FsException {
        if (rec.length != SLICE_BYTES) {
            throw corrupt("slice record of " + rec.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(rec);
        return new Slice(b.getLong(), b.getInt(), b.getInt(), b.getInt(), b.getInt());
    }

    /** A sliceRef / delSlices field "id_size". */
    static String sliceKey(SliceRef r) {
        return r.id() + "_" + r.size();
    }

    static SliceRef sliceRef(String field) throws FsException {
        int u = field.indexOf('_');
        try {
            return new SliceRef(Long.parseLong(field.substring(0, u)), Integer.parseInt(field.substring(u + 1)));
        } catch (RuntimeException e) {
            throw corrupt("bad slice reference " + field);
        }
    }

    static String str(Object o) {
        return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static FsException corrupt(String what) {
        return new FsException(Errno.EIO, "corrupt metadata: " + what);
    }
}
