#!/usr/bin/python3
"""A cache group of three processes on one machine: three `hangar mount -d` runtimes of one volume on Redis
and the Ceph test cluster (a RADOS namespace of its own), each with its own disk cache directory, joined to
one group (`--cache-group`). Writes TEST-cache-group.xml to REPORTS (rewritten after every case).

    group_suite.py WORKDIR REPORTS

Object-store traffic is read from each runtime's /metrics (hangar_object_request_data_bytes_total, GET), as
the difference of two scrapes around each step.

- all three cold-read the same 1 GiB model at once: the right bytes everywhere, and the object store serves
  each block once (GET bytes of the three together = the model's size);
- a member's cache files are damaged while it is down: after its restart it reads the model right, finds
  each damaged file, and the store serves exactly those blocks again;
- `hangar warmup` on one member loads a model into the group, each block once into its owner; a cold read on
  another member then costs the store nothing; so does `hangar warmup --background`, which returns at once;
- one member is killed (SIGKILL) while two others read: both reads complete with the right bytes.
"""
import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import junit_cases  # noqa: E402
import services  # noqa: E402

WORK, REPORTS = sys.argv[1:3]
SUITE = "cache-group"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HANGAR = os.path.join(TOP, "hangar")
CASES = junit_cases.Cases(os.path.join(REPORTS, "TEST-%s.xml" % SUITE), SUITE)
MiB = 1 << 20
BLOCK = 4 * MiB
S = {"members": {}}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)')


free_port = services.free_port


def hangar(*args, timeout=600):
    p = subprocess.run([HANGAR] + list(args), capture_output=True, text=True, timeout=timeout)
    return p


def metric(member, name, **labels):
    """The sum of the samples of name (with labels) in member's /metrics."""
    with urllib.request.urlopen(S["members"][member]["metrics"], timeout=10) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(m.group(4))
    return total


def store_get_bytes(names):
    return sum(metric(n, "hangar_object_request_data_bytes_total", method="GET") for n in names)


def write_model(path, size, seed):
    """Random bytes (a stream seeded per file); returns the SHA-256."""
    h = hashlib.sha256()
    rnd = __import__("random").Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 8 * MiB)
            b = rnd.randbytes(n)
            f.write(b)
            h.update(b)
            left -= n
        f.flush()
        os.fsync(f.fileno())
    return h.hexdigest()


def sha256_of(path, progress=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(4 * MiB)
            if not b:
                break
            h.update(b)
            if progress is not None:
                progress[0] += len(b)
    return h.hexdigest()


def mount_member(name):
    m = S["members"].setdefault(name, {})
    m.setdefault("mnt", os.path.join(WORK, "mnt-" + name))
    m.setdefault("cache", os.path.join(WORK, "cache-" + name))
    m.setdefault("peer", "127.0.0.1:%d" % free_port())
    mport = free_port()
    m["metrics"] = "http://127.0.0.1:%d/metrics" % mport
    p = hangar("mount", S["meta"], m["mnt"], "--runtime-dir", os.path.join(WORK, "home-" + name),
               "--cache-dir", m["cache"], "--disk-cache-size", "4G", "--free-space-ratio", "0",
               "--cache-group", "models", "--group-address", m["peer"], "--metrics", "127.0.0.1:%d" % mport, "-d")
    assert p.returncode == 0, "mount %s: %s %s" % (name, p.stdout, p.stderr)
    m["pid"] = int(p.stdout.split("runtime pid ")[1].split(")")[0].split(",")[0])


def unmount_member(name):
    m = S["members"][name]
    if os.path.ismount(m["mnt"]):
        p = hangar("umount", m["mnt"], timeout=180)
        assert p.returncode == 0, "umount %s: %s %s" % (name, p.stdout, p.stderr)


def wait_for_members(names, count):
    deadline = time.time() + 60
    while True:
        seen = {n: metric(n, "hangar_cachegroup_members") for n in names}
        if all(v == count for v in seen.values()):
            return
        if time.time() > deadline:
            raise AssertionError("the members did not see %d members within 60 s: %s" % (count, seen))
        time.sleep(0.2)


def read_all(names, fname):
    """Reads fname through each member's mount at once; returns {member: sha256}."""
    out, errors = {}, []

    def one(n):
        try:
            out[n] = sha256_of(os.path.join(S["members"][n]["mnt"], fname))
        except Exception as e:  # noqa: BLE001
            errors.append("%s: %r" % (n, e))
    threads = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return out


# ---- set-up ----

def start_group():
    if os.geteuid() != 0:
        raise AssertionError("run as root: the members mount FUSE")
    if not os.path.exists("/dev/fuse"):
        raise AssertionError("/dev/fuse is missing")
    S["ceph"] = c = services.ceph_env()
    S["redis"], port = services.start_redis(os.path.join(WORK, "redis"))
    S["meta"] = "redis://127.0.0.1:%d/1" % port
    S["namespace"] = "group-%d-%d" % (os.getpid(), int(time.time()))
    store = "rados://%s/%s?conf=%s&user=%s" % (c["RADOS_POOL"], S["namespace"], c["CEPH_CONF"], c["CEPH_USER"])
    p = hangar("format", S["meta"], "models", "--storage", store)
    assert p.returncode == 0, "format: %s %s" % (p.stdout, p.stderr)
    # The models are written through a mount of their own, outside the group, which then goes.
    w = os.path.join(WORK, "mnt-writer")
    p = hangar("mount", S["meta"], w, "--runtime-dir", os.path.join(WORK, "home-writer"), "--metrics", "off", "-d")
    assert p.returncode == 0, "writer mount: %s %s" % (p.stdout, p.stderr)
    S["sha"] = {"model.bin": write_model(os.path.join(w, "model.bin"), 1024 * MiB, 1),
                "warm.bin": write_model(os.path.join(w, "warm.bin"), 256 * MiB, 2),
                "kill.bin": write_model(os.path.join(w, "kill.bin"), 512 * MiB, 3),
                "background.bin": write_model(os.path.join(w, "background.bin"), 128 * MiB, 4),
                "probe.bin": write_model(os.path.join(w, "probe.bin"), 16 * MiB, 5)}
    p = hangar("umount", w, timeout=180)
    assert p.returncode == 0, "umount writer: %s %s" % (p.stdout, p.stderr)
    for n in ("a", "b", "c"):
        mount_member(n)
    wait_for_members(["a", "b", "c"], 3)


# ---- cases ----

def group_counts(names):
    """What each member counted, for a failure's message."""
    keys = ["hangar_cachegroup_peer_hits_total", "hangar_cachegroup_peer_failures_total",
            "hangar_cachegroup_served_total", "hangar_diskcache_hits_total", "hangar_diskcache_corrupt_total",
            "hangar_blockcache_miss_total"]
    return {n: {k.replace("hangar_", ""): metric(n, k) for k in keys} for n in names}


def three_members_reading_one_model_at_once_get_each_block_from_the_store_once():
    names = ["a", "b", "c"]
    before = store_get_bytes(names)
    shas = read_all(names, "model.bin")
    for n, h in shas.items():
        assert h == S["sha"]["model.bin"], "member %s read other bytes" % n
    fetched = store_get_bytes(names) - before
    assert fetched == 1024 * MiB, "the store served %d bytes for a 1 GiB model (each block once: %d); %s" % (
        fetched, 1024 * MiB, group_counts(names))
    for n in names:
        assert metric(n, "hangar_cachegroup_peer_hits_total") > 0, "member %s got blocks from their owners" % n
        assert metric(n, "hangar_cachegroup_served_total") > 0, "member %s served the blocks it owns" % n


def a_damaged_cache_file_is_detected_and_read_from_the_store_again():
    unmount_member("a")
    flipped = 0
    for root, _, files in os.walk(S["members"]["a"]["cache"]):
        if "/chunks/" not in root + "/":
            continue
        for f in files:
            with open(os.path.join(root, f), "r+b") as fh:
                fh.seek(12345)
                b = fh.read(1)
                fh.seek(12345)
                fh.write(bytes([b[0] ^ 0x10]))
            flipped += 1
    assert flipped > 0, "member a's disk cache held the blocks it owns"
    mount_member("a")
    wait_for_members(["a", "b", "c"], 3)
    names = ["a", "b", "c"]
    before = store_get_bytes(names)
    assert read_all(["a"], "model.bin")["a"] == S["sha"]["model.bin"], "the damaged copies were served"
    assert metric("a", "hangar_diskcache_corrupt_total") == flipped, "each of %d damaged files found: %s" % (
        flipped, group_counts(names))
    fetched = store_get_bytes(names) - before
    assert fetched == flipped * BLOCK, "the store served %d bytes; the %d damaged blocks are %d" % (
        fetched, flipped, flipped * BLOCK)


def a_warm_up_loads_each_block_once_into_its_owner():
    names = ["a", "b", "c"]
    before = store_get_bytes(names)
    p = hangar("warmup", os.path.join(S["members"]["a"]["mnt"], "warm.bin"))
    assert p.returncode == 0, "warmup: %s %s" % (p.stdout, p.stderr)
    fetched = store_get_bytes(names) - before
    assert fetched == 256 * MiB, "the warm-up read %d bytes from the store for a 256 MiB file" % fetched
    assert metric("a", "hangar_cachegroup_warmed_at_owners_total") > 0, "a had the owners load their blocks"
    assert metric("b", "hangar_object_request_data_bytes_total", method="GET") > 0
    p = hangar("warmup", "--check", os.path.join(S["members"]["a"]["mnt"], "warm.bin"))
    assert p.returncode == 0 and re.search(r"cache group [^(]*\(100\.0%", p.stdout), \
        "warmup --check finds the whole file in the group: %s %s" % (p.stdout, p.stderr)
    before = store_get_bytes(names)
    assert read_all(["c"], "warm.bin")["c"] == S["sha"]["warm.bin"]
    assert store_get_bytes(names) - before == 0, "a cold read after the warm-up cost the store nothing"


def a_background_warm_up_returns_at_once_and_loads_the_group():
    names = ["a", "b", "c"]
    before = store_get_bytes(names)
    p = hangar("warmup", "--background", os.path.join(S["members"]["b"]["mnt"], "background.bin"))
    assert p.returncode == 0, "warmup --background: %s %s" % (p.stdout, p.stderr)
    assert "queued 1 of 1 files" in p.stdout, p.stdout
    deadline = time.time() + 120
    while store_get_bytes(names) - before < 128 * MiB and time.time() < deadline:
        time.sleep(0.2)
    assert store_get_bytes(names) - before == 128 * MiB, "the background warm-up read each block once"
    before = store_get_bytes(names)
    assert read_all(["a"], "background.bin")["a"] == S["sha"]["background.bin"]
    assert store_get_bytes(names) - before == 0, "a cold read after the background warm-up cost the store nothing"
    p = hangar("warmup", "--background", "--check", os.path.join(S["members"]["b"]["mnt"], "background.bin"))
    assert p.returncode == 2 and "--background warms" in p.stderr, (p.returncode, p.stderr)


def a_size_probe_of_the_cache_control_does_not_warm():
    """getfattr asks for an attribute's size first (getxattr with size 0), then reads it: only the read acts."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
    libc.getxattr.restype = ctypes.c_ssize_t
    path = os.path.join(S["members"]["a"]["mnt"], "probe.bin").encode()
    names = ["a", "b", "c"]
    before = store_get_bytes(names)
    size = libc.getxattr(path, b"hangar.cache.warm", None, 0)
    assert size > 0, "the size probe failed: errno %d" % ctypes.get_errno()
    assert store_get_bytes(names) - before == 0, "the size probe warmed the file"
    buf = ctypes.create_string_buffer(size)
    n = libc.getxattr(path, b"hangar.cache.warm", buf, size)
    assert n > 0, "the read failed: errno %d" % ctypes.get_errno()
    answer = buf.raw[:n].decode()
    assert "fetched=%d" % (16 * MiB) in answer, answer
    assert store_get_bytes(names) - before == 16 * MiB, "the read warmed the file once"


def killing_a_member_mid_read_leaves_the_others_reads_right():
    progress = {"a": [0], "b": [0]}
    out, errors = {}, []

    def one(n):
        try:
            out[n] = sha256_of(os.path.join(S["members"][n]["mnt"], "kill.bin"), progress[n])
        except Exception as e:  # noqa: BLE001
            errors.append("%s: %r" % (n, e))
    threads = [threading.Thread(target=one, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    deadline = time.time() + 120
    while min(progress["a"][0], progress["b"][0]) < 64 * MiB and time.time() < deadline:
        time.sleep(0.01)
    os.kill(S["members"]["c"]["pid"], signal.SIGKILL)
    for t in threads:
        t.join(600)
    subprocess.run(["fusermount3", "-uz", S["members"]["c"]["mnt"]], capture_output=True)
    assert not errors, errors
    for n in ("a", "b"):
        assert out.get(n) == S["sha"]["kill.bin"], "member %s read other bytes after c was killed" % n
    failures = metric("a", "hangar_cachegroup_peer_failures_total") + metric("b", "hangar_cachegroup_peer_failures_total")
    assert failures > 0, "the readers asked the killed member (and fell back to the store)"


def main():
    os.makedirs(REPORTS, exist_ok=True)
    try:
        if CASES.run(start_group):
            for c in (three_members_reading_one_model_at_once_get_each_block_from_the_store_once,
                      a_damaged_cache_file_is_detected_and_read_from_the_store_again,
                      a_warm_up_loads_each_block_once_into_its_owner,
                      a_background_warm_up_returns_at_once_and_loads_the_group,
                      a_size_probe_of_the_cache_control_does_not_warm,
                      killing_a_member_mid_read_leaves_the_others_reads_right):
                CASES.run(c)
    finally:
        for n, m in S["members"].items():
            if os.path.ismount(m["mnt"]):
                subprocess.run([HANGAR, "umount", m["mnt"]], capture_output=True, timeout=180)
            if os.path.ismount(m["mnt"]):
                subprocess.run(["fusermount3", "-uz", m["mnt"]], capture_output=True)
        if S.get("redis"):
            S["redis"].terminate()
            S["redis"].wait(60)
        if S.get("namespace"):
            c = S["ceph"]
            base = ["rados", "-c", c["CEPH_CONF"], "--id", c["CEPH_USER"], "-p", c["RADOS_POOL"], "-N", S["namespace"]]
            p = subprocess.run(base + ["ls"], capture_output=True, text=True, timeout=300)
            for name in p.stdout.split():
                subprocess.run(base + ["rm", name], capture_output=True, timeout=60)
    failed = CASES.failed()
    print("%s: %d passed, %d failed" % (SUITE, len(CASES.done) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
