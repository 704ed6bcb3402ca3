#!/usr/bin/python3
"""Suites that need more than one mount of a volume (run.sh makes the mounts):

    mounts_suite.py readonly  RO-DIR  RW-DIR            [REPORT-DIR]
        RO-DIR and RW-DIR name the same directory through a --read-only mount and a read-write one.
    mounts_suite.py subdir    SUB-MOUNT  FULL-DIR       [REPORT-DIR]
        SUB-MOUNT is mounted with --subdir naming FULL-DIR's directory; FULL-DIR has a sibling "secret".
    mounts_suite.py twomounts A-DIR  B-DIR              [REPORT-DIR]
        the same directory through two mounts in two processes; B mounted with attr/entry timeouts 0.
"""
import errno
import os
import stat
import sys
import time

import fusetest
from fusetest import read, write, check, eq, expect_errno

ATTR_TIMEOUT = float(os.environ.get("HANGAR_ATTR_TIMEOUT", "1.0"))


def readonly_tests(ro, rw):
    def prepare(name):
        base = os.path.join(rw, name)
        os.makedirs(os.path.join(base, "dir"), exist_ok=True)
        write(os.path.join(base, "file"), b"released model")
        os.setxattr(os.path.join(base, "file"), "user.tag", b"v1")
        if not os.path.lexists(os.path.join(base, "link")):
            os.symlink("file", os.path.join(base, "link"))
        return os.path.join(ro, name)

    def reads_work(_):
        b = prepare("ro-reads")
        eq(read(os.path.join(b, "file")), b"released model", "read")
        eq(read(os.path.join(b, "link")), b"released model", "read through a symlink")
        eq(sorted(os.listdir(b)), ["dir", "file", "link"], "readdir")
        eq(os.getxattr(os.path.join(b, "file"), "user.tag"), b"v1", "getxattr")
        eq(os.readlink(os.path.join(b, "link")), "file", "readlink")
        check(os.statvfs(b).f_flag & os.ST_RDONLY, "statvfs says read-only")

    def every_mutation_is_erofs(_):
        b = prepare("ro-mutations")
        f = os.path.join(b, "file")
        d = os.path.join(b, "dir")
        mutations = [
            ("create", lambda: os.open(os.path.join(b, "new"), os.O_CREAT | os.O_WRONLY, 0o644)),
            ("open for writing", lambda: os.open(f, os.O_WRONLY)),
            ("open O_RDWR", lambda: os.open(f, os.O_RDWR)),
            ("open O_TRUNC", lambda: os.open(f, os.O_RDONLY | os.O_TRUNC)),
            ("mkdir", lambda: os.mkdir(os.path.join(b, "newdir"))),
            ("rmdir", lambda: os.rmdir(d)),
            ("unlink", lambda: os.unlink(f)),
            ("rename", lambda: os.rename(f, os.path.join(b, "renamed"))),
            ("link", lambda: os.link(f, os.path.join(b, "hard"))),
            ("symlink", lambda: os.symlink("x", os.path.join(b, "sym"))),
            ("chmod", lambda: os.chmod(f, 0o600)),
            ("chown", lambda: os.chown(f, 1, 1)),
            ("utime", lambda: os.utime(f, (1, 1))),
            ("utime now", lambda: os.utime(f)),
            ("truncate", lambda: os.truncate(f, 0)),
            ("setxattr", lambda: os.setxattr(f, "user.tag", b"v2")),
            ("removexattr", lambda: os.removexattr(f, "user.tag")),
            ("mkfifo", lambda: os.mkfifo(os.path.join(b, "fifo"))),
            ("mknod", lambda: os.mknod(os.path.join(b, "node"), 0o600 | stat.S_IFREG)),
        ]
        for what, fn in mutations:
            try:
                expect_errno(errno.EROFS, fn)
            except AssertionError as e:
                raise AssertionError(f"{what}: {e}")
        eq(read(f), b"released model", "nothing changed")
        eq(sorted(os.listdir(b)), ["dir", "file", "link"], "no entry added or removed")

    def changes_show_through(_):
        b = prepare("ro-follows")
        write(os.path.join(rw, "ro-follows", "late"), b"published later")
        eq(read(os.path.join(b, "late")), b"published later", "a file closed by the writer")

    return [reads_work, every_mutation_is_erofs, changes_show_through]


def subdir_tests(sub, full):
    secret = os.path.join(os.path.dirname(full), "secret")

    def only_the_subdir_is_visible(_):
        eq(sorted(os.listdir(sub)), sorted(os.listdir(full)), "the mount root lists the subdir")
        eq(os.stat(sub).st_ino, os.stat(full).st_ino, "the mount root is the subdir's inode")
        check(os.path.exists(secret), "the volume does have a sibling 'secret'")
        check(not os.path.exists(os.path.join(sub, "secret")), "the sibling is not in the mount")

    def dotdot_leaves_the_mount_not_into_the_volume(_):
        parent = os.path.dirname(os.path.realpath(sub))
        eq(os.stat(os.path.join(sub, "..")).st_ino, os.stat(parent).st_ino,
           ".. of the mount root is the host directory holding the mount point")
        expect_errno(errno.ENOENT, os.stat, os.path.join(sub, "..", "secret"))

    def symlinks_do_not_escape(_):
        name = "escape-" + str(os.getpid())
        os.symlink("../secret/key", os.path.join(sub, name))
        os.symlink(os.path.join("/", "secret", "key"), os.path.join(sub, name + "-abs"))
        try:
            eq(os.readlink(os.path.join(sub, name)), "../secret/key", "the target is kept as a string")
            # The kernel resolves targets in the host's namespace: nothing leads back into the volume.
            expect_errno(errno.ENOENT, os.stat, os.path.join(sub, name))
            expect_errno(errno.ENOENT, os.stat, os.path.join(sub, name + "-abs"))
        finally:
            os.unlink(os.path.join(sub, name))
            os.unlink(os.path.join(sub, name + "-abs"))

    def writes_land_in_the_subdir(_):
        write(os.path.join(sub, "from-sub"), b"written through the subdir mount")
        try:
            eq(read(os.path.join(full, "from-sub")), b"written through the subdir mount", "seen in the volume")
        finally:
            os.unlink(os.path.join(sub, "from-sub"))

    def no_link_or_rename_out_of_the_mount(_):
        write(os.path.join(sub, "stay"), b"x")
        try:
            expect_errno(errno.EXDEV, os.rename, os.path.join(sub, "stay"), os.path.join(full, "..", "moved"))
            expect_errno(errno.EXDEV, os.link, os.path.join(sub, "stay"), os.path.join(full, "..", "linked"))
        finally:
            os.unlink(os.path.join(sub, "stay"))

    return [only_the_subdir_is_visible, dotdot_leaves_the_mount_not_into_the_volume, symlinks_do_not_escape,
            writes_land_in_the_subdir, no_link_or_rename_out_of_the_mount]


def twomounts_tests(a, b):
    def wait_for_caches():
        # A keeps names and attributes ATTR_TIMEOUT seconds; B (timeouts 0) asks the volume every time.
        time.sleep(ATTR_TIMEOUT + 0.2)

    def closed_files_show_in_the_other_mount(d):
        name = os.path.basename(d)
        pa, pb = os.path.join(a, name), d
        write(os.path.join(pa, "model.bin"), b"weights v1" * 1000)
        eq(read(os.path.join(pb, "model.bin")), b"weights v1" * 1000, "B reads what A closed")
        write(os.path.join(pb, "from-b"), b"hello A")
        eq(read(os.path.join(pa, "from-b")), b"hello A", "A reads a new file B closed")

    def rewrites_show_on_the_next_open(d):
        name = os.path.basename(d)
        pa, pb = os.path.join(a, name, "f"), os.path.join(d, "f")
        write(pa, b"A" * 100_000)
        eq(read(pb), b"A" * 100_000, "first version in B (now in B's page cache)")
        write(pa, b"B" * 100_000)
        eq(read(pb), b"B" * 100_000, "same size, new content: B's cached pages are not kept")
        write(pa, b"C" * 300_000)
        eq(read(pb), b"C" * 300_000, "a longer version")
        with open(pb, "ab") as f:
            f.write(b"D" * 1000)
        wait_for_caches()
        eq(read(pa), b"C" * 300_000 + b"D" * 1000, "A sees B's append once its attributes expire")

    def namespace_changes_cross(d):
        name = os.path.basename(d)
        da, db = os.path.join(a, name), d
        write(os.path.join(da, "old"), b"x")
        os.mkdir(os.path.join(da, "sub"))
        eq(sorted(os.listdir(db)), ["old", "sub"], "B lists A's entries")
        os.rename(os.path.join(da, "old"), os.path.join(da, "sub", "new"))
        expect_errno(errno.ENOENT, os.stat, os.path.join(db, "old"))
        eq(read(os.path.join(db, "sub", "new")), b"x", "B follows A's rename")
        os.unlink(os.path.join(db, "sub", "new"))
        wait_for_caches()
        expect_errno(errno.ENOENT, os.stat, os.path.join(da, "sub", "new"))
        eq(os.listdir(os.path.join(da, "sub")), [], "A lists B's unlink")

    def open_file_survives_unlink_in_the_other_mount(d):
        name = os.path.basename(d)
        pa, pb = os.path.join(a, name, "f"), os.path.join(d, "f")
        write(pa, b"still here" * 10_000)
        fd = os.open(pb, os.O_RDONLY)
        try:
            os.unlink(pa)
            eq(os.pread(fd, 100_000, 0), b"still here" * 10_000, "B reads a file A unlinked while B had it open")
        finally:
            os.close(fd)

    # Each test works in its fresh directory, created in B; A reaches it by name.
    return [closed_files_show_in_the_other_mount, rewrites_show_on_the_next_open, namespace_changes_cross,
            open_file_survives_unlink_in_the_other_mount]


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("readonly", "subdir", "twomounts"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    kind, first, second = sys.argv[1:4]
    report = sys.argv[4] if len(sys.argv) > 4 else None
    for p in (first, second):
        if fusetest.hangar_mount_of(p) is None:
            print(f"{p} is not on a Hangar FUSE mount", file=sys.stderr)
            sys.exit(2)
    if kind == "readonly":
        # Fresh directories would need writing through the read-only mount: each test prepares via RW.
        failures = fusetest.run("readonly", second, readonly_tests(first, second), report)
    elif kind == "subdir":
        failures = fusetest.run("subdir", second, subdir_tests(first, second), report)
    else:
        failures = fusetest.run("twomounts", second, twomounts_tests(first, second), report)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
