#!/usr/bin/python3
"""Crash tests of Hangar itself: the runtime serving a FUSE mount is killed with SIGKILL at random (seeded)
moments of a mixed workload, and the chunk store fails (read-only, full) under a write stream. After
each crash: the dead mount is detached, `hangar fsck` must find the volume consistent (exit 0, or 10 for
leaked blocks only), a fresh mount (a new runtime process, cold caches) must read back every acknowledged
file exactly, and after `hangar gc --older-than 0s` fsck must be clean (exit 0).

    crash_suite.py ENGINE WORK-DIR [REPORT-DIR]

ENGINE is sqlite or redis (a redis-server of the suite's own on a free loopback port, AOF with
appendfsync always, stopped by pid at the end). The suite formats its own volumes in WORK-DIR (never a
volume of the caller's: it kills runtimes and runs gc with no grace period), mounts them with
`hangar mount -d` from a private copy of the CLI and of the runtime jar (a rebuild by someone else while a
mount runs must not pull the jar from under it), and writes TEST-fuse-<engine>-crash.xml into REPORT-DIR.
Standard library only.

Environment: HANGAR_CRASH_SEED (base seed; printed, default random), HANGAR_CRASH_ROUNDS (kill rounds,
default 4), HANGAR_CRASH_STORE_ROUNDS (default "readonly-kill readonly-recover full-recover"),
REDIS_SERVER (default redis-server on the PATH).

What is acknowledged, and what a fresh mount must show
-------------------------------------------------------
A child process (this file, --workload) runs the workload in the mount and keeps a journal on the local
disk: before each operation a "begin" record with its parameters, after the operation's last call
returned (fsync and close for data, the call itself for rename/unlink/truncate, which Hangar commits to
the metadata engine before replying) an "ack" record with the resulting state of every path it touched
(size, SHA-256, and the extents that regenerate its bytes). Every record is fsynced. The workload is
single-threaded, so at most one operation is unacknowledged when the runtime dies: the last "begin"
without its "ack" (the pending operation). With a failing store, operations that fail with an errno get a
"fail" record and their paths are not touched again in that round.

After the crash every path must hold exactly its acknowledged state (absent if its last acknowledged
operation removed it), except the paths of the pending or failed operations, for which exactly these
states are accepted:
  * rename(a, b), unlink(p), truncate(p, n) (path or ftruncate+fsync): the state before or after the call
    (each is one metadata transaction);
  * a data write at offset o of k bytes (sequential steps of 16 MiB of a large file, a small or medium
    file created and written, an overwrite at a random offset, which may cross the 64 MiB chunk boundary
    or extend the file): the state before it with a PREFIX of its bytes applied, [o, o+j) for some
    0 <= j <= k (the file growing to max(size, o+j)); for a file it creates, also absent;
  * a rewrite (open with O_TRUNC, write, fsync, close): the state before it, or the new content cut to
    any length 0..k (the truncation of the open landed, then a prefix of the writes).
The prefix rule is the file system's write order: Hangar commits the slices of one file strictly in write
order, and a slice may be sealed and committed before the fsync (a full chunk, a short write buffer), so
any prefix of unacknowledged writes may be there, but never later bytes without the earlier ones, and
never bytes of an operation that did not run. No name may exist that no operation created.

Clones: the FUSE mount has no clone operation (no FICLONE / ioctl, docs/frontend-fuse.md); the setup
checks that FICLONE fails on the mount, so the workload has none (and the setup fails once the mount
gains one, to have clones added here).
"""
import collections
import errno
import fcntl
import glob
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import traceback
import zipfile

import fusetest

MiB = 1 << 20
KiB = 1 << 10
CHUNK = 64 * MiB
STEP = 16 * MiB          # a large file's writes between two fsyncs
DIRS = ["d0", "d1", "d2", "d3"]
ROOT = "crash"           # the suite's directory in each volume
FICLONE = 0x40049409
EMPTY = {"size": 0, "ext": []}
CLI_TIMEOUT = 300        # fsck, gc, format
MOUNT_TIMEOUT = 240      # hangar mount -d waits 120 s itself
UMOUNT_TIMEOUT = 150     # hangar umount waits 60 s, then SIGTERM


# ---------------------------------------------------------------------------------------------------------
# Deterministic file contents: a file is a size and extents [start, end, seed, pos]: bytes [start, end) are
# bytes [pos, pos + end - start) of the pseudo-random stream `seed`; what no extent covers reads as zeros.
# Workload and verifier compute the same bytes from the journal; nothing is kept on the local disk.

class Gen:
    """Stream `seed` is a pseudo-random MiB of its own, rotated by a different amount in each MiB of the
    stream (k -> k * odd mod 2^20 is one-to-one): blocks of one stream, and of two streams, all differ, and
    generating is a copy, not a random draw per byte."""

    def __init__(self):
        self.bases = collections.OrderedDict()

    def base(self, seed):
        v = self.bases.get(seed)
        if v is None:
            v = random.Random(seed).randbytes(MiB)
            self.bases[seed] = v
            if len(self.bases) > 64:
                self.bases.popitem(last=False)
        else:
            self.bases.move_to_end(seed)
        return v

    def bytes(self, seed, pos, n):
        base = self.base(seed)
        out = bytearray()
        while n > 0:
            b, o = divmod(pos, MiB)
            take = min(n, MiB - o)
            r = (o + (b * 0x9E3779B1 + 0x5BD1E995) % MiB) % MiB
            piece = base[r:r + take]
            if len(piece) < take:
                piece += base[:take - len(piece)]
            out += piece
            pos += take
            n -= take
        return bytes(out)


GEN = Gen()


def st_write(st, off, n, seed, pos):
    """st (None: an empty file) with bytes [off, off + n) from stream `seed` at `pos`; no sha."""
    st = st or EMPTY
    if n <= 0:
        return {"size": st["size"], "ext": [list(e) for e in st["ext"]]}
    ext = []
    for s, e, sd, p in st["ext"]:
        if e <= off or s >= off + n:
            ext.append([s, e, sd, p])
            continue
        if s < off:
            ext.append([s, off, sd, p])
        if e > off + n:
            ext.append([off + n, e, sd, p + (off + n - s)])
    ext.append([off, off + n, seed, pos])
    ext.sort()
    return {"size": max(st["size"], off + n), "ext": ext}


def st_truncate(st, n):
    ext = []
    for s, e, sd, p in st["ext"]:
        if s < n:
            ext.append([s, min(e, n), sd, p])
    return {"size": n, "ext": ext}


def st_read(st, lo, hi):
    hi = min(hi, st["size"])
    if hi <= lo:
        return b""
    out = bytearray(hi - lo)
    for s, e, sd, p in st["ext"]:
        a, b = max(s, lo), min(e, hi)
        if a < b:
            out[a - lo:b - lo] = GEN.bytes(sd, p + (a - s), b - a)
    return bytes(out)


def finish(st):
    """st with its sha256."""
    h = hashlib.sha256()
    for lo in range(0, st["size"], MiB):
        h.update(st_read(st, lo, lo + MiB))
    return dict(st, sha=h.hexdigest())


def seq_state(size, seed, h):
    return {"size": size, "ext": [[0, size, seed, 0]] if size else [], "sha": h.copy().hexdigest()}


def paths_of(op):
    if op is None:
        return []
    if op["kind"] == "rename":
        return [op["src"], op["dst"]]
    return [op["path"]] if "path" in op else []


DATA_OPS = ("write", "rewrite", "orphan_write")


def describe_op(op):
    if op is None:
        return "(none)"
    k = op["kind"]
    if k == "write":
        return (f"write {op['path']} [{op['off']}, +{op['len']}) seed {op['seed']}"
                + (" (creates it)" if op.get("create") else ""))
    if k == "rewrite":
        return f"rewrite (O_TRUNC) {op['path']} with {op['len']} bytes"
    if k == "truncate":
        return f"truncate {op['path']} to {op['size']} ({op.get('how', 'path')})"
    if k == "rename":
        return f"rename {op['src']} -> {op['dst']}"
    if k == "unlink":
        return f"unlink {op['path']}" + (" (open)" if op.get("open") else "")
    return k


def mib(n):
    return f"{n / MiB:.1f} MiB"


# ---------------------------------------------------------------------------------------------------------
# The workload (child process).

class MountGone(Exception):
    pass


class Workload:
    def __init__(self, cfg):
        self.root = cfg["root"]
        self.mode = cfg["mode"]
        self.cap = cfg["cap"]
        self.tag = cfg["tag"]
        self.deadline = time.time() + cfg["max_secs"]
        # A string seed is hashed: consecutive integer seeds would start alike.
        self.rng = random.Random(f"workload/{cfg['seed']}")
        with open(cfg["baseline"]) as f:
            self.files = json.load(f)
        self.jfd = os.open(cfg["journal"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.n = 0
        self.count = 0
        self.cur = None
        self.big = None
        self.orphans = []
        self.uncertain = set()
        if self.mode == "kill":
            self.big_range, self.med_max = (64 * MiB, 200 * MiB), 72 * MiB
            self.weights = {"big": 30, "small": 30, "medium": 6, "overwrite": 12, "rewrite": 4, "truncate": 8,
                            "rename": 8, "unlink": 3, "unlink_open": 3, "close_orphan": 3}
        else:
            self.big_range, self.med_max = (32 * MiB, 96 * MiB), 24 * MiB
            self.weights = {"big": 45, "small": 20, "medium": 10, "overwrite": 8, "rewrite": 2, "truncate": 4,
                            "rename": 5, "unlink": 3, "unlink_open": 2, "close_orphan": 1}

    # -- journal --
    def log(self, rec):
        rec["ts"] = time.time()
        os.write(self.jfd, (json.dumps(rec, separators=(",", ":")) + "\n").encode())
        os.fsync(self.jfd)

    def begin(self, op):
        self.n += 1
        self.cur = op
        self.log({"t": "begin", "n": self.n, "op": op})

    def ack(self, states):
        self.log({"t": "ack", "n": self.n, "states": states})
        self.cur = None
        for p, st in states.items():
            if st is None:
                self.files.pop(p, None)
            else:
                self.files[p] = st

    # -- helpers --
    def p(self, rel):
        return os.path.join(self.root, rel)

    def new_name(self, kind):
        self.count += 1
        return f"{self.rng.choice(DIRS)}/{kind}-{self.tag}-{self.count}"

    def stable(self, max_size=None):
        busy = self.big["path"] if self.big else None
        return sorted(p for p, st in self.files.items() if p not in self.uncertain and p != busy
                      and (max_size is None or st["size"] <= max_size))

    def live(self):
        return sum(st["size"] for st in self.files.values()) + (
            self.big["total"] - self.big["size"] if self.big else 0)

    def make_room(self, n):
        while self.live() + n > self.cap:
            cands = sorted(self.stable(), key=lambda q: (-self.files[q]["size"], q))
            if not cands or self.files[cands[0]]["size"] == 0:
                return False
            self.op_unlink(cands[0])
        return True

    @staticmethod
    def write_all(fd, data, off=None):
        view = memoryview(data)
        while view:
            n = os.write(fd, view) if off is None else os.pwrite(fd, view, off)
            if off is not None:
                off += n
            view = view[n:]

    def seed(self):
        return self.rng.randrange(1, 1 << 48)

    # -- operations; each returns False when it had nothing to do --
    def op_big(self):
        if self.big is None:
            total = self.rng.randrange(*self.big_range)
            if not self.make_room(total):
                return False
            self.big = {"path": self.new_name("big"), "seed": self.seed(), "total": total, "size": 0, "fd": None,
                        "h": hashlib.sha256()}
        b = self.big
        start, k = b["size"], min(STEP, b["total"] - b["size"])
        self.begin({"kind": "write", "path": b["path"], "off": start, "len": k, "seed": b["seed"], "pos": start,
                    "create": b["fd"] is None})
        if b["fd"] is None:
            b["fd"] = os.open(self.p(b["path"]), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        off = start
        while off < start + k:
            n = min(MiB, start + k - off)
            data = GEN.bytes(b["seed"], off, n)
            self.write_all(b["fd"], data)
            b["h"].update(data)
            off += n
        os.fsync(b["fd"])
        b["size"] = start + k
        done = b["size"] == b["total"]
        if done:
            fd, b["fd"] = b["fd"], -1
            os.close(fd)
        self.ack({b["path"]: seq_state(b["size"], b["seed"], b["h"])})
        if done:
            self.big = None
        return True

    def create(self, n, kind, fsync):
        path, seed = self.new_name(kind), self.seed()
        self.begin({"kind": "write", "path": path, "off": 0, "len": n, "seed": seed, "pos": 0, "create": True})
        fd = os.open(self.p(path), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        h = hashlib.sha256()
        try:
            for off in range(0, n, MiB):
                data = GEN.bytes(seed, off, min(MiB, n - off))
                self.write_all(fd, data)
                h.update(data)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        self.ack({path: seq_state(n, seed, h)})
        return True

    def op_small(self):
        # Written and closed (close commits: FLUSH is synchronous), no fsync. Some empty.
        return self.create(self.rng.choice([0, self.rng.randrange(1, 4096), self.rng.randrange(1, 64 * KiB)]),
                           "small", fsync=False)

    def op_medium(self):
        n = self.rng.randrange(MiB, self.med_max)
        if not self.make_room(n):
            return False
        return self.create(n, "med", fsync=True)

    def pick(self, max_size=None):
        c = self.stable(max_size)
        return self.rng.choice(c) if c else None

    def op_overwrite(self):
        path = self.pick()
        if path is None:
            return False
        st = self.files[path]
        size, n, seed = st["size"], self.rng.randrange(1, 4 * MiB), self.seed()
        if size > CHUNK and self.rng.random() < 0.5:
            off = max(0, CHUNK - self.rng.randrange(0, n))      # across the chunk boundary
        else:
            off = self.rng.randrange(0, size + 1)                # may extend the file
        self.begin({"kind": "write", "path": path, "off": off, "len": n, "seed": seed, "pos": 0})
        fd = os.open(self.p(path), os.O_WRONLY)
        try:
            self.write_all(fd, GEN.bytes(seed, 0, n), off)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.ack({path: finish(st_write(st, off, n, seed, 0))})
        return True

    def op_rewrite(self):
        path = self.pick()
        if path is None:
            return False
        n, seed = self.rng.randrange(0, 16 * MiB), self.seed()
        self.begin({"kind": "rewrite", "path": path, "len": n, "seed": seed})
        fd = os.open(self.p(path), os.O_WRONLY | os.O_TRUNC)
        h = hashlib.sha256()
        try:
            for off in range(0, n, MiB):
                data = GEN.bytes(seed, off, min(MiB, n - off))
                self.write_all(fd, data)
                h.update(data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.ack({path: seq_state(n, seed, h)})
        return True

    def op_truncate(self):
        path = self.pick()
        if path is None:
            return False
        st = self.files[path]
        if st["size"] > 0 and self.rng.random() < 0.6:
            n = self.rng.randrange(0, st["size"])
        else:
            n = st["size"] + self.rng.randrange(1, 8 * MiB)
        how = self.rng.choice(["path", "ftruncate"])
        self.begin({"kind": "truncate", "path": path, "size": n, "how": how})
        if how == "path":
            os.truncate(self.p(path), n)
        else:
            fd = os.open(self.p(path), os.O_WRONLY)
            try:
                os.ftruncate(fd, n)
                os.fsync(fd)
            finally:
                os.close(fd)
        self.ack({path: finish(st_truncate(st, n))})
        return True

    def op_rename(self):
        src = self.pick()
        if src is None:
            return False
        others = [q for q in self.stable() if q != src]
        dst = self.rng.choice(others) if others and self.rng.random() < 0.4 else self.new_name("ren")
        self.begin({"kind": "rename", "src": src, "dst": dst})
        os.rename(self.p(src), self.p(dst))
        self.ack({src: None, dst: self.files[src]})
        return True

    def op_unlink(self, path=None):
        path = path or self.pick()
        if path is None:
            return False
        self.begin({"kind": "unlink", "path": path})
        os.unlink(self.p(path))
        self.ack({path: None})
        return True

    def op_unlink_open(self):
        """unlink of an open file, then writes and reads through the descriptor (checked here: the file
        has no name any more); it stays open for a while (some are open when the runtime dies)."""
        path = self.pick(max_size=32 * MiB)
        if path is None:
            return False
        st = self.files[path]
        fd = os.open(self.p(path), os.O_RDWR)
        try:
            self.begin({"kind": "unlink", "path": path, "open": True})
            os.unlink(self.p(path))
            self.ack({path: None})
            off, n, seed = self.rng.randrange(0, st["size"] + 1), self.rng.randrange(1, 256 * KiB), self.seed()
            self.begin({"kind": "orphan_write", "was": path, "off": off, "len": n})
            self.write_all(fd, GEN.bytes(seed, 0, n), off)
            os.fsync(fd)
            new = st_write(st, off, n, seed, 0)
            got = bytearray()
            while len(got) < new["size"]:
                b = os.pread(fd, min(4 * MiB, new["size"] - len(got)), len(got))
                if not b:
                    break
                got += b
            size = os.fstat(fd).st_size
            if size != new["size"] or bytes(got) != st_read(new, 0, new["size"]):
                what = (f"the unlinked open file (was {path}) reads back {len(got)} bytes (fstat {size}) that "
                        f"differ from the {new['size']} written")
                self.log({"t": "bad", "n": self.n, "what": what})
                print(f"workload: {what}", file=sys.stderr, flush=True)
                os._exit(5)
            self.ack({})
        except BaseException:
            os.close(fd)
            raise
        self.orphans.append(fd)
        if len(self.orphans) > 3:
            self.op_close_orphan()
        return True

    def op_close_orphan(self):
        if not self.orphans:
            return False
        fd = self.orphans.pop(0)
        self.begin({"kind": "close_orphan"})
        os.close(fd)
        self.ack({})
        return True

    # -- the loop --
    def failed(self, e):
        op, self.cur = self.cur, None
        self.log({"t": "fail", "n": self.n if op is not None else None, "errno": e.errno,
                  "err": errno.errorcode.get(e.errno, str(e.errno)), "msg": str(e)[:300]})
        if e.errno in (errno.ENOTCONN, errno.ECONNABORTED):
            raise MountGone(str(e))
        if self.mode == "kill":
            print(f"workload: {describe_op(op)} failed: {e}", file=sys.stderr, flush=True)
            os._exit(4)
        self.uncertain.update(paths_of(op))
        if self.big is not None and (op is None or op.get("path") == self.big["path"]):
            self.uncertain.add(self.big["path"])
            if self.big["fd"] not in (None, -1):
                try:
                    os.close(self.big["fd"])
                except OSError:
                    pass
            self.big = None
        time.sleep(0.2)

    def run(self):
        names = sorted(self.weights)
        weights = [self.weights[k] for k in names]
        while time.time() < self.deadline:
            op = getattr(self, "op_" + self.rng.choices(names, weights)[0])
            try:
                op()
            except OSError as e:
                self.failed(e)
        self.log({"t": "end"})


def workload_main(cfg_path):
    with open(cfg_path) as f:
        cfg = json.load(f)
    try:
        Workload(cfg).run()
    except MountGone as e:
        print(f"workload: the mount is gone ({e})", file=sys.stderr, flush=True)
        sys.exit(3)


# ---------------------------------------------------------------------------------------------------------
# Verification.

def read_journal(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    return [json.loads(x) for x in lines[:-1] if x.strip()]  # a last line without "\n" was cut by the kill


class Replay:
    """The journal applied to the baseline: acknowledged states, and the operations that may or may not have
    landed (the pending one, failed ones) with the states of their paths before them."""

    def __init__(self, baseline, records):
        self.model = {p: st for p, st in baseline.items()}
        self.maybes = []        # (n, op, pre, why)
        self.fails = []         # (op or None, record)
        self.bads = []
        self.acks = 0
        self.pending = None
        uncertain = {}
        cur = None
        for r in records:
            t = r["t"]
            if t == "begin":
                if cur is not None:
                    raise AssertionError(f"journal: #{r['n']} began while #{cur['n']} was not finished")
                cur = r
            elif t == "ack":
                if cur is None or cur["n"] != r["n"]:
                    raise AssertionError(f"journal: ack of #{r['n']} without its begin")
                for p, st in r["states"].items():
                    if p in uncertain:
                        # The workload leaves the paths of a failed operation alone: this is its bug.
                        raise AssertionError(f"journal: #{r['n']} changed {p}, uncertain since #{uncertain[p]}")
                    if st is None:
                        self.model.pop(p, None)
                    else:
                        self.model[p] = dict(st, by=f"#{r['n']}")
                self.acks += 1
                cur = None
            elif t == "fail":
                op = cur["op"] if cur is not None and cur["n"] == r["n"] else None
                self.fails.append((op, r))
                if op is not None:
                    self.add_maybe(cur["n"], op, f"failed with {r['err']}")
                    for p in paths_of(op):
                        uncertain[p] = cur["n"]
                cur = None
            elif t == "bad":
                self.bads.append(r)
        if cur is not None:
            self.pending = (cur["n"], cur["op"])
            self.add_maybe(cur["n"], cur["op"], "pending at the kill")

    def add_maybe(self, n, op, why):
        self.maybes.append((n, op, {p: self.model.get(p) for p in paths_of(op)}, why))


def scan(path):
    """None when absent, else (size, sha256) read through the mount."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise AssertionError(f"{path}: not a regular file (mode {st.st_mode:o})")
        h = hashlib.sha256()
        size = 0
        while True:
            b = os.read(fd, MiB)
            if not b:
                break
            h.update(b)
            size += len(b)
        if size != st.st_size:
            raise AssertionError(f"{path}: {size} bytes read but fstat says {st.st_size}")
        return size, h.hexdigest()
    finally:
        os.close(fd)


def matches(actual, st):
    return actual is None if st is None else actual is not None and actual == (st["size"], st["sha"])


def first_mismatch(x, y):
    if x == y:
        return None
    if len(x) != len(y):
        n = min(len(x), len(y))
        m = first_mismatch(x[:n], y[:n])
        return n if m is None else m
    lo, hi = 0, len(x)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if x[lo:mid] == y[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def last_mismatch(x, y):
    if x == y:
        return None
    lo, hi = 0, len(x)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if x[mid:hi] == y[mid:hi]:
            hi = mid
        else:
            lo = mid
    return lo


def read_block(f, n):
    out = bytearray()
    while len(out) < n:
        b = f.read(n - len(out))
        if not b:
            break
        out += b
    return bytes(out)


def same_content(path, st):
    with open(path, "rb", buffering=0) as f:
        for lo in range(0, st["size"], MiB):
            if read_block(f, MiB) != st_read(st, lo, lo + MiB):
                return False
        return not f.read(1)


def first_difference(path, st):
    """Where the file first differs from st, for the failure message."""
    try:
        with open(path, "rb", buffering=0) as f:
            lo = 0
            while True:
                got = read_block(f, MiB)
                want = st_read(st, lo, lo + MiB)
                m = first_mismatch(got, want)
                if m is not None:
                    at = lo + m
                    zeros = got[m:m + 4096] and not got[m:m + 4096].strip(b"\0")
                    return (f"first difference at byte {at} (chunk {at // CHUNK}, block {(at % CHUNK) // (4 * MiB)}"
                            f" of it){'; the file has zeros there' if zeros else ''}")
                if not got:
                    return "no difference found on a second read"
                lo += len(got)
    except OSError as e:
        return f"cannot read it again: {e}"


def landed_prefix(path, base, off, k, seed, pos, actual_size):
    """The j in 0..k such that the file holds `base` with bytes [off, off + j) of the write, or None."""
    B, A = base["size"], actual_size
    if A > B:
        j = A - off
        if j <= 0 or j > k:
            return None
        return j if same_content(path, st_write(base, off, j, seed, pos)) else None
    if A < B:
        return None
    if off >= B:
        return 0 if same_content(path, base) else None
    hi = min(off + k, B)
    p, r = None, 0
    with open(path, "rb", buffering=0) as f:
        for lo in range(0, A, MiB):
            blk = read_block(f, MiB)
            end = lo + len(blk)
            want = st_read(base, lo, end)
            a, b = max(lo, off), min(end, hi)
            if a >= b:
                if blk != want:
                    return None
                continue
            if blk[:a - lo] != want[:a - lo] or blk[b - lo:] != want[b - lo:]:
                return None
            act = blk[a - lo:b - lo]
            if p is None:
                m = first_mismatch(act, GEN.bytes(seed, pos + (a - off), b - a))
                if m is not None:
                    p = a - off + m
            m2 = last_mismatch(act, want[a - lo:b - lo])
            if m2 is not None:
                r = a - off + m2 + 1
    if p is None:
        p = hi - off
    return p if r <= p else None


def show(st):
    return "absent" if st is None else f"{st['size']} bytes sha256 {st['sha'][:16]}"


def show_actual(a):
    return "absent" if a is None else f"{a[0]} bytes sha256 {a[1][:16]}"


def check_maybe(root, n, op, pre, why):
    """The resolved states of the paths of an operation that may have landed, and what happened."""
    kind = op["kind"]
    paths = paths_of(op)
    actual = {p: scan(os.path.join(root, p)) for p in paths}
    if not paths:
        return {}, "nothing to check (no path)"
    if kind in ("truncate", "rename", "unlink"):
        if kind == "truncate":
            post = {op["path"]: finish(st_truncate(pre[op["path"]], op["size"]))}
        elif kind == "rename":
            post = {op["src"]: None, op["dst"]: pre[op["src"]]}
        else:
            post = {op["path"]: None}
        for label, cand in (("did not land", pre), ("landed", post)):
            if all(matches(actual[p], cand[p]) for p in paths):
                return cand, label
        raise AssertionError(f"#{n} {describe_op(op)} ({why}): neither the state before nor after it: "
                             + "; ".join(f"{p}: before {show(pre[p])}, after {show(post[p])}, found "
                                         f"{show_actual(actual[p])}" for p in paths))
    p = op["path"]
    a, P = actual[p], pre[p]
    if matches(a, P):
        return {p: P}, "did not land"
    if kind == "rewrite":
        base, off, k, seed, spos = EMPTY, 0, op["len"], op["seed"], 0
    else:
        if P is None and not op.get("create"):
            raise AssertionError(f"journal: #{n} writes {p}, which had no acknowledged state")
        base, off, k, seed, spos = P or EMPTY, op["off"], op["len"], op["seed"], op["pos"]
    full = finish(st_write(base, off, k, seed, spos))
    if matches(a, full):
        return {p: full}, "landed"
    if a is not None:
        j = landed_prefix(os.path.join(root, p), base, off, k, seed, spos, a[0])
        if j is not None:
            st = st_write(base, off, j, seed, spos)
            st["sha"] = a[1]
            return {p: st}, f"landed in part: the first {j} of its {k} bytes"
    raise AssertionError(f"#{n} {describe_op(op)} ({why}): {p} is {show_actual(a)}: not the state before it "
                         f"({show(P)}), nor that with any prefix of the write applied (all of it: {show(full)})"
                         + (f"; against the full write: {first_difference(os.path.join(root, p), full)}"
                            if a is not None else ""))


def verify(root, replay):
    """Compares the mount with the replayed journal; returns (resolved baseline, notes)."""
    maybe_paths = {p for _, op, pre, _ in replay.maybes for p in pre}
    problems = []
    resolved = {}
    checked = 0
    for p, st in sorted(replay.model.items()):
        if p in maybe_paths:
            continue
        a = scan(os.path.join(root, p))
        checked += 1
        if matches(a, st):
            resolved[p] = st
        else:
            problems.append(f"{p}: acknowledged {show(st)} (by {st.get('by', 'an earlier round')}), found "
                            f"{show_actual(a)}" + (f"; {first_difference(os.path.join(root, p), st)}"
                                                   if a is not None else ""))
    notes = []
    for n, op, pre, why in replay.maybes:
        try:
            states, what = check_maybe(root, n, op, pre, why)
            notes.append(f"#{n} {describe_op(op)} ({why}): {what}")
            for p, st in states.items():
                checked += 1
                if st is not None:
                    resolved[p] = st
        except AssertionError as e:
            problems.append(str(e))
    # No name nobody made; no hidden files of unlinked open files.
    for d in DIRS:
        try:
            names = set(os.listdir(os.path.join(root, d)))
        except OSError as e:
            problems.append(f"cannot list {d}: {e}")
            continue
        want = {p.split("/", 1)[1] for p in resolved if p.startswith(d + "/")}
        for extra in sorted(names - want):
            problems.append(f"{d}/{extra}: a name no acknowledged or pending operation explains")
        for gone in sorted(want - names):
            problems.append(f"{d}/{gone}: read back but missing from its directory listing")
    top = set(os.listdir(root))
    if top != set(DIRS):
        problems.append(f"{root} lists {sorted(top)}, expected {DIRS}")
    if problems:
        raise AssertionError(f"{len(problems)} problem(s) after the crash:\n  " + "\n  ".join(problems))
    return resolved, notes, checked


# ---------------------------------------------------------------------------------------------------------
# The harness: the CLI, mounts, processes, the failing store.

def log(msg):
    print(msg, flush=True)


def is_mounted(mp):
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[1].replace("\\040", " ") == mp:
                return fields[2]
    return None


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return s[s.rindex(")") + 2] not in "ZX"


def wait_for(cond, secs, step=0.1):
    end = time.time() + secs
    while True:
        if cond():
            return True
        if time.time() > end:
            return False
        time.sleep(step)


def stop_pid(pid, secs):
    """TERM, then KILL after secs; True when it stopped on TERM."""
    if not pid_alive(pid):
        return True
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if wait_for(lambda: not pid_alive(pid), secs):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    wait_for(lambda: not pid_alive(pid), 10)
    return False


def run_cmd(cmd, timeout, what):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{what}: no answer within {timeout} s (killed): {' '.join(cmd)}\n"
                             f"{str(e.stdout or '')[-2000:]}")


class Ctx:
    """What the suite started (stopped by pid at the end) and what the tests share."""

    def __init__(self, engine, work, seed):
        self.engine = engine
        self.work = work
        self.seed = seed
        self.broken = None          # why nothing can run (a prerequisite, the setup)
        self.cli = None
        self.runtimes = {}          # pid -> mount point
        self.children = []          # Popen of workloads and redis
        self.redis = None
        self.store_faults = []      # cleanups of injected store faults, newest last
        self.loop_mounts = []
        self.volumes = {}
        self.rounds = []            # summary lines
        self.teardown_problems = []

    def hangar(self, *args, timeout=CLI_TIMEOUT, what=None):
        return run_cmd(self.cli + list(args), timeout, what or f"hangar {args[0]}")

    def need(self, *names):
        if self.broken:
            raise AssertionError(f"not run: {self.broken}")
        for n in names:
            v = self.volumes.get(n)
            if v is None or v.broken:
                raise AssertionError(f"not run: volume {n} " + (f"is broken: {v.broken}" if v else "was not set up"))
        return [self.volumes[n] for n in names]


class Mount:
    def __init__(self, pid, mp, log_path):
        self.pid, self.mp, self.log = pid, mp, log_path


class Volume:
    def __init__(self, ctx, name, meta, store_dir):
        self.ctx, self.name, self.meta, self.store_dir = ctx, name, meta, store_dir
        self.home = os.path.join(ctx.work, "volumes", name)
        self.mp = os.path.join(self.home, "mnt")
        self.cache = os.path.join(self.home, "runtime")
        self.baseline = {}
        self.broken = None
        self.settled = True         # False from a round's start until its baseline is resolved
        self.loop = None
        os.makedirs(self.mp, exist_ok=True)

    def format(self):
        r = self.ctx.hangar("format", self.meta, self.name, "--storage", "file://" + self.store_dir)
        if r.returncode != 0:
            raise AssertionError(f"hangar format {self.meta} failed ({r.returncode}): {r.stderr.strip()}")

    def mount(self):
        if is_mounted(self.mp):
            raise AssertionError(f"{self.mp} is still mounted before a new mount")
        r = self.ctx.hangar("mount", self.meta, self.mp, "-d", "--runtime-dir", self.cache, timeout=MOUNT_TIMEOUT,
                            what="hangar mount -d")
        m = re.search(r"runtime pid (\d+)", r.stdout)
        if m:
            self.ctx.runtimes[int(m.group(1))] = self.mp
        if r.returncode != 0 or not m:
            raise AssertionError(f"hangar mount -d {self.meta} {self.mp} failed ({r.returncode}): "
                                 f"{(r.stdout + r.stderr).strip()[-3000:]}")
        pid = int(m.group(1))
        # The pid is the runtime's own (setsid execs java): its command line names the mount point.
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except FileNotFoundError:
            raise AssertionError(f"the runtime pid {pid} that hangar mount printed is gone")
        if f"-Dhangar.mountpoint={self.mp}".encode() not in argv:
            raise AssertionError(f"pid {pid} is not the runtime of {self.mp}: {argv[:3]}")
        if is_mounted(self.mp) != "fuse.hangar":
            raise AssertionError(f"hangar mount returned but {self.mp} is not a fuse.hangar mount")
        return Mount(pid, self.mp, os.path.join(self.cache, "runtime.log"))

    def umount(self, m):
        r = self.ctx.hangar("umount", m.mp, timeout=UMOUNT_TIMEOUT, what="hangar umount")
        if r.returncode != 0:
            raise AssertionError(f"hangar umount {m.mp} failed ({r.returncode}): {(r.stdout + r.stderr).strip()}")
        if not wait_for(lambda: not pid_alive(m.pid), 30):
            stop_pid(m.pid, 10)
            raise AssertionError(f"the runtime (pid {m.pid}) did not exit after hangar umount {m.mp}")
        self.ctx.runtimes.pop(m.pid, None)
        if is_mounted(m.mp):
            raise AssertionError(f"{m.mp} is still mounted after hangar umount")

    def detach_dead(self, m):
        """fusermount3 -u -z of the mount whose runtime is dead."""
        r = run_cmd(["fusermount3", "-u", "-z", m.mp], 30, "fusermount3 -u -z")
        if r.returncode != 0 or not wait_for(lambda: not is_mounted(m.mp), 10):
            raise AssertionError(f"fusermount3 -u -z {m.mp} failed ({r.returncode}): {r.stderr.strip()}")

    def fsck(self, d, tag):
        start = time.time()
        r = self.ctx.hangar("fsck", self.meta, what="hangar fsck")
        secs = time.time() - start
        with open(os.path.join(d, f"fsck-{tag}.out"), "w") as f:
            f.write(r.stdout + r.stderr)
        leaked = [int(x) for x in re.findall(r"^leaked block: \S+ \((\d+) bytes", r.stdout, re.M)]
        summary = next((x for x in reversed(r.stdout.splitlines()) if x.startswith("fsck:")), "")
        check = re.search(r"; ([\d.]+) s$", summary)
        return {"rc": r.returncode, "blocks": len(leaked), "bytes": sum(leaked), "secs": secs,
                "check": float(check.group(1)) if check else None, "summary": summary,
                "out": (r.stdout + r.stderr).strip()}

    def gc(self, d):
        r = self.ctx.hangar("gc", self.meta, "--older-than", "0s", what="hangar gc")
        with open(os.path.join(d, "gc.out"), "w") as f:
            f.write(r.stdout + r.stderr)
        if r.returncode != 0:
            raise AssertionError(f"hangar gc failed ({r.returncode}): {(r.stdout + r.stderr).strip()[-2000:]}")
        removed = [int(x) for x in re.findall(r"^removed leaked block: \S+ \((\d+) bytes", r.stdout, re.M)]
        m = re.search(r"^deleted (\d+) blocks of (\d+) slices no file references", r.stdout, re.M)
        return {"blocks": len(removed), "bytes": sum(removed), "pending_blocks": int(m.group(1)) if m else 0,
                "pending_slices": int(m.group(2)) if m else 0,
                "summary": next((x for x in reversed(r.stdout.splitlines()) if x.startswith("gc:")), "")}

    def save_baseline(self, d):
        for path in (os.path.join(d, "baseline-after.json"), os.path.join(self.home, "baseline.json")):
            with open(path, "w") as f:
                json.dump(self.baseline, f)


def start_workload(ctx, vol, m, d, seed, mode, cap, tag):
    cfg = {"root": os.path.join(m.mp, ROOT), "journal": os.path.join(d, "journal.jsonl"),
           "baseline": os.path.join(d, "baseline-before.json"), "seed": seed, "mode": mode, "cap": cap,
           "max_secs": 120, "tag": tag}
    with open(cfg["baseline"], "w") as f:
        json.dump(vol.baseline, f)
    with open(os.path.join(d, "workload.json"), "w") as f:
        json.dump(cfg, f)
    out = open(os.path.join(d, "workload.log"), "w")
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--workload", os.path.join(d, "workload.json")],
                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    out.close()
    ctx.children.append(p)
    if not wait_for(lambda: read_journal(cfg["journal"]) or p.poll() is not None, 60):
        raise AssertionError("the workload wrote no journal record within 60 s")
    if p.poll() is not None:
        raise AssertionError(f"the workload exited at once ({p.returncode}): {tail(os.path.join(d, 'workload.log'))}")
    return p, cfg["journal"]


def tail(path, n=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


def sleep_watching(p, secs, d, what):
    """Sleeps while the workload runs; its early end is a failure (it only ends on an error)."""
    end = time.time() + secs
    while time.time() < end:
        if p.poll() is not None:
            raise AssertionError(f"the workload ended {what} (exit {p.returncode}): "
                                 f"{tail(os.path.join(d, 'workload.log'))}")
        time.sleep(0.05)


def crash(ctx, m, p):
    """SIGSTOP the workload (its journal ends here), SIGKILL the runtime, SIGKILL the workload."""
    try:
        os.kill(p.pid, signal.SIGSTOP)
    except ProcessLookupError:
        pass
    os.kill(m.pid, signal.SIGKILL)
    killed = time.time()
    try:
        os.kill(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the workload (pid {p.pid}) did not die within 60 s of SIGKILL")
    if not wait_for(lambda: not pid_alive(m.pid), 30):
        raise AssertionError(f"the runtime (pid {m.pid}) is still alive 30 s after SIGKILL")
    ctx.runtimes.pop(m.pid, None)
    return killed


class LoopStore:
    """The chunk store of the store-failure volume: a directory on a small ext4 file system of its own (a
    loop device over a sparse image), so that it can be filled (ENOSPC) without touching anyone's disk,
    and made read-only with a read-only bind mount over it (EROFS: root ignores chmod, so no chmod)."""

    def __init__(self, ctx, home):
        self.ctx = ctx
        self.image = os.path.join(home, "store.img")
        self.fs = os.path.join(home, "store-fs")
        self.dir = os.path.join(self.fs, "chunks")
        self.fillers = [os.path.join(self.fs, "filler-0"), os.path.join(self.fs, "filler-1")]
        self.keep_full = None

    def create(self, size=3 << 30):
        for tool in ("mount", "umount", "mkfs.ext4", "losetup"):
            if not shutil.which(tool):
                raise AssertionError(f"{tool} is missing (util-linux / e2fsprogs): the store-failure rounds need it")
        os.makedirs(self.fs, exist_ok=True)
        with open(self.image, "wb") as f:
            f.truncate(size)
        r = run_cmd(["mkfs.ext4", "-q", "-F", "-m", "0", self.image], 120, "mkfs.ext4")
        if r.returncode != 0:
            raise AssertionError(f"mkfs.ext4 of the store image failed: {r.stderr.strip()}")
        r = run_cmd(["mount", "-o", "loop", self.image, self.fs], 60, "mount -o loop")
        if r.returncode != 0:
            raise AssertionError(f"cannot mount the store image with a loop device (a container without loop "
                                 f"devices?): {r.stderr.strip()}")
        self.ctx.loop_mounts.append(self.fs)
        os.makedirs(self.dir, exist_ok=True)

    def probe(self):
        """None when the store directory takes a 64 KiB file, else the errno name."""
        path = os.path.join(self.dir, ".probe")
        try:
            with open(path, "wb") as f:
                f.write(b"x" * 65536)
                f.flush()
                os.fsync(f.fileno())
            os.unlink(path)
            return None
        except OSError as e:
            try:
                os.unlink(path)
            except OSError:
                pass
            return errno.errorcode.get(e.errno, str(e.errno))

    def make_readonly(self):
        for cmd in (["mount", "--bind", self.dir, self.dir], ["mount", "-o", "remount,ro,bind", self.dir]):
            # The remount is refused ("busy") while the volume has a block file open for writing on the new
            # bind mount, which the running workload often has: try again, a bounded number of times.
            for attempt in range(200):
                r = run_cmd(cmd, 30, cmd[0])
                if r.returncode == 0 or "busy" not in (r.stderr or "").lower():
                    break
                time.sleep(0.05)
            if r.returncode != 0:
                raise AssertionError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
            if cmd[1] == "--bind":
                self.ctx.store_faults.append(self.restore_readonly)
        got = self.probe()
        if got != "EROFS":
            raise AssertionError(f"the read-only bind mount over the store does not refuse writes (probe: {got})")

    def restore_readonly(self):
        for _ in range(20):
            r = run_cmd(["umount", self.dir], 30, "umount")
            if r.returncode == 0:
                break
            time.sleep(0.25)
        else:
            run_cmd(["umount", "-l", self.dir], 30, "umount -l")
        if self.restore_readonly in self.ctx.store_faults:
            self.ctx.store_faults.remove(self.restore_readonly)
        got = self.probe()
        if got is not None:
            raise AssertionError(f"the store is not writable again after the bind mount went (probe: {got})")

    def fill(self):
        """Fills the store's file system, and keeps it full: the volume's reaper deletes blocks of files the
        workload removed, and a thread takes back whatever space that frees."""
        self.ctx.store_faults.append(self.free)
        st = os.statvfs(self.fs)
        avail = st.f_bavail * st.f_frsize
        fd = os.open(self.fillers[0], os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        try:
            for spare in (4 * MiB, 64 * MiB, 256 * MiB):
                if avail <= spare:
                    break
                try:
                    os.posix_fallocate(fd, 0, avail - spare)
                    break
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
        finally:
            os.close(fd)
        fd = os.open(self.fillers[1], os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        for _ in range(20):  # the reaper may free a block between the top-up and the probe
            self.top_up(fd)
            got = self.probe()
            if got == "ENOSPC":
                break
        if got != "ENOSPC":
            os.close(fd)
            raise AssertionError(f"the store's file system still takes data after filling it (probe: {got})")
        stop = threading.Event()

        def keep():
            try:
                while not stop.wait(0.01):
                    self.top_up(fd)
            finally:
                os.close(fd)
        t = threading.Thread(target=keep, name="keep-store-full", daemon=True)
        t.start()
        self.keep_full = (stop, t)

    @staticmethod
    def top_up(fd):
        for n in (MiB, 4096):
            try:
                while True:
                    os.write(fd, bytes(n))
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise

    def free(self):
        if self.keep_full is not None:
            stop, t = self.keep_full
            stop.set()
            t.join(30)
            self.keep_full = None
        for f in self.fillers:
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass
        if self.free in self.ctx.store_faults:
            self.ctx.store_faults.remove(self.free)
        got = self.probe()
        if got is not None:
            raise AssertionError(f"the store takes no data after removing the fillers (probe: {got})")


# ---------------------------------------------------------------------------------------------------------
# The tests.

def prerequisites(ctx):
    missing = []
    if os.geteuid() != 0:
        missing.append("not root (the suite mounts FUSE as root, kills runtimes, makes loop and bind mounts)")
    if not os.path.exists("/dev/fuse") or not stat.S_ISCHR(os.stat("/dev/fuse").st_mode):
        missing.append("/dev/fuse is missing or not a character device")
    else:
        try:
            os.close(os.open("/dev/fuse", os.O_RDWR))
        except OSError as e:
            missing.append(f"/dev/fuse cannot be opened read-write: {e}")
    if not shutil.which("fusermount3"):
        missing.append("fusermount3 is missing (apt-get install -y fuse3)")
    if not shutil.which("java"):
        missing.append("java is missing from the PATH")
    if ctx.engine == "redis" and not shutil.which(os.environ.get("REDIS_SERVER", "redis-server")):
        missing.append(f"{os.environ.get('REDIS_SERVER', 'redis-server')} is missing (apt-get install -y redis-server)")
    if ctx.engine not in ("sqlite", "redis"):
        missing.append(f"unknown engine {ctx.engine!r} (sqlite or redis)")
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    jars = [j for j in glob.glob(os.path.join(top, "cli", "target", "cli-*.jar"))
            if not j.endswith(("-tests.jar", "-sources.jar"))]
    lib = os.path.join(top, "cli", "target", "lib")
    runtime = os.path.join(top, "cnf", "target", "hangar.jar")
    if not jars or not os.path.isdir(lib) or not os.path.isfile(runtime):
        missing.append("the CLI (cli/target) or the runtime jar (cnf/target/hangar.jar) is not built "
                       "(./hangar builds both on first use; or mvn -q -B install -DskipTests -pl cli,cnf -am)")
    if missing:
        ctx.broken = "prerequisites missing: " + "; ".join(missing)
        raise AssertionError(ctx.broken)
    # A private copy: the runtime of a mount reads its jar while it runs.
    dst = os.path.join(ctx.work, "cli")
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(lib, os.path.join(dst, "lib"))
    shutil.copy2(jars[0], os.path.join(dst, "cli.jar"))
    shutil.copy2(runtime, os.path.join(dst, "hangar.jar"))
    # fsck and gc run in the CLI, the mounts in the runtime: one build, or the check judges another format.
    differ = []
    with zipfile.ZipFile(os.path.join(dst, "hangar.jar")) as z:
        for entry in z.namelist():
            name = os.path.basename(entry)
            mine = os.path.join(dst, "lib", name)
            if entry.startswith("jar/") and name.endswith(".jar") and os.path.isfile(mine):
                with open(mine, "rb") as f:
                    if z.read(entry) != f.read():
                        differ.append(name)
    if differ:
        ctx.broken = (f"the runtime jar and the CLI come from different builds ({', '.join(sorted(differ))} "
                      f"differ): rebuild both, mvn -q -B install -DskipTests -pl cli,cnf -am")
        raise AssertionError(ctx.broken)
    ctx.cli = ["java", "-Dfile.encoding=UTF-8", f"-Dhangar.runtime.jar={dst}/hangar.jar", "-cp",
               f"{dst}/cli.jar:{dst}/lib/*", "io.hangar.cli.Main"]
    log(f"crash ({ctx.engine}): CLI and runtime copied to {dst}")


def free_port():
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port != 6379:
            return port


def redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(ctx):
    rdir = os.path.join(ctx.work, "redis")
    os.makedirs(rdir, exist_ok=True)
    port = free_port()
    out = open(os.path.join(rdir, "redis.log"), "w")
    p = subprocess.Popen([os.environ.get("REDIS_SERVER", "redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                          "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", rdir,
                          "--daemonize", "no", "--protected-mode", "no"],
                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    out.close()
    ctx.redis = p
    if not wait_for(lambda: redis_ping(port) or p.poll() is not None, 20, 0.25) or p.poll() is not None:
        raise AssertionError(f"redis-server on port {port} did not answer PING (exit {p.poll()}): "
                             f"{tail(os.path.join(rdir, 'redis.log'), 5)}")
    log(f"crash (redis): redis-server pid {p.pid} on 127.0.0.1:{port}, AOF appendfsync always, in {rdir}")
    return port


def meta_url(ctx, name, db):
    if ctx.engine == "sqlite":
        return f"sqlite://{ctx.work}/volumes/{name}/meta.db"
    return f"redis://127.0.0.1:{ctx.redis_port}/{db}"


def prepare_volume(ctx, vol, d):
    """Formats, mounts, makes the directories, checks that the mount has no clone op, unmounts, fsck."""
    vol.format()
    m = vol.mount()
    try:
        root = os.path.join(m.mp, ROOT)
        os.makedirs(root, exist_ok=True)
        for x in DIRS:
            os.makedirs(os.path.join(root, x), exist_ok=True)
        a, b = os.path.join(root, "clone-src"), os.path.join(root, "clone-dst")
        fusetest.write(a, b"x" * 5000)
        with open(a, "rb") as src, open(b, "wb") as dst:
            try:
                fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
                cloned = True
            except OSError as e:
                cloned = False
                how = errno.errorcode.get(e.errno, str(e.errno))
        os.unlink(a)
        os.unlink(b)
        if cloned:
            raise AssertionError("FICLONE works on the mount now: add clone operations to crash_suite's workload "
                                 "(the mount had no clone op when it was written)")
        log(f"crash ({ctx.engine}): clones are not part of the workload: FICLONE on the mount fails with {how} "
            f"(the FUSE frontend has no clone operation)")
    finally:
        vol.umount(m)
    f = vol.fsck(d, "setup")
    if f["rc"] != 0:
        raise AssertionError(f"fsck of the new volume is not clean ({f['rc']}): {f['out'][-2000:]}")
    vol.save_baseline(d)


def setup(ctx, d):
    if ctx.broken:
        raise AssertionError(f"not run: {ctx.broken}")
    try:
        if ctx.engine == "redis":
            ctx.redis_port = start_redis(ctx)
        vol = Volume(ctx, "crash", meta_url(ctx, "crash", 1), os.path.join(ctx.work, "volumes", "crash", "chunks"))
        prepare_volume(ctx, vol, d)
        ctx.volumes["crash"] = vol
        log(f"crash ({ctx.engine}): volume crash on {vol.meta}, store {vol.store_dir}")
    except BaseException as e:
        ctx.broken = f"setup failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        raise


def fmt_fsck(f):
    check = f" (check {f['check']:.1f} s)" if f["check"] is not None else ""
    return f"exit {f['rc']}, {f['blocks']} leaked blocks / {mib(f['bytes'])}, {f['secs']:.1f} s{check}"


def after_crash(ctx, vol, d, records_path, allow_fsck):
    """fsck (0 or 10), a fresh mount that must show everything acknowledged, unmount, gc, fsck (0)."""
    f1 = vol.fsck(d, "after-crash")
    problems = []
    if f1["rc"] not in allow_fsck:
        problems.append(f"fsck after the crash exited {f1['rc']} (not 0 or 10: missing or bad blocks, or broken "
                        f"metadata):\n{f1['out'][-4000:]}")
    rp = Replay(vol.baseline, read_journal(records_path))
    if rp.bads:
        problems.append("the workload's own checks failed: " + "; ".join(b["what"] for b in rp.bads))
    m = vol.mount()
    try:
        try:
            resolved, notes, checked = verify(os.path.join(m.mp, ROOT), rp)
        except AssertionError as e:
            problems.append(str(e))
            resolved, notes, checked = None, [], 0
    finally:
        vol.umount(m)
    g = vol.gc(d)
    f2 = vol.fsck(d, "after-gc")
    if f2["rc"] != 0:
        problems.append(f"fsck after gc --older-than 0s exited {f2['rc']} (not clean):\n{f2['out'][-4000:]}")
    if problems:
        raise AssertionError("\n".join(problems))
    vol.baseline = resolved
    vol.settled = True
    vol.save_baseline(d)
    return rp, f1, g, f2, notes, checked


def round_line(ctx, name, seed, extra, rp, f1, g, f2, notes, checked):
    line = (f"{ctx.engine} {name}: seed {seed}, {extra}, {rp.acks} ops acknowledged, {checked} paths verified; "
            f"fsck after the crash: {fmt_fsck(f1)}; gc removed {g['blocks']} leaked blocks / {mib(g['bytes'])} and "
            f"{g['pending_blocks']} blocks of {g['pending_slices']} unreferenced slices; fsck after gc: {fmt_fsck(f2)}")
    log(line)
    for n in notes:
        log(f"    {n}")
    ctx.rounds.append(line)


def kill_round(ctx, vol, idx, d):
    seed = ctx.seed * 100 + idx
    rng = random.Random(f"round/{seed}")
    kill_at = round(rng.uniform(1.5, 9.0), 2)
    log(f"crash ({ctx.engine}) kill round {idx}: seed {seed}, SIGKILL of the runtime {kill_at} s into the workload")
    m = vol.mount()
    p, journal = start_workload(ctx, vol, m, d, seed, "kill", 640 * MiB, f"k{idx}")
    sleep_watching(p, kill_at, d, "before the kill")
    crash(ctx, m, p)
    vol.detach_dead(m)
    rp, f1, g, f2, notes, checked = after_crash(ctx, vol, d, journal, (0, 10))
    round_line(ctx, f"kill round {idx}", seed, f"killed at {kill_at} s (pending: "
               f"{describe_op(rp.pending[1]) if rp.pending else 'none'})", rp, f1, g, f2, notes, checked)


def store_setup(ctx, d):
    if ctx.broken:
        raise AssertionError(f"not run: {ctx.broken}")
    home = os.path.join(ctx.work, "volumes", "crash-store")
    os.makedirs(home, exist_ok=True)
    store = LoopStore(ctx, home)
    store.create()
    vol = Volume(ctx, "crash-store", meta_url(ctx, "crash-store", 2), store.dir)
    vol.loop = store
    prepare_volume(ctx, vol, d)
    ctx.volumes["crash-store"] = vol
    log(f"crash ({ctx.engine}): volume crash-store on {vol.meta}, store {store.dir} on a 3 GiB ext4 loop file system")


def store_round(ctx, vol, kind, idx, d):
    store = vol.loop
    seed = ctx.seed * 100 + 50 + idx
    rng = random.Random(f"round/{seed}")
    t_fault = round(rng.uniform(1.5, 3.5), 2)
    window = round(rng.uniform(3.0, 6.0), 2)
    after = round(rng.uniform(1, 3), 2)
    fault = "full" if kind.startswith("full") else "readonly"
    log(f"crash ({ctx.engine}) store round {kind}: seed {seed}, store {fault} {t_fault} s into the write stream "
        f"for {window} s" + (", SIGKILL while it fails" if kind.endswith("kill") else
                             f", then restored; SIGKILL {after} s after the volume works again"))
    m = vol.mount()
    p, journal = start_workload(ctx, vol, m, d, seed, "store", 400 * MiB, f"s{idx}")
    sleep_watching(p, t_fault, d, "before the store failed")
    (store.fill if fault == "full" else store.make_readonly)()
    t0 = time.time()
    sleep_watching(p, window, d, "while the store failed (it stops only when the mount is gone)")
    recovered = None
    if kind.endswith("kill"):
        crash(ctx, m, p)
        t1 = time.time()
        (store.free if fault == "full" else store.restore_readonly)()
    else:
        (store.free if fault == "full" else store.restore_readonly)()
        t1 = time.time()

        def data_acked_after():
            recs = read_journal(journal)
            ops = {r["n"]: r["op"] for r in recs if r["t"] == "begin"}
            return any(r["t"] == "ack" and r["ts"] > t1 and ops[r["n"]]["kind"] in DATA_OPS for r in recs)
        if not wait_for(lambda: data_acked_after() or p.poll() is not None, 60, 0.1) or p.poll() is not None:
            state = f"exited {p.returncode}" if p.poll() is not None else "still waiting"
            crash(ctx, m, p)
            raise AssertionError(f"no data operation was acknowledged within 60 s after the store was restored "
                                 f"(workload {state})")
        recovered = time.time() - t1
        sleep_watching(p, after, d, "after the store was restored")
        crash(ctx, m, p)
    vol.detach_dead(m)
    # What the writer saw while the store failed.
    recs = read_journal(journal)
    ops = {r["n"]: r["op"] for r in recs if r["t"] == "begin"}
    fails = [r for r in recs if r["t"] == "fail"]
    acks_in = [r for r in recs if r["t"] == "ack" and t0 <= r["ts"] <= t1]
    bad = []
    for r in fails:
        op = ops.get(r["n"]) if r["n"] is not None else None
        what = f"#{r['n']} {describe_op(op)}: {r['err']} ({r['msg']})"
        if fault == "readonly":
            bad.append(f"{what}: a read-only store is a transient failure: I/O waits (storeWaitMs, 300 s) and "
                       f"retries, so nothing may fail in a round where the store is read-only for {window} s")
        elif op is None or op["kind"] not in DATA_OPS or r["errno"] not in (errno.ENOSPC, errno.EIO):
            bad.append(f"{what}: with a full store only data operations may fail, with ENOSPC or EIO")
    if fault == "full" and not fails:
        bad.append(f"no operation failed while the store was full for {window} s ({len(acks_in)} acknowledged "
                   f"meanwhile): a full chunk store must fail writes with ENOSPC (StoreException FULL -> "
                   f"ENOSPC, docs/architecture.md, docs/cli.md), not make them wait as for a transient failure")
    errnos = collections.Counter(r["err"] for r in fails)
    seen = (f"{len(acks_in)} ops acknowledged and {len(fails)} failed "
            f"({', '.join(f'{k} x{v}' for k, v in sorted(errnos.items())) or 'none'}) while the store was {fault}")
    pending = Replay(vol.baseline, recs).pending
    if pending:
        seen += f"; in flight at the kill: #{pending[0]} {describe_op(pending[1])}"
    log(f"    {seen}" + (f"; the first data op was acknowledged {recovered:.1f} s after the restore"
                         if recovered is not None else ""))
    try:
        rp, f1, g, f2, notes, checked = after_crash(ctx, vol, d, journal, (0, 10))
    except AssertionError as e:
        if bad:
            raise AssertionError("\n".join(bad) + "\n" + str(e))
        raise
    round_line(ctx, f"store {kind}", seed, seen, rp, f1, g, f2, notes, checked)
    if bad:
        raise AssertionError("\n".join(bad))


def final_check(ctx, d):
    """Every volume once more on a fresh mount after the last gc: gc removed nothing anything needed."""
    if ctx.broken:
        raise AssertionError(f"not run: {ctx.broken}")
    if not ctx.volumes:
        raise AssertionError("no volume was set up")
    broken = [f"{v.name}: {v.broken}" for v in ctx.volumes.values() if v.broken]
    for vol in ctx.volumes.values():
        if vol.broken:
            continue
        m = vol.mount()
        try:
            _, _, checked = verify(os.path.join(m.mp, ROOT), Replay(vol.baseline, []))
        finally:
            vol.umount(m)
        f = vol.fsck(d, vol.name)
        if f["rc"] != 0:
            raise AssertionError(f"fsck of {vol.name} at the end exited {f['rc']}: {f['out'][-3000:]}")
        log(f"crash ({ctx.engine}): {vol.name} after the last gc: {checked} paths read back as acknowledged, "
            f"fsck {fmt_fsck(f)}")
    if broken:
        raise AssertionError("not checked (an earlier round failed): " + "; ".join(broken))


def cleanup_round(ctx, vol):
    """After a failed round: its workload and its runtimes go, the store comes back, the mount is detached."""
    for p in ctx.children:
        if p is not ctx.redis and p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
    for fix in list(reversed(ctx.store_faults)):
        try:
            fix()
        except BaseException as e:  # noqa: B902 - cleanup goes on
            log(f"crash ({ctx.engine}): restoring the store after a failed round: {e}")
    for pid, mp in list(ctx.runtimes.items()):
        if mp == vol.mp:
            stop_pid(pid, 20)
            ctx.runtimes.pop(pid, None)
    if is_mounted(vol.mp):
        run_cmd(["fusermount3", "-u", "-z", vol.mp], 30, "fusermount3 -u -z")


def on_volume(ctx, name, body):
    """A round on a volume: not run when the volume is broken; a round that fails before the volume's state
    is known again (verified after the crash) breaks the volume for the rounds after it."""
    def fn(d):
        vol, = ctx.need(name)
        vol.settled = False
        try:
            body(vol, d)
        except BaseException:
            if not vol.settled:
                vol.broken = "an earlier round failed on it"
            cleanup_round(ctx, vol)
            raise
    return fn


def teardown(ctx, quiet=False):
    """Stops everything the suite started, by pid; returns what needed force."""
    problems = []
    for p in ctx.children:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                problems.append(f"workload pid {p.pid} did not die")
    ctx.children = [c for c in ctx.children if c.poll() is None]
    for fix in list(reversed(ctx.store_faults)):
        try:
            fix()
        except BaseException as e:  # noqa: B902 - cleanup goes on
            problems.append(f"restoring the store: {e}")
    for pid, mp in list(ctx.runtimes.items()):
        if is_mounted(mp):
            run_cmd(["fusermount3", "-u", mp], 60, "fusermount3 -u")
            if is_mounted(mp):
                run_cmd(["fusermount3", "-u", "-z", mp], 30, "fusermount3 -u -z")
        if not wait_for(lambda: not pid_alive(pid), 30) and not stop_pid(pid, 20):
            problems.append(f"runtime pid {pid} ({mp}) needed SIGKILL")
        ctx.runtimes.pop(pid, None)
    for vol in ctx.volumes.values():
        if is_mounted(vol.mp):
            run_cmd(["fusermount3", "-u", "-z", vol.mp], 30, "fusermount3 -u -z")
    for fs in reversed(ctx.loop_mounts):
        r = run_cmd(["umount", fs], 60, "umount")
        if r.returncode != 0:
            run_cmd(["umount", "-l", fs], 30, "umount -l")
    ctx.loop_mounts = []
    if ctx.redis is not None and ctx.redis.poll() is None:
        ctx.redis.terminate()
        try:
            ctx.redis.wait(timeout=20)
        except subprocess.TimeoutExpired:
            ctx.redis.kill()
            ctx.redis.wait(timeout=10)
            problems.append("redis-server needed SIGKILL")
    ctx.redis = None
    return problems


def named(name, fn):
    fn.__name__ = name
    return fn


def main(argv):
    if len(argv) >= 3 and argv[1] == "--workload":
        workload_main(argv[2])
        return
    if len(argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    engine, work = argv[1], os.path.abspath(argv[2])
    report = argv[3] if len(argv) > 3 else None
    os.environ.setdefault("HANGAR_FUSE_ENGINE", engine)
    os.environ["LC_ALL"] = "C.UTF-8"   # the runtime must run with UTF-8 names
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    seed = int(os.environ.get("HANGAR_CRASH_SEED") or random.SystemRandom().randrange(1, 10 ** 6))
    rounds = int(os.environ.get("HANGAR_CRASH_ROUNDS", "4"))
    store_kinds = os.environ.get("HANGAR_CRASH_STORE_ROUNDS", "readonly-kill readonly-recover full-recover").split()
    for k in store_kinds:
        if k not in ("readonly-kill", "readonly-recover", "full-kill", "full-recover"):
            print(f"unknown store round {k!r}", file=sys.stderr)
            sys.exit(2)
    ctx = Ctx(engine, work, seed)
    log(f"crash ({engine}): seed {seed} (HANGAR_CRASH_SEED={seed} repeats every choice; what the workload has done "
        f"at a kill still depends on timing), {rounds} kill rounds, store rounds: {' '.join(store_kinds) or 'none'}; "
        f"work folder {work}")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    def check_prerequisites(d):
        try:
            prerequisites(ctx)
        except BaseException as e:
            ctx.broken = ctx.broken or f"prerequisites: {e}"
            raise
    tests = [named("prerequisites", check_prerequisites), named("setup", lambda d: setup(ctx, d))]
    for i in range(1, rounds + 1):
        tests.append(named(f"kill_round_{i}", on_volume(ctx, "crash", lambda vol, d, i=i: kill_round(ctx, vol, i, d))))
    if store_kinds:
        tests.append(named("store_setup", lambda d: store_setup(ctx, d)))
    for i, k in enumerate(store_kinds, 1):
        tests.append(named(f"store_{k.replace('-', '_')}",
                           on_volume(ctx, "crash-store", lambda vol, d, i=i, k=k: store_round(ctx, vol, k, i, d))))
    tests.append(named("final_check", lambda d: final_check(ctx, d)))

    def stop_all(d):
        problems = teardown(ctx)
        if problems:
            raise AssertionError("; ".join(problems))
    tests.append(named("teardown", stop_all))
    failures = 1
    try:
        os.makedirs(os.path.join(work, "rounds"), exist_ok=True)
        failures = fusetest.run("crash", os.path.join(work, "rounds"), tests, report)
    finally:
        for p in teardown(ctx):
            log(f"crash ({engine}): cleanup: {p}")
    log(f"crash ({engine}): summary (seed {seed}):")
    for line in ctx.rounds:
        log(f"  {line}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except KeyboardInterrupt as e:
        print(f"crash: interrupted ({e})", file=sys.stderr, flush=True)
        sys.exit(143)
