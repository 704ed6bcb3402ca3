#!/usr/bin/python3
"""POSIX behaviour of a Hangar FUSE mount: results and errno of every operation, including the edge cases
a model store meets (rename over directories, hard links across directories, unlink of an open file,
sparse files, truncate, O_APPEND from two handles, 0-byte files, 255-byte names, deep paths, large
directories read while they change, locks between processes). Run as root on a read-write mount:

    posix_suite.py DIR-IN-MOUNT [REPORT-DIR] [TEST...]
"""
import ctypes
import errno
import fcntl
import hashlib
import mmap
import os
import signal
import socket
import stat
import struct
import sys
import threading
import time

from fusetest import (NOBODY, NOGROUP, OTHER_GID, OTHER_UID, SHARED_GID, as_user, check, eq, expect_errno,
                      libc, main, read, test, write)

AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
RENAME_WHITEOUT = 4
FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2
FALLOC_FL_ZERO_RANGE = 0x10
FALLOC_FL_COLLAPSE_RANGE = 0x08
SEEK_DATA = 3
SEEK_HOLE = 4


def child(fn):
    """Runs fn in a forked child; returns (pid, pipe to read its one-line result from)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            res = fn()
            os.write(w, (str(res) + "\n").encode())
            os._exit(0)
        except BaseException as e:  # report anything, the parent asserts
            os.write(w, f"{type(e).__name__}:{getattr(e, 'errno', '')}:{e}\n".encode())
            os._exit(1)
    os.close(w)
    return pid, r


def result(pid, r):
    out = b""
    while True:
        c = os.read(r, 4096)
        if not c:
            break
        out += c
    os.close(r)
    os.waitpid(pid, 0)
    return out.decode().strip()


# ---- files: create, open, read, write, stat ----

@test
def create_read_write_stat(d):
    p = os.path.join(d, "f")
    data = os.urandom(300_000)
    write(p, data, 0o640)
    st = os.stat(p)
    check(stat.S_ISREG(st.st_mode), "regular file")
    eq(stat.S_IMODE(st.st_mode), 0o640, "mode")
    eq(st.st_size, len(data), "size")
    eq(st.st_nlink, 1, "nlink")
    eq(read(p), data, "content")
    expect_errno(errno.ENOENT, os.stat, os.path.join(d, "missing"))
    expect_errno(errno.ENOTDIR, os.stat, os.path.join(p, "x"))
    expect_errno(errno.ENOENT, os.open, os.path.join(d, "missing"), os.O_RDONLY)


@test
def zero_byte_files(d):
    p = os.path.join(d, "empty")
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
    eq(os.stat(p).st_size, 0, "size of a created file")
    eq(read(p), b"", "content")
    write(p, b"")
    eq(os.stat(p).st_size, 0, "size after writing nothing")
    fd = os.open(p, os.O_RDONLY)
    eq(os.read(fd, 10), b"", "read at EOF")
    eq(os.pread(fd, 10, 1000), b"", "read past EOF")
    os.close(fd)


@test
def open_flags(d):
    p = os.path.join(d, "f")
    write(p, b"0123456789")
    expect_errno(errno.EEXIST, os.open, p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
    eq(read(p), b"0123456789", "O_CREAT without O_EXCL leaves the file")
    os.close(os.open(p, os.O_WRONLY | os.O_TRUNC))
    eq(os.stat(p).st_size, 0, "O_TRUNC")
    expect_errno(errno.EISDIR, os.open, d, os.O_WRONLY)
    fd = os.open(p, os.O_RDONLY)
    expect_errno(errno.EBADF, os.write, fd, b"x")
    os.close(fd)
    fd = os.open(p, os.O_WRONLY)
    expect_errno(errno.EBADF, os.read, fd, 1)
    os.close(fd)


@test
def large_file_checksum(d):
    p = os.path.join(d, "big")
    h = hashlib.sha256()
    with open(p, "wb") as f:
        for i in range(24):
            chunk = os.urandom(1 << 20) if i % 3 else bytes([i]) * (1 << 20)
            h.update(chunk)
            f.write(chunk)
    eq(os.stat(p).st_size, 24 << 20, "size")
    h2 = hashlib.sha256()
    with open(p, "rb") as f:
        while True:
            b = f.read(777_777)
            if not b:
                break
            h2.update(b)
    eq(h2.hexdigest(), h.hexdigest(), "sha256 of 24 MiB read back")


@test
def sparse_files_and_holes(d):
    p = os.path.join(d, "sparse")
    fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
    os.pwrite(fd, b"head", 0)
    os.pwrite(fd, b"tail", 100 << 20)
    eq(os.fstat(fd).st_size, (100 << 20) + 4, "size spans the hole")
    eq(os.pread(fd, 4, 0), b"head", "data before the hole")
    eq(os.pread(fd, 8192, 50 << 20), bytes(8192), "a hole reads as zeros")
    eq(os.pread(fd, 8, (100 << 20) - 4), bytes(4) + b"tail", "hole edge")
    os.close(fd)
    eq(read(p)[4:4096], bytes(4092), "zeros right after the head")


@test
def truncate_up_and_down(d):
    p = os.path.join(d, "t")
    write(p, b"a" * 10_000)
    os.truncate(p, 4_000)
    eq(os.stat(p).st_size, 4_000, "truncated down")
    os.truncate(p, 20_000)
    data = read(p)
    eq(len(data), 20_000, "truncated up")
    eq(data[:4_000], b"a" * 4_000, "kept part")
    eq(data[4_000:], bytes(16_000), "extension reads as zeros (not the old bytes)")
    fd = os.open(p, os.O_RDWR)
    os.ftruncate(fd, 3)
    eq(os.fstat(fd).st_size, 3, "ftruncate")
    os.pwrite(fd, b"XY", 10)
    eq(os.pread(fd, 100, 0), b"aaa" + bytes(7) + b"XY", "write past EOF after ftruncate")
    os.close(fd)
    expect_errno(errno.EINVAL, os.truncate, p, -1)
    expect_errno(errno.EISDIR, os.truncate, d, 0)
    fd = os.open(p, os.O_RDONLY)
    expect_errno((errno.EINVAL, errno.EBADF), os.ftruncate, fd, 0)
    os.close(fd)


@test
def append_from_two_handles(d):
    p = os.path.join(d, "log")
    a = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
    b = os.open(p, os.O_WRONLY | os.O_APPEND)
    for i in range(50):
        os.write(a, b"A%03d\n" % i)
        os.write(b, b"B%03d\n" % i)
    os.close(a)
    os.close(b)
    lines = read(p).split(b"\n")[:-1]
    eq(len(lines), 100, "every append kept (none overwrote another)")
    eq(lines[0::2], [b"A%03d" % i for i in range(50)], "A records in order")
    eq(lines[1::2], [b"B%03d" % i for i in range(50)], "B records in order")


@test
def append_from_two_processes(d):
    p = os.path.join(d, "log")
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))

    def appender(tag):
        def run():
            fd = os.open(p, os.O_WRONLY | os.O_APPEND)
            for i in range(200):
                os.write(fd, b"%s%04d\n" % (tag, i))
            os.close(fd)
            return "done"
        return run

    kids = [child(appender(t)) for t in (b"P", b"Q")]
    eq([result(*k) for k in kids], ["done", "done"], "appenders")
    lines = read(p).split(b"\n")[:-1]
    eq(len(lines), 400, "records")
    eq(sorted(lines), sorted([b"P%04d" % i for i in range(200)] + [b"Q%04d" % i for i in range(200)]),
       "every record whole and once")


@test
def unlink_of_open_file_is_still_read(d):
    p = os.path.join(d, "victim")
    data = os.urandom(2 << 20)
    write(p, data)
    fd = os.open(p, os.O_RDWR)
    os.unlink(p)
    expect_errno(errno.ENOENT, os.stat, p)
    eq(os.listdir(d), [], "directory no longer lists it (no .fuse_hidden files)")
    eq(os.pread(fd, len(data), 0), data, "reads go on after unlink")
    eq(os.fstat(fd).st_nlink, 0, "fstat works, nlink 0")
    os.pwrite(fd, b"more", len(data))
    eq(os.fstat(fd).st_size, len(data) + 4, "writes go on after unlink")
    os.fchmod(fd, 0o600)
    os.rmdir(d)
    eq(os.pread(fd, 4, len(data)), b"more", "reads go on after its directory is gone too")
    os.close(fd)
    os.mkdir(d)


@test
def unlink_right_after_close_leaves_nothing(d):
    # close() sends RELEASE asynchronously: an unlink racing it must still remove the file, not leave a
    # libfuse .fuse_hidden file behind.
    for i in range(300):
        p = os.path.join(d, f"f{i}")
        write(p, b"x" * 1000)
        with open(p, "rb") as f:
            f.read()
        os.unlink(p)
    eq(os.listdir(d), [], "nothing left")


@test
def rename_over_open_target(d):
    src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
    write(src, b"new")
    write(dst, b"old")
    fd = os.open(dst, os.O_RDONLY)
    os.rename(src, dst)
    eq(read(dst), b"new", "the name now holds the source")
    eq(os.pread(fd, 10, 0), b"old", "the open target is still readable")
    eq(os.fstat(fd).st_nlink, 0, "the replaced file has no name left")
    eq(sorted(os.listdir(d)), ["dst"], "listing")
    os.close(fd)


@test
def fsync_and_fdatasync(d):
    p = os.path.join(d, "f")
    fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"x" * 100_000)
    os.fsync(fd)
    os.fdatasync(fd)
    os.close(fd)
    # A file created and still open when its directory is fsynced (the sync that makes its name durable).
    g = os.open(os.path.join(d, "g"), os.O_CREAT | os.O_WRONLY, 0o644)
    dfd = os.open(d, os.O_RDONLY)
    os.fsync(dfd)
    os.close(dfd)
    os.close(g)
    eq(os.stat(p).st_size, 100_000, "size")
    eq(sorted(os.listdir(d)), ["f", "g"], "names after the directory's fsync")


@test
def mmap_shared_write_and_read(d):
    p = os.path.join(d, "m")
    write(p, bytes(1 << 20))
    with open(p, "r+b") as f:
        m = mmap.mmap(f.fileno(), 1 << 20)
        m[4096:4101] = b"hello"
        m[(1 << 20) - 3:] = b"end"
        m.flush()
        m.close()
    data = read(p)
    eq(data[4096:4101], b"hello", "write through a shared mapping")
    eq(data[-3:], b"end", "last page")
    with open(p, "rb") as f:
        m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        eq(m[4096:4101], b"hello", "read through a mapping")
        m.close()


# ---- directories ----

@test
def mkdir_rmdir_errors(d):
    sub = os.path.join(d, "sub")
    os.mkdir(sub, 0o750)
    eq(stat.S_IMODE(os.stat(sub).st_mode), 0o750, "mode")
    check(stat.S_ISDIR(os.stat(sub).st_mode), "is a directory")
    expect_errno(errno.EEXIST, os.mkdir, sub)
    write(os.path.join(sub, "f"), b"x")
    expect_errno(errno.ENOTEMPTY, os.rmdir, sub)
    expect_errno(errno.ENOTDIR, os.rmdir, os.path.join(sub, "f"))
    expect_errno(errno.EISDIR, os.unlink, sub)
    expect_errno(errno.ENOENT, os.rmdir, os.path.join(d, "nope"))
    expect_errno(errno.EINVAL, os.rmdir, os.path.join(sub, "."))
    expect_errno(errno.ENOENT, os.mkdir, os.path.join(d, "no", "parent"))
    os.unlink(os.path.join(sub, "f"))
    os.rmdir(sub)
    expect_errno(errno.ENOENT, os.stat, sub)


@test
def directory_link_counts(d):
    eq(os.stat(d).st_nlink, 2, "an empty directory")
    os.mkdir(os.path.join(d, "a"))
    os.mkdir(os.path.join(d, "b"))
    eq(os.stat(d).st_nlink, 4, "two subdirectories")
    write(os.path.join(d, "f"), b"")
    eq(os.stat(d).st_nlink, 4, "files do not count")
    os.rmdir(os.path.join(d, "a"))
    eq(os.stat(d).st_nlink, 3, "after rmdir")


@test
def readdir_lists_everything_once(d):
    names = {f"file-{i:05d}-{'x' * (i % 40)}" for i in range(3000)}
    for n in names:
        os.close(os.open(os.path.join(d, n), os.O_CREAT | os.O_WRONLY, 0o644))
    os.mkdir(os.path.join(d, "zdir"))
    listed = os.listdir(d)
    eq(len(listed), len(set(listed)), "no duplicates")
    eq(set(listed), names | {"zdir"}, "every entry")
    types = {e.name: e.is_dir(follow_symlinks=False) for e in os.scandir(d)}
    check(types["zdir"] and not types["file-00001-x"], "d_type of entries")
    ino = {e.name: e.inode() for e in os.scandir(d)}
    eq(ino["zdir"], os.stat(os.path.join(d, "zdir")).st_ino, "d_ino is st_ino")


@test
def readdir_while_the_directory_changes(d):
    names = [f"n{i:05d}" for i in range(2500)]
    for n in names:
        os.close(os.open(os.path.join(d, n), os.O_CREAT | os.O_WRONLY, 0o644))
    seen = []
    with os.scandir(d) as it:
        for i, e in enumerate(it):
            seen.append(e.name)
            if i == 700:
                for n in names[1500:2000]:
                    os.unlink(os.path.join(d, n))
                for j in range(300):
                    os.close(os.open(os.path.join(d, f"new{j:04d}"), os.O_CREAT | os.O_WRONLY, 0o644))
    eq(len(seen), len(set(seen)), "no entry twice")
    stable = set(names[:1500]) | set(names[2000:])
    missing = stable - set(seen)
    eq(missing, set(), "every entry present throughout was listed")


@test
def telldir_seekdir_are_stable(d):
    for i in range(1600):
        os.close(os.open(os.path.join(d, f"e{i:04d}"), os.O_CREAT | os.O_WRONLY, 0o644))

    class Dirent(ctypes.Structure):
        _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64), ("d_reclen", ctypes.c_ushort),
                    ("d_type", ctypes.c_ubyte), ("d_name", ctypes.c_char * 256)]

    libc.opendir.restype = ctypes.c_void_p
    libc.readdir.restype = ctypes.POINTER(Dirent)
    libc.readdir.argtypes = [ctypes.c_void_p]
    libc.telldir.restype = ctypes.c_long
    libc.telldir.argtypes = [ctypes.c_void_p]
    libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]
    libc.closedir.argtypes = [ctypes.c_void_p]
    dp = libc.opendir(d.encode())
    check(dp, "opendir")
    try:
        marks = {}
        order = []
        while True:
            pos = libc.telldir(dp)
            ent = libc.readdir(dp)
            if not ent:
                break
            name = ent.contents.d_name.decode()
            order.append(name)
            if len(order) in (3, 700, 1201):
                marks[pos] = name
        eq(len(order), 1602, "entries incl. . and ..")
        for pos, name in marks.items():
            libc.seekdir(dp, pos)
            ent = libc.readdir(dp)
            eq(ent.contents.d_name.decode(), name, f"entry at telldir {pos} after seekdir")
            i = order.index(name)
            nxt = libc.readdir(dp)
            eq(nxt.contents.d_name.decode() if nxt else None, order[i + 1] if i + 1 < len(order) else None,
               "the entry after it")
    finally:
        libc.closedir(dp)


@test
def deep_paths(d):
    p = d
    for i in range(60):
        p = os.path.join(p, f"level-{i:02d}")
        os.mkdir(p)
    f = os.path.join(p, "leaf")
    write(f, b"deep")
    eq(read(f), b"deep", "file 60 levels down")
    rel = os.path.relpath(f, d)
    eq(len(rel.split("/")), 61, "depth")
    longp = d
    for i in range(20):
        longp = os.path.join(longp, "L" * 250)
        if len(longp) > 4200:
            break
        os.mkdir(longp)
    expect_errno(errno.ENAMETOOLONG, os.stat, os.path.join(longp, "x" * 250))


@test
def names_of_255_bytes(d):
    n255 = "n" * 255
    write(os.path.join(d, n255), b"x")
    eq(os.listdir(d), [n255], "listed")
    eq(read(os.path.join(d, n255)), b"x", "read")
    os.mkdir(os.path.join(d, "d" * 255))
    expect_errno(errno.ENAMETOOLONG, os.open, os.path.join(d, "n" * 256), os.O_CREAT | os.O_WRONLY, 0o644)
    expect_errno(errno.ENAMETOOLONG, os.mkdir, os.path.join(d, "d" * 256))
    multi = "é" * 127 + "x"  # 255 bytes of UTF-8
    eq(len(multi.encode()), 255, "utf-8 length")
    write(os.path.join(d, multi), b"u")
    check(multi in os.listdir(d), "multi-byte name listed")
    expect_errno(errno.ENAMETOOLONG, os.open, os.path.join(d, "é" * 128), os.O_CREAT | os.O_WRONLY, 0o644)


# ---- rename ----

@test
def rename_files_and_directories(d):
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    write(a, b"A")
    write(b, b"B")
    ino_a = os.stat(a).st_ino
    os.rename(a, b)
    eq(read(b), b"A", "replaced")
    eq(os.stat(b).st_ino, ino_a, "the inode moved")
    expect_errno(errno.ENOENT, os.stat, a)
    expect_errno(errno.ENOENT, os.rename, a, b)
    os.rename(b, b)
    eq(read(b), b"A", "rename onto itself")
    d1, d2, d3 = (os.path.join(d, n) for n in ("d1", "d2", "d3"))
    os.mkdir(d1)
    write(os.path.join(d1, "in"), b"in d1")
    os.mkdir(d2)
    os.rename(d1, d2)
    eq(read(os.path.join(d2, "in")), b"in d1", "directory over an empty directory")
    os.mkdir(d3)
    write(os.path.join(d3, "x"), b"")
    expect_errno(errno.ENOTEMPTY, os.rename, d2, d3)
    expect_errno(errno.EISDIR, os.rename, b, d3)
    expect_errno(errno.ENOTDIR, os.rename, d3, b)
    expect_errno(errno.EINVAL, os.rename, d2, os.path.join(d2, "sub"))
    os.mkdir(os.path.join(d, "other"))
    os.rename(d2, os.path.join(d, "other", "moved"))
    eq(read(os.path.join(d, "other", "moved", "in")), b"in d1", "across directories with content")
    eq(os.stat(os.path.join(d, "other")).st_nlink, 3, "link count of the new parent")


def renameat2(src, dst, flags):
    if libc.renameat2(AT_FDCWD, src.encode(), AT_FDCWD, dst.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


@test
def rename_flags(d):
    a, b, c = (os.path.join(d, n) for n in ("a", "b", "c"))
    write(a, b"A")
    write(b, b"B")
    # RENAME_NOREPLACE onto an existing name is EEXIST from the kernel's own check.
    expect_errno(errno.EEXIST, renameat2, a, b, RENAME_NOREPLACE)
    # The flags reach the engine as the kernel sends them.
    renameat2(a, c, RENAME_NOREPLACE)
    eq(read(c), b"A", "RENAME_NOREPLACE onto a free name renames")
    expect_errno(errno.ENOENT, os.stat, a)
    renameat2(b, c, RENAME_EXCHANGE)
    eq((read(b), read(c)), (b"A", b"B"), "RENAME_EXCHANGE swaps the two")
    expect_errno(errno.ENOENT, renameat2, b, a, RENAME_EXCHANGE)
    os.mkdir(os.path.join(d, "dir"))
    write(os.path.join(d, "dir", "in"), b"in")
    renameat2(os.path.join(d, "dir"), c, RENAME_EXCHANGE)
    eq(read(os.path.join(d, "c", "in")), b"in", "a directory and a file exchange")
    eq(read(os.path.join(d, "dir")), b"B", "the file took the directory's name")
    expect_errno(errno.EINVAL, renameat2, b, os.path.join(d, "e"), RENAME_EXCHANGE | RENAME_NOREPLACE)
    expect_errno(errno.EINVAL, renameat2, b, os.path.join(d, "w"), RENAME_WHITEOUT)


@test
def hard_link_attributes_through_every_name(d):
    # With attribute caching on (run.sh mounts with 1 s), every name of a hard link must show the link
    # count and ctime of the one file at once: all names are one kernel inode.
    os.mkdir(os.path.join(d, "x"))
    os.mkdir(os.path.join(d, "y"))
    f, g, h, k = (os.path.join(d, *p) for p in (("x", "f"), ("y", "g"), ("y", "h"), ("x", "k")))
    write(f, b"one file")
    os.link(f, g)
    before = os.stat(g)
    eq(before.st_nlink, 2, "nlink through the second name")
    time.sleep(0.05)
    os.link(f, h)
    for n in (f, g, h):
        st = os.stat(n)
        eq(st.st_nlink, 3, f"nlink through {os.path.basename(n)} after a third link")
        check(st.st_ctime_ns > before.st_ctime_ns, f"ctime through {os.path.basename(n)} moved with the link")
        eq(st.st_ino, before.st_ino, "one inode")
    os.unlink(h)
    eq((os.stat(f).st_nlink, os.stat(g).st_nlink), (2, 2), "nlink through both names after an unlink")
    write(k, b"other")
    os.rename(k, g)
    eq(os.stat(f).st_nlink, 1, "a rename over one name drops the link count seen through the other")
    eq(read(f), b"one file", "the renamed-over file keeps its data under its other name")
    eq(read(g), b"other", "the new file under the old name")
    os.chmod(f, 0o600)
    os.link(f, h)
    eq(stat.S_IMODE(os.stat(h).st_mode), 0o600, "chmod through one name shows through another")
    fd = os.open(h, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b" grown")
    os.close(fd)
    eq(os.stat(f).st_size, len(b"one file grown"), "size through the other name after a write")


@test
def fallocate_modes(d):
    p = os.path.join(d, "f")
    write(p, b"x" * 1000)
    fd = os.open(p, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, 100_000)
        eq(os.fstat(fd).st_size, 100_000, "posix_fallocate (mode 0) extends the size")
        eq(os.pread(fd, 10, 1000), b"\0" * 10, "the new range reads as zeros")
        eq(os.pread(fd, 10, 0), b"x" * 10, "the old data stays")
        os.posix_fallocate(fd, 0, 500)
        eq(os.fstat(fd).st_size, 100_000, "within the size nothing changes")

        def fallocate(mode, off, length):
            if libc.fallocate(fd, mode, ctypes.c_long(off), ctypes.c_long(length)) != 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
        fallocate(FALLOC_FL_KEEP_SIZE, 0, 1 << 20)
        eq(os.fstat(fd).st_size, 100_000, "KEEP_SIZE keeps the size")
        fallocate(0, 100_000, 50_000)
        eq(os.fstat(fd).st_size, 150_000, "fallocate(2) mode 0 extends")
        # What the volume cannot do is refused, never faked: PUNCH_HOLE needs KEEP_SIZE (as on every Linux
        # file system), and ranges are not collapsed.
        expect_errno(errno.EOPNOTSUPP, fallocate, FALLOC_FL_PUNCH_HOLE, 0, 4096)
        expect_errno(errno.EOPNOTSUPP, fallocate, FALLOC_FL_COLLAPSE_RANGE, 0, 4096)
        eq(os.pread(fd, 10, 0), b"x" * 10, "a refused mode changes nothing")
    finally:
        os.close(fd)


def falloc(fd, mode, off, length):
    if libc.fallocate(fd, mode, ctypes.c_long(off), ctypes.c_long(length)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


@test
def punch_hole_reads_zeros_and_keeps_size(d):
    p = os.path.join(d, "f")
    data = os.urandom(1 << 20)
    fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        os.pwrite(fd, data, 0)  # still buffered in the mount: the hole must land on top of it
        falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100_000, 300_000)
        eq(os.fstat(fd).st_size, len(data), "PUNCH_HOLE keeps the size")
        want = data[:100_000] + b"\0" * 300_000 + data[400_000:]
        eq(os.pread(fd, len(data), 0), want, "the hole reads as zeros, the rest as written")
        falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, len(data) - 10, 1 << 20)
        eq(os.fstat(fd).st_size, len(data), "a hole past the end keeps the size")
        want = want[:-10] + b"\0" * 10
        os.pwrite(fd, b"abc", 200_000)
        want = want[:200_000] + b"abc" + want[200_003:]
        eq(os.pread(fd, len(data), 0), want, "a write into the hole wins over it")
    finally:
        os.close(fd)
    eq(read(p), want, "the same through a new open")


@test
def zero_range_with_and_without_keep_size(d):
    p = os.path.join(d, "f")
    data = os.urandom(200_000)
    write(p, data)
    fd = os.open(p, os.O_RDWR)
    try:
        falloc(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 1000, 5000)
        eq(os.fstat(fd).st_size, 200_000, "ZERO_RANGE with KEEP_SIZE keeps the size")
        falloc(fd, FALLOC_FL_ZERO_RANGE, 150_000, 100_000)
        eq(os.fstat(fd).st_size, 250_000, "ZERO_RANGE without KEEP_SIZE grows the file to the range's end")
        falloc(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 240_000, 100_000)
        eq(os.fstat(fd).st_size, 250_000, "with KEEP_SIZE past the end the size stays")
        want = data[:1000] + b"\0" * 5000 + data[6000:150_000] + b"\0" * 100_000
        eq(os.pread(fd, 300_000, 0), want, "the zeroed ranges read as zeros")
    finally:
        os.close(fd)
    eq(read(p), want, "the same through a new open")


@test
def lseek_data_and_hole(d):
    p = os.path.join(d, "f")
    write(p, b"y" * 10_000)
    fd = os.open(p, os.O_RDONLY)
    try:
        # The volume does not report holes: the whole file is data, its end the one hole.
        eq(os.lseek(fd, 0, SEEK_DATA), 0, "SEEK_DATA from 0")
        eq(os.lseek(fd, 5000, SEEK_DATA), 5000, "SEEK_DATA inside")
        eq(os.lseek(fd, 0, SEEK_HOLE), 10_000, "SEEK_HOLE is the end")
        expect_errno(errno.ENXIO, os.lseek, fd, 10_000, SEEK_DATA)
        expect_errno(errno.ENXIO, os.lseek, fd, 20_000, SEEK_HOLE)
    finally:
        os.close(fd)


@test
def copy_file_range_copies(d):
    src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
    data = os.urandom(3 << 20)
    write(src, data)
    fi = os.open(src, os.O_RDONLY)
    fo = os.open(dst, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        done = 0
        while done < len(data):
            n = os.copy_file_range(fi, fo, len(data) - done, done, done)
            check(n > 0, "copy_file_range makes progress")
            done += n
        eq(os.copy_file_range(fi, fo, 100, len(data), len(data)), 0, "nothing to copy at the end")
        n = os.copy_file_range(fi, fo, 1000, 10, 5 << 20)
        eq(n, 1000, "a copy past the end of the target")
    finally:
        os.close(fi)
        os.close(fo)
    got = read(dst)
    eq(got[:len(data)], data, "the copy")
    eq(len(got), (5 << 20) + 1000, "extended by the copy past its end")
    eq(got[5 << 20:], data[10:1010], "the range copied past the end")


def store_blocks():
    """{path: size} of the block objects of the volume's file store (HANGAR_FUSE_STORE, which run.sh sets
    for the volumes it formats), or None where the store is not known."""
    root = os.environ.get("HANGAR_FUSE_STORE")
    if not root:
        return None
    out = {}
    for top, _, files in os.walk(root):
        for f in files:
            path = os.path.join(top, f)
            try:
                out[path] = os.stat(path).st_size
            except FileNotFoundError:  # deleted by the reaper meanwhile
                pass
    return out


@test
def copy_file_range_is_metadata_only(d):
    src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
    data = os.urandom(16 << 20)
    length = 100 << 20  # sparse past the data: more than a byte copy's 64 MiB per call
    with open(src, "wb") as f:
        f.write(data)
        f.truncate(length)
    write(dst, b"o" * (1 << 20))
    before = store_blocks()
    fi = os.open(src, os.O_RDONLY)
    fo = os.open(dst, os.O_RDWR)
    try:
        os.pwrite(fo, b"pending", 4090)  # buffered in the mount: the copy must land on top of it
        n = os.copy_file_range(fi, fo, length + 5000, 0, 4096)
        eq(n, length, "one call shares the whole range (short at the source's end)")
        os.fsync(fo)
        eq(os.fstat(fo).st_size, 4096 + length, "the target grows to the end of the copy")
        eq(os.pread(fo, 4096, 0), b"o" * 4090 + b"pendin", "before the range the target is as it was")
        eq(os.pread(fo, len(data), 4096), data, "the copied bytes")
        eq(os.pread(fo, 100, 4096 + len(data)), b"\0" * 100, "the source's zeros past its data")
        eq(os.pread(fo, 100, 4096 + length - 100), b"\0" * 100, "up to the end")
        after = store_blocks()
        if before is not None:
            grown = sum(size for path, size in after.items() if path not in before)
            check(grown < len(data) // 2, f"metadata only: {grown} bytes of new blocks in the store for a copy "
                                          f"of {len(data)} bytes of data")
        eq(os.copy_file_range(fi, fo, 100, length, 0), 0, "nothing to copy at the end")
        expect_errno(errno.EINVAL, os.copy_file_range, fo, fo, 1000, 0, 10)
    finally:
        os.close(fi)
        os.close(fo)
    os.unlink(src)
    eq(read(dst)[4096:4096 + len(data)], data, "the copy outlives its source")


# ---- links ----

@test
def hard_links_across_directories(d):
    os.mkdir(os.path.join(d, "x"))
    os.mkdir(os.path.join(d, "y"))
    f, g = os.path.join(d, "x", "f"), os.path.join(d, "y", "g")
    write(f, b"shared")
    os.link(f, g)
    eq(os.stat(f).st_nlink, 2, "nlink after link")
    eq(os.stat(f).st_ino, os.stat(g).st_ino, "same inode")
    with open(g, "r+b") as h:
        h.write(b"SHARED")
    eq(read(f), b"SHARED", "a write through one name shows through the other")
    os.unlink(f)
    # One kernel inode for every name: the other name's nlink is right at once, attribute caching on.
    eq(os.stat(g).st_nlink, 1, "nlink after unlink of one name")
    eq(read(g), b"SHARED", "data stays")
    expect_errno(errno.EEXIST, os.link, g, g)
    expect_errno(errno.EPERM, os.link, os.path.join(d, "x"), os.path.join(d, "xlink"))
    expect_errno(errno.ENOENT, os.link, f, os.path.join(d, "z"))


@test
def symlinks_are_strings(d):
    link = os.path.join(d, "l")
    os.symlink("../../../outside/of/everything", link)
    eq(os.readlink(link), "../../../outside/of/everything", "target kept verbatim")
    check(stat.S_ISLNK(os.lstat(link).st_mode), "lstat sees a symlink")
    expect_errno(errno.ENOENT, os.stat, link)
    write(os.path.join(d, "t"), b"target")
    os.symlink("t", os.path.join(d, "rel"))
    eq(read(os.path.join(d, "rel")), b"target", "relative symlink followed by the kernel")
    expect_errno(errno.EEXIST, os.symlink, "x", link)
    expect_errno(errno.EINVAL, os.readlink, os.path.join(d, "t"))
    long_target = "/" + "t" * 4000
    os.symlink(long_target, os.path.join(d, "long"))
    eq(os.readlink(os.path.join(d, "long")), long_target, "a 4001-byte target")
    eq(os.lstat(os.path.join(d, "long")).st_size, 4001, "symlink size is the target length")


# ---- attributes, ownership, permissions ----

@test
def utimens_now_omit_and_explicit(d):
    p = os.path.join(d, "f")
    write(p, b"x")
    os.utime(p, ns=(1_000_000_123, 2_000_000_456))
    st = os.stat(p)
    eq((st.st_atime_ns, st.st_mtime_ns), (1_000_000_123, 2_000_000_456), "explicit times (ns)")

    class Timespec(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

    def utimensat(a, m):
        ts = (Timespec * 2)(Timespec(*a), Timespec(*m))
        if libc.utimensat(AT_FDCWD, p.encode(), ts, 0) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))

    utimensat((5, UTIME_OMIT), (7, 0))
    st = os.stat(p)
    eq((st.st_atime_ns, st.st_mtime_ns), (1_000_000_123, 7_000_000_000), "UTIME_OMIT keeps atime")
    before = time.time()
    utimensat((0, UTIME_NOW), (0, UTIME_OMIT))
    st = os.stat(p)
    check(st.st_atime >= before - 2, f"UTIME_NOW sets atime to now ({st.st_atime} vs {before})")
    eq(st.st_mtime_ns, 7_000_000_000, "UTIME_OMIT keeps mtime")
    os.utime(p)
    check(os.stat(p).st_mtime >= before - 2, "utime(NULL) sets both to now")


@test
def times_follow_changes(d):
    p = os.path.join(d, "f")
    write(p, b"x")
    os.utime(p, (1000, 1000))
    os.utime(d, (1000, 1000))
    ctime0 = os.stat(p).st_ctime_ns
    time.sleep(0.05)
    with open(p, "ab") as f:
        f.write(b"y")
    check(os.stat(p).st_mtime > 1000, "write updates mtime")
    os.chmod(p, 0o600)
    check(os.stat(p).st_ctime_ns > ctime0, "chmod updates ctime")
    write(os.path.join(d, "g"), b"")
    check(os.stat(d).st_mtime > 1000, "create updates the directory's mtime")


@test
def chmod_chown_rules(d):
    p = os.path.join(d, "f")
    write(p, b"x")
    os.chown(p, OTHER_UID, OTHER_GID)
    os.chmod(p, 0o644)
    eq((os.stat(p).st_uid, os.stat(p).st_gid), (OTHER_UID, OTHER_GID), "root chowns")
    as_user(OTHER_UID, OTHER_GID, lambda: os.chmod(p, 0o600))
    eq(stat.S_IMODE(os.stat(p).st_mode), 0o600, "the owner chmods")
    as_user(NOBODY, NOGROUP, lambda: expect_errno(errno.EPERM, os.chmod, p, 0o666))
    as_user(OTHER_UID, OTHER_GID, lambda: expect_errno(errno.EPERM, os.chown, p, NOBODY, -1))
    as_user(OTHER_UID, OTHER_GID, lambda: os.chown(p, -1, SHARED_GID), groups=[SHARED_GID])
    eq(os.stat(p).st_gid, SHARED_GID, "the owner changes the group to one of its groups")
    as_user(OTHER_UID, OTHER_GID, lambda: expect_errno(errno.EPERM, os.chown, p, -1, NOGROUP))
    as_user(NOBODY, NOGROUP, lambda: expect_errno(errno.EPERM, os.utime, p, (1, 1)))


@test
def set_id_bits_are_cleared(d):
    p = os.path.join(d, "suid")
    write(p, b"#!/bin/sh\n")
    os.chmod(p, 0o6755)
    os.chown(p, OTHER_UID, OTHER_GID)
    eq(stat.S_IMODE(os.stat(p).st_mode), 0o755, "chown clears setuid and setgid")
    os.chmod(p, 0o6777)
    as_user(NOBODY, NOGROUP, lambda: os.close(os.open(p, os.O_WRONLY | os.O_APPEND)) or
            open(p, "ab").write(b"echo\n"))
    eq(stat.S_IMODE(os.stat(p).st_mode), 0o777, "a write by another user clears setuid and setgid")
    os.chown(p, OTHER_UID, SHARED_GID)
    as_user(OTHER_UID, OTHER_GID, lambda: os.chmod(p, 0o2755))
    eq(stat.S_IMODE(os.stat(p).st_mode), 0o755, "chmod by an owner outside the group drops setgid")


@test
def permissions_are_enforced(d):
    private = os.path.join(d, "private")
    write(private, b"secret", 0o600)
    as_user(NOBODY, NOGROUP, lambda: expect_errno(errno.EACCES, os.open, private, os.O_RDONLY))
    readable = os.path.join(d, "readable")
    write(readable, b"hi", 0o644)
    as_user(NOBODY, NOGROUP, lambda: eq(read(readable), b"hi", "read of a 0644 file"))
    as_user(NOBODY, NOGROUP, lambda: expect_errno(errno.EACCES, os.open, readable, os.O_WRONLY))
    as_user(NOBODY, NOGROUP, lambda: expect_errno(errno.EACCES, os.open, os.path.join(d, "new"),
                                                  os.O_CREAT | os.O_WRONLY, 0o644))
    closed = os.path.join(d, "closed")
    os.mkdir(closed, 0o700)
    write(os.path.join(closed, "inside"), b"")
    as_user(NOBODY, NOGROUP, lambda: expect_errno(errno.EACCES, os.stat, os.path.join(closed, "inside")))
    as_user(NOBODY, NOGROUP, lambda: expect_errno(errno.EACCES, os.listdir, closed))

    def access_checks():
        check(os.access(readable, os.R_OK), "access R_OK on 0644")
        check(not os.access(readable, os.W_OK), "access W_OK on 0644")
        check(not os.access(private, os.R_OK), "access R_OK on 0600")
        check(os.access(d, os.X_OK), "access X_OK on a 0755 directory")
        check(not os.access(os.path.join(d, "missing"), os.F_OK), "access F_OK on nothing")
    as_user(NOBODY, NOGROUP, access_checks)


@test
def sticky_directories(d):
    tmp = os.path.join(d, "tmp")
    os.mkdir(tmp)
    os.chmod(tmp, 0o1777)
    theirs = os.path.join(tmp, "theirs")
    write(theirs, b"", 0o666)
    os.chown(theirs, OTHER_UID, OTHER_GID)

    def nobody():
        expect_errno(errno.EPERM, os.unlink, theirs)
        expect_errno(errno.EPERM, os.rename, theirs, os.path.join(tmp, "stolen"))
        mine = os.path.join(tmp, "mine")
        write(mine, b"")
        os.unlink(mine)
    as_user(NOBODY, NOGROUP, nobody)


@test
def setgid_directories_pass_their_group(d):
    g = os.path.join(d, "g")
    os.mkdir(g)
    os.chown(g, 0, SHARED_GID)
    os.chmod(g, 0o2777)

    def create():
        write(os.path.join(g, "f"), b"")
        os.mkdir(os.path.join(g, "sub"))
    as_user(NOBODY, NOGROUP, create)
    eq(os.stat(os.path.join(g, "f")).st_gid, SHARED_GID, "a file's group")
    st = os.stat(os.path.join(g, "sub"))
    eq(st.st_gid, SHARED_GID, "a subdirectory's group")
    check(st.st_mode & stat.S_ISGID, "a subdirectory inherits setgid")


@test
def statfs_reports(d):
    s = os.statvfs(d)
    check(s.f_bsize > 0 and s.f_frsize > 0, "block sizes")
    check(s.f_blocks > 0 and s.f_bavail <= s.f_blocks, "block counts")
    check(s.f_files > 0 and s.f_ffree <= s.f_files, "inode counts")
    eq(s.f_namemax, 255, "name length limit")


# ---- extended attributes ----

@test
def xattrs_and_their_errnos(d):
    p = os.path.join(d, "f")
    write(p, b"x")
    eq(os.listxattr(p), [], "none yet")
    os.setxattr(p, "user.model", b"resnet")
    os.setxattr(p, "user.big", os.urandom(1) * 65536)
    eq(os.getxattr(p, "user.model"), b"resnet", "get")
    eq(sorted(os.listxattr(p)), ["user.big", "user.model"], "list")
    eq(len(os.getxattr(p, "user.big")), 65536, "a 64 KiB value")
    os.setxattr(p, "user.empty", b"")
    eq(os.getxattr(p, "user.empty"), b"", "an empty value")
    expect_errno(errno.ENODATA, os.getxattr, p, "user.missing")
    expect_errno(errno.EEXIST, os.setxattr, p, "user.model", b"x", os.XATTR_CREATE)
    expect_errno(errno.ENODATA, os.setxattr, p, "user.missing", b"x", os.XATTR_REPLACE)
    os.setxattr(p, "user.model", b"vit", os.XATTR_REPLACE)
    eq(os.getxattr(p, "user.model"), b"vit", "replaced")
    os.removexattr(p, "user.model")
    expect_errno(errno.ENODATA, os.removexattr, p, "user.model")
    expect_errno(errno.EOPNOTSUPP, os.setxattr, p, "nonamespace.x", b"1")
    expect_errno(errno.EOPNOTSUPP, os.getxattr, p, "nonamespace.x")
    expect_errno(errno.ENODATA, os.getxattr, p, "trusted.none")
    os.setxattr(p, "trusted.t", b"root only")
    eq(os.getxattr(p, "trusted.t"), b"root only", "trusted namespace as root")
    buf = ctypes.create_string_buffer(2)
    libc.getxattr.restype = ctypes.c_ssize_t
    eq(libc.getxattr(p.encode(), b"user.big", None, ctypes.c_size_t(0)), 65536, "size query")
    eq(libc.getxattr(p.encode(), b"user.big", buf, ctypes.c_size_t(2)), -1, "small buffer fails")
    eq(ctypes.get_errno(), errno.ERANGE, "ERANGE")
    link = os.path.join(d, "l")
    os.symlink("f", link)
    expect_errno(errno.EPERM, os.setxattr, link, "user.x", b"1", follow_symlinks=False)
    os.chmod(p, 0o644)
    as_user(NOBODY, NOGROUP, lambda: expect_errno(errno.EACCES, os.setxattr, p, "user.x", b"1"))


# ---- special files ----

@test
def fifos_via_mknod(d):
    p = os.path.join(d, "fifo")
    os.mkfifo(p, 0o600)
    check(stat.S_ISFIFO(os.stat(p).st_mode), "S_ISFIFO")
    got = []

    def reader():
        with open(p, "rb") as f:
            got.append(f.read())
    t = threading.Thread(target=reader)
    t.start()
    with open(p, "wb") as f:
        f.write(b"through the pipe")
    t.join(30)
    eq(got, [b"through the pipe"], "data through the FIFO")
    expect_errno(errno.EEXIST, os.mkfifo, p)


@test
def devices_and_sockets(d):
    dev = os.path.join(d, "null")
    os.mknod(dev, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    st = os.stat(dev)
    check(stat.S_ISCHR(st.st_mode), "character device")
    eq((os.major(st.st_rdev), os.minor(st.st_rdev)), (1, 3), "rdev")
    sock_path = os.path.join(d, "sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock_path)
    s.close()
    check(stat.S_ISSOCK(os.stat(sock_path).st_mode), "a bound socket shows as S_IFSOCK")


# ---- locks ----

def lock_struct(kind, start, length):
    return struct.pack("hhqqi", kind, 0, start, length, 0)


@test
def posix_locks_between_processes(d):
    p = os.path.join(d, "locked")
    write(p, b"x" * 100)
    fd = os.open(p, os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX, 10, 0)

    def probe():
        f = os.open(p, os.O_RDWR)
        expect_errno((errno.EAGAIN, errno.EACCES), fcntl.lockf, f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 50)
        res = fcntl.fcntl(f, fcntl.F_GETLK, lock_struct(fcntl.F_WRLCK, 5, 1))
        kind, _, start, length, pid = struct.unpack("hhqqi", res)
        return f"{kind},{start},{length},{pid}"
    out = result(*child(probe))
    eq(out, f"{fcntl.F_WRLCK},0,10,{os.getpid()}", "F_GETLK names the holder, its range and pid")
    fcntl.lockf(fd, fcntl.LOCK_UN, 10, 0)
    res = result(*child(lambda: fcntl.lockf(os.open(p, os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)))
    eq(res, "None", "free after unlock")
    # Shared locks coexist; a write lock on part of them splits nothing of the other owner's.
    fcntl.lockf(fd, fcntl.LOCK_SH, 0, 0)
    res = result(*child(lambda: fcntl.lockf(os.open(p, os.O_RDONLY), fcntl.LOCK_SH | fcntl.LOCK_NB, 0, 0)))
    eq(res, "None", "two shared locks")
    os.close(fd)


@test
def posix_lock_wait_is_woken(d):
    p = os.path.join(d, "locked")
    write(p, b"x")
    fd = os.open(p, os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX)

    def waiter():
        f = os.open(p, os.O_RDWR)
        fcntl.lockf(f, fcntl.LOCK_EX)
        return "granted"
    pid, r = child(waiter)
    time.sleep(0.5)
    done, _ = os.waitpid(pid, os.WNOHANG)
    eq(done, 0, "the waiter waits while the lock is held")
    fcntl.lockf(fd, fcntl.LOCK_UN)
    eq(result(pid, r), "granted", "and gets the lock once it is released")
    os.close(fd)


@test
def posix_locks_go_with_any_close(d):
    p = os.path.join(d, "locked")
    write(p, b"x")
    fd = os.open(p, os.O_RDWR)
    other = os.open(p, os.O_RDONLY)
    fcntl.lockf(fd, fcntl.LOCK_EX)
    os.close(other)  # POSIX: closing any descriptor of the file drops the process's locks on it
    res = result(*child(lambda: fcntl.lockf(os.open(p, os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)))
    eq(res, "None", "lock released by closing another descriptor")
    os.close(fd)


@test
def posix_lock_deadlock_is_refused(d):
    p = os.path.join(d, "locked")
    write(p, b"x" * 100)
    fd = os.open(p, os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX, 1, 0)
    go_r, go_w = os.pipe()

    def other():
        f = os.open(p, os.O_RDWR)
        fcntl.lockf(f, fcntl.LOCK_EX, 1, 50)
        os.write(go_w, b"1")
        fcntl.lockf(f, fcntl.LOCK_EX, 1, 0)  # waits for the parent
        return "granted"
    pid, r = child(other)
    os.read(go_r, 1)
    time.sleep(0.5)
    expect_errno(errno.EDEADLK, fcntl.lockf, fd, fcntl.LOCK_EX, 1, 50)
    fcntl.lockf(fd, fcntl.LOCK_UN, 1, 0)
    eq(result(pid, r), "granted", "the other waiter proceeds")
    os.close(fd)


@test
def interrupted_lock_wait_takes_nothing(d):
    p = os.path.join(d, "locked")
    write(p, b"x")
    fd = os.open(p, os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX)

    def waiter():
        class Alarm(Exception):
            pass

        def on_alarm(signum, frame):
            raise Alarm()
        signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(1)
        f = os.open(p, os.O_RDWR)
        try:
            fcntl.lockf(f, fcntl.LOCK_EX)
            return "granted?!"
        except Alarm:
            return "interrupted"
    eq(result(*child(waiter)), "interrupted", "a signal ends the wait")
    fcntl.lockf(fd, fcntl.LOCK_UN)
    res = result(*child(lambda: fcntl.lockf(os.open(p, os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)))
    eq(res, "None", "the interrupted request did not leave a lock behind")
    os.close(fd)


@test
def bsd_flock_semantics(d):
    p = os.path.join(d, "flocked")
    write(p, b"x")
    a = os.open(p, os.O_RDONLY)
    b = os.open(p, os.O_RDONLY)
    fcntl.flock(a, fcntl.LOCK_EX)
    expect_errno(errno.EWOULDBLOCK, fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    expect_errno(errno.EWOULDBLOCK, fcntl.flock, b, fcntl.LOCK_SH | fcntl.LOCK_NB)
    fcntl.flock(a, fcntl.LOCK_SH)
    fcntl.flock(b, fcntl.LOCK_SH | fcntl.LOCK_NB)
    expect_errno(errno.EWOULDBLOCK, fcntl.flock, a, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(b, fcntl.LOCK_UN)
    fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
    dup = os.dup(a)
    os.close(a)
    expect_errno(errno.EWOULDBLOCK, fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(dup)
    # FUSE drops a file's flock with its RELEASE, which the kernel sends asynchronously after the last close:
    # a blocking request waits for it (bounded by an alarm, so a lock that is never dropped fails the test).
    def on_alarm(signum, frame):
        raise TimeoutError("the flock of the closed file was never released")
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(10)
    try:
        fcntl.flock(b, fcntl.LOCK_EX)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    res = result(*child(lambda: fcntl.flock(os.open(p, os.O_RDONLY), fcntl.LOCK_SH | fcntl.LOCK_NB)))
    check("BlockingIOError" in res, f"another process is refused: {res}")
    os.close(b)


if __name__ == "__main__":
    main("posix", sys.argv)
