#!/usr/bin/python3
"""Sync between two sites on one machine: site A and site B, each its own Redis server and its own Ceph pool
of the run's test cluster (HANGAR_CEPH_ENV). A's repository is served by `hangar gateway` (the push client
talks to it); B runs `hangar gateway` too, whose runtime hosts the sync plugin, configured by files dropped
into its etc/ while it runs (Configuration Admin through FileInstall), and a `hangar mount` in cache group
`models-b` that owns the group's blocks. Writes TEST-sync.xml to REPORTS (rewritten after every case).

    sync_suite.py WORKDIR REPORTS

- a tag-driven strategy configured at B: a 20-file model pushed at A and tagged `sync-b` appears at B
  byte-exact (read through B's mount, another process), with its manifest and tags, frozen, and warm in B's
  cache group;
- a new version with one changed file, tagged `sync-b`: only that file's blocks reach B's pool;
- a snapshot tagged `sync-b`: no block reaches B's pool;
- `hangar sync` killed (SIGKILL) part-way through a 192 MiB model and run again: it completes byte-exact,
  copying only the blocks the first run had not stored, and fsck finds B consistent;
- a periodic strategy dropped into etc/ syncs a tree every 2 s; removing its file stops it;
- a file changed at both ends is a conflict: exit 13, reported, B's bytes kept.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import junit_cases  # noqa: E402
import services  # noqa: E402

WORK, REPORTS = sys.argv[1:3]
SUITE = "sync"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HANGAR = os.path.join(TOP, "hangar")
CASES = junit_cases.Cases(os.path.join(REPORTS, "TEST-%s.xml" % SUITE), SUITE)
MiB = 1 << 20
POOL_B = "hangar-sync-b"
S = {"procs": []}


def hangar(*args, timeout=600, env=None):
    return subprocess.run([HANGAR] + list(args), capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def ok(*args, **kw):
    p = hangar(*args, **kw)
    assert p.returncode == 0, "hangar %s: exit %d\n%s\n%s" % (" ".join(args), p.returncode, p.stdout, p.stderr)
    return p


def repo_cli(site, *args):
    return ok(*args, env={"HANGAR_SERVER": S[site]["server"], "HANGAR_TOKEN": S[site]["admin"]})


def api(site, path):
    req = urllib.request.Request(S[site]["server"] + "/api/v1" + path)
    req.add_header("Authorization", "Bearer " + S[site]["admin"])
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def rados(site, *args):
    c = S["ceph"]
    base = ["rados", "-c", c["CEPH_CONF"], "--id", c["CEPH_USER"], "-p", S[site]["pool"], "-N", S[site]["ns"]]
    return subprocess.run(base + list(args), capture_output=True, text=True, timeout=300)


def block_keys(site):
    p = rados(site, "ls")
    assert p.returncode == 0, "rados ls: %s" % p.stderr
    return {line for line in p.stdout.splitlines() if "/chunks/" in line}


def block_objects(site):
    return len(block_keys(site))


def object_bytes(site, keys):
    total = 0
    for k in keys:
        p = rados(site, "stat", k)
        assert p.returncode == 0, "rados stat %s: %s" % (k, p.stderr)
        total += int(p.stdout.split(" size ")[1].split()[0])
    return total


def write_tree(root, files, size, seed):
    os.makedirs(root, exist_ok=True)
    rnd = random.Random(seed)
    for i in range(files):
        with open(os.path.join(root, "shard-%02d.bin" % i), "wb") as f:
            f.write(rnd.randbytes(size))


sha256_of = services.file_digest
tree_sums = services.tree_digests


def wait_for(what, check, timeout=120):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            got = check()
            if got:
                return got
        except Exception as e:  # noqa: BLE001 - reported if it never succeeds
            last = e
        time.sleep(0.25)
    raise AssertionError("%s: not within %d s (last: %s)" % (what, timeout, last))


def status_of(name_prefix):
    p = ok("sync", "status", S["b"]["meta"], "--json")
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            st = json.loads(line)
            if st["name"].startswith(name_prefix):
                return st
    return None


def drop_config(name, lines):
    path = os.path.join(S["b"]["gw"], "etc", name)
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(path + ".tmp", path)
    return path


# ---- the cases ----

def start_sites():
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        raise AssertionError("run as root with /dev/fuse: site B's cache group is a FUSE mount")
    S["ceph"] = c = services.ceph_env()
    p = subprocess.run(["ceph", "-c", c["CEPH_CONF"], "--id", c["CEPH_USER"], "osd", "pool", "create", POOL_B,
                        "8", "8"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "pool %s: %s" % (POOL_B, p.stderr)
    subprocess.run(["ceph", "-c", c["CEPH_CONF"], "--id", c["CEPH_USER"], "osd", "pool", "application", "enable",
                    POOL_B, "rados"], capture_output=True, text=True, timeout=120)
    tag = "%d-%d" % (os.getpid(), int(time.time()))
    for site, pool in (("a", c["RADOS_POOL"]), ("b", POOL_B)):
        proc, port = services.start_redis(os.path.join(WORK, "redis-" + site), appendonly=True)
        S["procs"].append(proc)
        s = S[site] = {"meta": "redis://127.0.0.1:%d/1" % port, "pool": pool, "ns": "sync-%s-%s" % (site, tag)}
        store = "rados://%s/%s?conf=%s&user=%s" % (pool, s["ns"], c["CEPH_CONF"], c["CEPH_USER"])
        ok("format", s["meta"], "site-" + site, "--storage", store)
        s["gw"] = os.path.join(WORK, "gw-" + site)
        listen = "127.0.0.1:%d" % services.free_port()
        g = ok("gateway", s["meta"], "--listen", listen, "--runtime-dir", s["gw"], "--metrics", "off", "-d")
        s["pid"] = int(g.stdout.split("runtime pid ")[1].split(",")[0].split(")")[0])
        s["server"] = "http://" + listen
        token = os.path.join(s["gw"], "etc", "api-token")
        wait_for("the admin token of site " + site, lambda: os.path.exists(token), 60)
        s["admin"] = open(token).read().strip()
    S["b"]["mnt"] = os.path.join(WORK, "mnt-b")
    ok("mount", S["b"]["meta"], S["b"]["mnt"], "--runtime-dir", os.path.join(WORK, "home-mnt-b"), "--metrics", "off",
       "--cache-dir", os.path.join(WORK, "cache-b"), "--free-space-ratio", "0", "--cache-group", "models-b",
       "--group-address", "127.0.0.1:%d" % services.free_port(), "-d")
    repo_cli("a", "team", "create", "vision")


def a_tagged_model_appears_at_b_byte_exact_with_its_manifest_and_tags_and_warm():
    drop_config("io.hangar.sync.tags-b.cfg", [
        "sync.source = " + S["a"]["meta"], "sync.destination = " + S["b"]["meta"], "selector = sync-b",
        "sync.warm.group = models-b", "sync.threads = 8"])
    src = os.path.join(WORK, "llama")
    write_tree(src, 20, 5 * MiB + 4097, 1)
    S["llama"] = tree_sums(src)
    repo_cli("a", "model", "push", src, "vision/llama:sync-b")
    v = wait_for("version 1 at B", lambda: (lambda r: r[0] == 200 and r[1])(
        api("b", "/teams/vision/models/llama/versions/1")), 180)
    assert v["state"] == "submitted", v
    man_a = api("a", "/teams/vision/models/llama/versions/1/manifest")[1]
    man_b = api("b", "/teams/vision/models/llama/versions/1/manifest")[1]
    assert {f["path"]: f["md5"] for f in man_a["files"]} == {f["path"]: f["md5"] for f in man_b["files"]}, \
        (man_a, man_b)
    tags_b = api("b", "/teams/vision/models/llama/tags")
    assert tags_b[0] == 200 and "sync-b" in json.dumps(tags_b[1]), tags_b
    got = tree_sums(os.path.join(S["b"]["mnt"], "vision", "llama", "v1"))
    assert got == S["llama"], "bytes at B differ"
    # Warm: the runner warms after the sync; wait for the group to hold all of it.
    check = lambda: "cache group" in (o := ok("warmup", "--check", os.path.join(S["b"]["mnt"], "vision", "llama",
                                                                              "v1")).stdout) and "(100.0%" in o.split("cache group")[1]
    wait_for("v1 warm in B's cache group", check, 120)


def released_versions_stay_immutable_at_b():
    path = os.path.join(S["b"]["mnt"], "vision", "llama", "v1", "shard-00.bin")
    try:
        with open(path, "r+b") as f:
            f.write(b"x")
        raise AssertionError("a synced, submitted version was writable at B")
    except PermissionError:
        pass
    try:
        open(os.path.join(S["b"]["mnt"], "vision", "llama", "v1", "new.bin"), "wb").close()
        raise AssertionError("a file could be made in a synced, submitted version at B")
    except PermissionError:
        pass


def a_new_version_with_one_changed_file_moves_only_that_files_blocks():
    src = os.path.join(WORK, "llama")
    with open(os.path.join(src, "shard-07.bin"), "wb") as f:
        f.write(random.Random(99).randbytes(6 * MiB))
    before = block_keys("b")
    repo_cli("a", "model", "push", src, "vision/llama:sync-b")
    wait_for("version 2 at B", lambda: api("b", "/teams/vision/models/llama/versions/2")[0] == 200, 180)
    st = wait_for("the strategy's run of v2", lambda: (s := status_of("tags sync-b")) and s["state"] != "running"
                  and s["copiedFiles"] > 0 and s)
    assert st["copiedBytes"] == 6 * MiB, st
    # However many slices (and so objects) the gateway cut the 6 MiB into, B's new objects hold them alone.
    grown = block_keys("b") - before
    assert object_bytes("b", grown) == 6 * MiB, "new objects at B: %d holding %d bytes" % (
        len(grown), object_bytes("b", grown))
    assert sha256_of(os.path.join(S["b"]["mnt"], "vision", "llama", "v2", "shard-07.bin")) == \
        sha256_of(os.path.join(src, "shard-07.bin"))


def a_snapshot_moves_no_blocks():
    before = block_objects("b")
    p = repo_cli("a", "model", "snapshot", "vision/llama:sync-b")
    n = int(p.stdout.strip())
    repo_cli("a", "model", "tag", "vision/llama:sync-b", str(n))
    wait_for("version %d at B" % n, lambda: api("b", "/teams/vision/models/llama/versions/%d" % n)[0] == 200, 180)
    assert block_objects("b") == before, "a snapshot's sync stored blocks"
    got = tree_sums(os.path.join(S["b"]["mnt"], "vision", "llama", "v%d" % n))
    assert len(got) == 20, got


def a_killed_sync_completes_without_recopying():
    src = os.path.join(WORK, "big")
    write_tree(src, 4, 48 * MiB, 5)
    repo_cli("a", "team", "create", "nlp")
    repo_cli("a", "model", "push", src, "nlp/big")
    total = 4 * 12
    before = block_objects("b")
    proc = subprocess.Popen([HANGAR, "sync", S["a"]["meta"], S["b"]["meta"], "--path", "/nlp/big/v1",
                             "--bwlimit", "24M", "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for("half the blocks at B", lambda: block_objects("b") - before >= total // 3, 120)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = block_objects("b") - before
    assert 0 < stored < total, stored
    p = ok("sync", S["a"]["meta"], S["b"]["meta"], "--path", "/nlp/big/v1")
    copied = int(p.stdout.split(" blocks copied")[0].split(" in ")[-1])
    assert copied == total - stored, "second run copied %d blocks, %d were stored before it: %s" % (
        copied, stored, p.stdout)
    assert block_objects("b") - before == total
    assert tree_sums(os.path.join(S["b"]["mnt"], "nlp", "big", "v1")) == tree_sums(src)
    f = hangar("fsck", S["b"]["meta"], timeout=900)
    assert f.returncode == 0, "fsck at B: %s %s" % (f.stdout, f.stderr)


def a_periodic_strategy_syncs_until_its_file_is_removed():
    local = os.path.join(WORK, "notes.txt")
    with open(local, "w") as f:
        f.write("first\n")
    ok("mkdir", S["a"]["meta"], "/scratch")
    ok("put", S["a"]["meta"], local, "/scratch/notes.txt")
    cfg = drop_config("io.hangar.sync.periodic-scratch.cfg", [
        "sync.source = " + S["a"]["meta"], "sync.destination = " + S["b"]["meta"], "path = /scratch",
        "interval.seconds = 2"])
    b_file = os.path.join(S["b"]["mnt"], "scratch", "notes.txt")
    wait_for("the periodic sync at B", lambda: os.path.exists(b_file) and open(b_file).read() == "first\n", 60)
    with open(local, "w") as f:
        f.write("second\n")
    ok("put", S["a"]["meta"], local, "/scratch/notes.txt")
    wait_for("the next periodic run at B", lambda: open(b_file).read() == "second\n", 60)
    os.remove(cfg)
    time.sleep(3)  # FileInstall polls every second; the worker stops with its component
    st_before = status_of("periodic /scratch")
    time.sleep(5)
    st_after = status_of("periodic /scratch")
    assert st_before["startedMs"] == st_after["startedMs"], "the periodic sync ran after its file was removed"


def a_file_changed_at_both_ends_is_a_conflict_and_b_keeps_its_bytes():
    local = os.path.join(WORK, "conflict.txt")
    with open(local, "w") as f:
        f.write("changed at b\n")
    ok("put", S["b"]["meta"], local, "/scratch/notes.txt")
    with open(local, "w") as f:
        f.write("changed at a\n")
    ok("put", S["a"]["meta"], local, "/scratch/notes.txt")
    p = hangar("sync", S["a"]["meta"], S["b"]["meta"], "--path", "/scratch")
    assert p.returncode == 13, "exit %d: %s %s" % (p.returncode, p.stdout, p.stderr)
    assert "/scratch/notes.txt: conflict: changed at the destination" in p.stderr, p.stderr
    out = ok("cat", S["b"]["meta"], "/scratch/notes.txt").stdout
    assert out == "changed at b\n", out


def main():
    try:
        if CASES.run(start_sites):
            for c in (a_tagged_model_appears_at_b_byte_exact_with_its_manifest_and_tags_and_warm,
                      released_versions_stay_immutable_at_b,
                      a_new_version_with_one_changed_file_moves_only_that_files_blocks,
                      a_snapshot_moves_no_blocks,
                      a_killed_sync_completes_without_recopying,
                      a_periodic_strategy_syncs_until_its_file_is_removed,
                      a_file_changed_at_both_ends_is_a_conflict_and_b_keeps_its_bytes):
                CASES.run(c)
    finally:
        if S.get("b", {}).get("mnt") and os.path.ismount(S["b"]["mnt"]):
            hangar("umount", S["b"]["mnt"], timeout=180)
        for site in ("a", "b"):
            if S.get(site, {}).get("pid"):
                services.stop_process(S[site]["pid"])
        for p in S["procs"]:
            p.kill()
        if "ceph" in S:
            c = S["ceph"]
            if "a" in S:  # B's pool goes whole below
                for key in rados("a", "ls").stdout.split():
                    rados("a", "rm", key)
            subprocess.run(["ceph", "-c", c["CEPH_CONF"], "--id", c["CEPH_USER"], "osd", "pool", "delete", POOL_B,
                            POOL_B, "--yes-i-really-really-mean-it"], capture_output=True, timeout=120)
    failed = CASES.failed()
    print("%s: %d passed, %d failed" % (SUITE, len(CASES.done) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
