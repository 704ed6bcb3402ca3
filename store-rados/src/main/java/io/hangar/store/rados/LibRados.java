package io.hangar.store.rados;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The librados calls rados-java 0.6.0 does not bind (object stat and read operations, omap, asynchronous
 * stat), and the few plain ones the store uses with their return codes. {@code size_t} and {@code time_t}
 * are mapped to {@code long}: 64-bit Linux only (amd64, arm64), as Debian's librados2 is.
 */
interface LibRados extends Library {
    LibRados INSTANCE = Native.load("rados", LibRados.class,
            java.util.Map.of(Library.OPTION_STRING_ENCODING, "UTF-8"));

    // ---- plain object calls: 0 or a negative errno
    int rados_stat(Pointer io, String oid, LongByReference psize, LongByReference pmtime);

    // ---- asynchronous completions (no callbacks: waited for)
    int rados_aio_create_completion(Pointer cbArg, Pointer cbComplete, Pointer cbSafe, PointerByReference pc);

    int rados_aio_wait_for_complete(Pointer c);

    int rados_aio_get_return_value(Pointer c);

    void rados_aio_release(Pointer c);

    int rados_aio_stat(Pointer io, String oid, Pointer completion, Pointer psize, Pointer pmtime);

    // ---- compound read operations: stat and read of one object in one round trip; omap listings
    Pointer rados_create_read_op();

    void rados_release_read_op(Pointer op);

    void rados_read_op_stat(Pointer op, Pointer psize, Pointer pmtime, Pointer prval);

    void rados_read_op_read(Pointer op, long offset, long len, Pointer buf, Pointer bytesRead, Pointer prval);

    void rados_read_op_omap_get_vals2(Pointer op, String startAfter, String filterPrefix, long maxReturn,
            PointerByReference iter, Pointer pmore, Pointer prval);

    int rados_read_op_operate(Pointer op, Pointer io, String oid, int flags);

    int rados_omap_get_next(Pointer iter, PointerByReference key, PointerByReference val, LongByReference len);

    void rados_omap_get_end(Pointer iter);

    // ---- compound write operations: omap updates of the listing index
    Pointer rados_create_write_op();

    void rados_release_write_op(Pointer op);

    void rados_write_op_omap_set(Pointer op, String[] keys, String[] vals, long[] lens, long num);

    void rados_write_op_omap_rm_keys(Pointer op, String[] keys, long num);

    int rados_write_op_operate(Pointer op, Pointer io, String oid, Pointer mtime, int flags);

    void rados_write_op_assert_exists(Pointer op);

    void rados_write_op_write_full(Pointer op, Pointer buf, long len);

    void rados_write_op_remove(Pointer op);

    /** Operation flag: on a full pool or cluster fail with ENOSPC/EDQUOT instead of waiting for space. */
    int FULL_TRY = 64;
    /** Operation flag: go ahead on a full pool or cluster (deletes, which free space). */
    int FULL_FORCE = 128;
}
