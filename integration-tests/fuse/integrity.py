#!/usr/bin/python3
"""Randomized integrity test: thousands of random writes, truncates and reads on a file in the mount, each
applied to a reference file on the local disk too; every read and a periodic full comparison must agree.
The seed is printed, so a failure can be replayed.

    integrity.py DIR-IN-MOUNT REFERENCE-DIR [REPORT-DIR] [--ops N] [--seed S]
    integrity.py --verify DIR-IN-MOUNT REFERENCE-DIR [REPORT-DIR] [--suite NAME]   (after a remount: same bytes?)
"""
import argparse
import hashlib
import os
import random
import sys

import fusetest
from fusetest import check, eq

MAX_SIZE = 48 << 20
NAME = "integrity.bin"


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest(), f.tell()
            h.update(b)


def compare_whole(mnt_path, ref_path, when):
    eq(os.stat(mnt_path).st_size, os.stat(ref_path).st_size, f"size {when}")
    eq(digest(mnt_path), digest(ref_path), f"content {when}")


def random_ops(d, ref_dir, ops, seed):
    rnd = random.Random(seed)
    mnt_path = os.path.join(d, NAME)
    ref_path = os.path.join(ref_dir, NAME)
    flags = os.O_CREAT | os.O_RDWR
    m = os.open(mnt_path, flags | os.O_TRUNC, 0o644)
    r = os.open(ref_path, flags | os.O_TRUNC, 0o644)
    counts = {}
    try:
        for i in range(ops):
            op = rnd.choices(["write", "read", "truncate", "reopen", "fsync", "append"],
                             [45, 35, 8, 5, 3, 4])[0]
            counts[op] = counts.get(op, 0) + 1
            size = os.fstat(r).st_size
            if op == "write":
                # Mostly small and unaligned, sometimes large, sometimes far past the end (holes).
                off = rnd.randrange(0, max(1, min(MAX_SIZE, size + (4 << 20))))
                n = rnd.choice([1, 7, 512, 4095, 4096, 65537, 131072, 300_000, 1 << 20])
                n = min(n, MAX_SIZE - off) or 1
                data = rnd.randbytes(n)
                eq(os.pwrite(m, data, off), n, f"op {i}: pwrite of {n} at {off}")
                os.pwrite(r, data, off)
            elif op == "append":
                data = rnd.randbytes(rnd.randrange(1, 70_000))
                os.lseek(m, 0, os.SEEK_END)
                os.lseek(r, 0, os.SEEK_END)
                os.write(m, data)
                os.write(r, data)
            elif op == "read":
                off = rnd.randrange(0, size + 10_000)
                n = rnd.choice([1, 100, 4096, 65536, 131072, 1 << 20])
                got = os.pread(m, n, off)
                want = os.pread(r, n, off)
                if got != want:
                    first = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]),
                                 min(len(got), len(want)))
                    raise AssertionError(f"op {i} (seed {seed}): read of {n} at {off}: {len(got)} bytes vs "
                                         f"{len(want)}, first difference at {off + first}")
            elif op == "truncate":
                to = rnd.choice([0, rnd.randrange(0, size + 1), rnd.randrange(0, MAX_SIZE)])
                os.ftruncate(m, to)
                os.ftruncate(r, to)
            elif op == "reopen":
                os.close(m)
                m = os.open(mnt_path, os.O_RDWR)
            else:
                os.fsync(m)
            if i % 1000 == 999:
                eq(os.fstat(m).st_size, os.fstat(r).st_size, f"size after op {i}")
                compare_whole(mnt_path, ref_path, f"after op {i} (seed {seed})")
    finally:
        os.close(m)
        os.close(r)
    compare_whole(mnt_path, ref_path, f"after {ops} ops and close (seed {seed})")
    print(f"integrity: {ops} ops {counts}, seed {seed}, final size {os.stat(ref_path).st_size}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("dir")
    ap.add_argument("ref")
    ap.add_argument("report", nargs="?")
    ap.add_argument("--ops", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--suite", default=None, help="the report's suite name (default integrity, or "
                    "integrity-remount with --verify)")
    a = ap.parse_args()
    if fusetest.hangar_mount_of(a.dir) is None:
        print(f"{a.dir} is not on a Hangar FUSE mount", file=sys.stderr)
        sys.exit(2)
    os.makedirs(a.ref, exist_ok=True)
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    if a.verify:
        def after_remount(d):
            # Every file of the reference folder: the random test's, and any the caller put there and into
            # the test's folder in the mount (run.sh adds a model file).
            written = os.path.join(os.path.dirname(d), "integrity-random_writes_truncates_reads")
            for name in sorted(os.listdir(a.ref)):
                mnt_path = os.path.join(written, name)
                check(os.path.exists(mnt_path), f"{name}, written before the remount, exists")
                compare_whole(mnt_path, os.path.join(a.ref, name), f"of {name} after a remount")
        tests = [after_remount]
    else:
        def random_writes_truncates_reads(d):
            random_ops(d, a.ref, a.ops, seed)
        tests = [random_writes_truncates_reads]
    suite = a.suite or ("integrity-remount" if a.verify else "integrity")
    sys.exit(1 if fusetest.run(suite, a.dir, tests, a.report) else 0)


if __name__ == "__main__":
    main()
