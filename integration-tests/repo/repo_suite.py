#!/usr/bin/python3
"""The model repository end to end, on a runtime started here with `./hangar up` (SQLite metadata, file
store, FUSE mount, S3 gateway with the REST API), driven through the REST API (urllib), the CLI (`./hangar
model ...`, each call a fresh process), the FUSE mount and boto3. Writes TEST-repo.xml to REPORTS (rewritten
after every case, so a killed run still reports and fails).

    repo_suite.py WORKDIR REPORTS [BACKEND]

BACKEND "embedded" (default): `./hangar up` (SQLite metadata, file store, its FUSE mount and gateway).
BACKEND "redis-rados": a redis-server started here and the Ceph test cluster named by HANGAR_CEPH_ENV (a
RADOS namespace of its own); the volume is formatted with `./hangar format`, served by `./hangar gateway -d`
and mounted by `./hangar mount -d`. The report is TEST-repo.xml or TEST-repo-redis-rados.xml.

Two teams: alice uploads to team vision, bob administers it, carol administers team audio. Push, unchanged
re-push (zero new objects in the store), one-file change (only that file's objects), approval rules, release
with a tag, writes to the released version through the mount, the gateway and the API (all refused),
cross-team reads (refused and audited), a share, a pod token, a snapshot (no new objects), then the runtime
stops and fsck finds the volume clean.
"""
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import junit_cases  # noqa: E402
import services  # noqa: E402

import boto3
import botocore.config
from botocore.exceptions import ClientError

WORK, REPORTS = sys.argv[1:3]
BACKEND = sys.argv[3] if len(sys.argv) > 3 else "embedded"
SUITE = "repo" if BACKEND == "embedded" else "repo-" + BACKEND
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HANGAR = os.path.join(TOP, "hangar")
DATA = os.path.join(WORK, "data")
CASES = junit_cases.Cases(os.path.join(REPORTS, "TEST-%s.xml" % SUITE), SUITE)
S = {}  # what the cases share: server, tokens, version numbers


# ---- helpers ----

def api(method, path, token, body=None, headers=None, raw=None):
    """(status, parsed JSON or bytes) of one API call."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(S["server"] + "/api/v1" + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            payload = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        payload = e.read()
        status = e.code
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload


def ok(method, path, token, body=None):
    status, out = api(method, path, token, body)
    assert status in (200, 201), "%s %s: %s %s" % (method, path, status, out)
    return out


def refused(method, path, token, body=None, status=403, code="AccessDenied"):
    got, out = api(method, path, token, body)
    assert got == status and isinstance(out, dict) and out.get("code") == code, \
        "%s %s: expected %s %s, got %s %s" % (method, path, status, code, got, out)
    assert out.get("message"), out


def cli(*args, token=None, check=True):
    env = dict(os.environ, HANGAR_SERVER=S["server"], HANGAR_TOKEN=token or S["admin"])
    p = subprocess.run([HANGAR] + list(args), env=env, capture_output=True, text=True, timeout=900)
    if check and p.returncode != 0:
        raise AssertionError("hangar %s: exit %d\n%s\n%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def stored_objects():
    """The block objects in the volume's chunk store (the data a push sends ends up here)."""
    if BACKEND == "redis-rados":
        c = S["ceph"]
        p = subprocess.run(["rados", "-c", c["CEPH_CONF"], "--id", c["CEPH_USER"], "-p", c["RADOS_POOL"], "-N",
                            S["namespace"], "ls"], capture_output=True, text=True, timeout=300, check=True)
        return sum(1 for name in p.stdout.split() if "/chunks/" in name and not name.startswith("/"))
    n = 0
    for root, _dirs, files in os.walk(os.path.join(DATA, "chunks")):
        n += sum(1 for f in files if not f.startswith("."))
    return n


def write_random(path, size, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rnd.randbytes(n))
            left -= n


def md5_file(path):
    return services.file_digest(path, "md5")


def tree_md5s(d):
    return services.tree_digests(d, "md5")


def latest_version(token, team, model):
    return ok("GET", "/teams/%s/models/%s/versions" % (team, model), token)[-1]


def gc_store():
    """Blocks of replaced uploads are released asynchronously; the counts compare settled stores."""
    time.sleep(3)


# ---- the runtime ----

free_port = services.free_port


def s3_client(creds_file):
    keys = {}
    for line in open(creds_file):
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            keys[k.strip()] = v.strip()
    ak = [k.split(".")[1] for k in keys if k.endswith(".secret")][0]
    S["s3"] = boto3.client("s3", endpoint_url=S["server"], aws_access_key_id=ak,
                           aws_secret_access_key=keys["key.%s.secret" % ak], region_name="us-east-1",
                           config=botocore.config.Config(s3={"addressing_style": "path"},
                                                         retries={"max_attempts": 1}))


def start_distributed():
    """Redis + RADOS: format, `hangar gateway -d`, `hangar mount -d`, each a runtime of its own."""
    S["ceph"] = c = services.ceph_env()
    S["redis"], port = services.start_redis(os.path.join(WORK, "redis"), appendonly=True)
    S["meta"] = "redis://127.0.0.1:%d/1" % port
    S["namespace"] = "repo-%d-%d" % (os.getpid(), int(time.time()))
    store = "rados://%s/%s?conf=%s&user=%s" % (c["RADOS_POOL"], S["namespace"], c["CEPH_CONF"], c["CEPH_USER"])
    run = lambda *a: subprocess.run([HANGAR] + list(a), capture_output=True, text=True, timeout=600)
    p = run("format", S["meta"], "default", "--storage", store)
    assert p.returncode == 0, "format: %s %s" % (p.stdout, p.stderr)
    gw = os.path.join(WORK, "gw")
    listen = "127.0.0.1:%d" % free_port()
    p = run("gateway", S["meta"], "--listen", listen, "--runtime-dir", gw, "--metrics", "off", "-d")
    assert p.returncode == 0, "gateway: %s %s" % (p.stdout, p.stderr)
    S["gateway_pid"] = int(p.stdout.split("runtime pid ")[1].split(",")[0])
    S["server"] = "http://" + listen
    S["mnt"] = os.path.join(WORK, "mnt")
    p = run("mount", S["meta"], S["mnt"], "--runtime-dir", os.path.join(WORK, "mnt-home"), "--metrics", "off", "-d")
    assert p.returncode == 0, "mount: %s %s" % (p.stdout, p.stderr)
    token_file = os.path.join(gw, "etc", "api-token")
    for _ in range(600):
        if os.path.exists(token_file):
            break
        time.sleep(0.1)
    S["admin"] = open(token_file).read().strip()
    s3_client(os.path.join(gw, "etc", "s3-credentials.properties"))


def start_runtime():
    if os.geteuid() != 0:
        raise AssertionError("run as root: the runtime mounts FUSE")
    if not os.path.exists("/dev/fuse"):
        raise AssertionError("/dev/fuse is missing: the suite checks writes through the mount")
    if BACKEND == "redis-rados":
        return start_distributed()
    S["meta"] = "sqlite://" + os.path.join(DATA, "meta.db")
    log = open(os.path.join(WORK, "up.log"), "w")
    p = subprocess.Popen([HANGAR, "up", "--data", DATA, "--no-shell"], stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    S["up"] = p
    deadline = time.time() + 300
    text = ""
    while time.time() < deadline:
        text = open(os.path.join(WORK, "up.log")).read()
        if "\nready" in text and os.path.exists(os.path.join(DATA, "etc", "api-token")):
            break
        if p.poll() is not None:
            raise AssertionError("hangar up exited %s:\n%s" % (p.returncode, text))
        time.sleep(0.5)
    else:
        raise AssertionError("hangar up did not get ready with an API token within 300 s:\n" + text)
    for line in text.splitlines():
        if line.startswith("s3:"):
            S["server"] = line.split()[1]
        if line.startswith("mount:"):
            S["mnt"] = line.split()[1]
    assert "server" in S and "mnt" in S, text
    S["admin"] = open(os.path.join(DATA, "etc", "api-token")).read().strip()
    s3_client(os.path.join(DATA, "etc", "s3-credentials.properties"))


def stop_runtime():
    for m in S.get("pod_mounts", []):
        if os.path.ismount(m):
            subprocess.run(["fusermount3", "-uz", m], capture_output=True)
    if BACKEND == "redis-rados":
        if S.get("mnt") and os.path.ismount(S["mnt"]):
            subprocess.run([HANGAR, "umount", S["mnt"]], capture_output=True, timeout=120)
        pid = S.pop("gateway_pid", None)
        if pid:
            services.stop_process(pid)
        return
    p = S.get("up")
    if p is None or p.poll() is not None:
        return
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(120)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(30)


# ---- cases ----

def setup_teams_users_and_roles():
    a = S["admin"]
    for u in ("alice", "bob", "carol", "pod"):
        ok("POST", "/users", a, {"name": u})
        S[u] = ok("POST", "/users/%s/tokens" % u, a, {})["token"]
    ok("POST", "/teams", a, {"name": "vision"})
    ok("POST", "/teams", a, {"name": "audio"})
    ok("PUT", "/teams/vision/members/alice", a, {"role": "writer"})
    ok("PUT", "/teams/vision/members/bob", a, {"role": "admin"})
    ok("PUT", "/teams/audio/members/carol", a, {"role": "admin"})
    ok("PUT", "/teams/vision/members/pod", a, {"role": "reader"})
    me = ok("GET", "/whoami", S["alice"])
    assert me["user"] == "alice" and me["teams"] == {"vision": "writer"}, me
    refused("POST", "/teams", S["alice"], {"name": "mine"})
    refused("PUT", "/teams/vision/members/carol", S["alice"], {"role": "admin"})
    refused("GET", "/whoami", "hgr_0000000000000000_nope", status=401, code="Unauthenticated")
    refused("POST", "/teams", a, {"name": "Bad_Name"}, status=400, code="BadRequest")


def push_first_version():
    src = os.path.join(WORK, "model")
    write_random(os.path.join(src, "model-00001.safetensors"), 24 << 20, 1)
    write_random(os.path.join(src, "model-00002.safetensors"), 24 << 20, 2)
    write_random(os.path.join(src, "tokenizer/tokenizer.json"), 300_000, 3)
    with open(os.path.join(src, "config.json"), "w") as f:
        json.dump({"hidden": 4096}, f)
    os.makedirs(os.path.join(src, "docs"), exist_ok=True)
    with open(os.path.join(src, "docs", "read me + notes %.txt"), "w") as f:
        f.write("a name that needs escaping\n")
    before = stored_objects()
    cli("model", "push", src, "vision/llama", token=S["alice"])
    v = latest_version(S["alice"], "vision", "llama")
    assert v["state"] == "submitted" and v["files"] == 5, v
    assert v["createdBy"] == "alice"
    S["v1"] = v["number"]
    S["objects_v1"] = stored_objects()
    assert S["objects_v1"] > before, "the first push stored nothing"
    man = ok("GET", "/teams/vision/models/llama/versions/%d/manifest" % S["v1"], S["alice"])
    want = tree_md5s(src)
    assert {f["path"]: f["md5"] for f in man["files"]} == want, man


def repush_unchanged_stores_nothing():
    before = stored_objects()
    cli("model", "push", os.path.join(WORK, "model"), "vision/llama", token=S["alice"])
    gc_store()
    v = latest_version(S["alice"], "vision", "llama")
    assert v["number"] == S["v1"] + 1 and v["state"] == "submitted", v
    assert stored_objects() == before, "an unchanged re-push stored %d new objects" % (stored_objects() - before)
    S["v2"] = v["number"]


def push_one_changed_file_stores_only_it():
    src = os.path.join(WORK, "model")
    write_random(os.path.join(src, "tokenizer/tokenizer.json"), 300_000, 99)
    before = stored_objects()
    cli("model", "push", src, "vision/llama", token=S["alice"])
    gc_store()
    added = stored_objects() - before
    # 300 KB is one block; the 48 MiB of unchanged shards would be twelve or more.
    assert 1 <= added <= 2, "a one-file change stored %d objects" % added
    S["v3"] = latest_version(S["alice"], "vision", "llama")["number"]


def put_with_a_known_md5_is_answered_before_the_body():
    import http.client
    import urllib.parse
    d = ok("POST", "/teams/vision/models/llama/versions", S["alice"], {})["number"]
    known = manifest_md5s(S["alice"], S["v1"])["config.json"]
    size = os.path.getsize(os.path.join(WORK, "model", "config.json"))
    u = urllib.parse.urlparse(S["server"])
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.putrequest("PUT", "/api/v1/teams/vision/models/llama/versions/%d/files/copy.json" % d)
    for k, v in (("Authorization", "Bearer " + S["alice"]), ("x-hangar-md5", known),
                 ("Content-Length", str(size)), ("Expect", "100-continue")):
        conn.putheader(k, v)
    conn.endheaders()  # no body is sent: the answer must come without it
    r = conn.getresponse()
    body = json.loads(r.read())
    conn.close()
    assert r.status == 201 and body["deduplicated"] is True and body["md5"] == known, (r.status, body)
    assert manifest_md5s(S["alice"], d) == {"copy.json": known}
    ok("DELETE", "/teams/vision/models/llama/versions/%d" % d, S["alice"])


def interrupted_push_resumes_in_the_same_draft():
    src = os.path.join(WORK, "resume")
    write_random(os.path.join(src, "a.bin"), 3 << 20, 11)
    write_random(os.path.join(src, "b.bin"), 3 << 20, 12)
    ok("POST", "/teams/vision/models", S["alice"], {"name": "resume"})
    # A push that stopped after its uploads: the draft is left with both files.
    first = cli("model", "push", src, "vision/resume", "--no-submit", token=S["alice"]).stdout
    n = latest_version(S["alice"], "vision", "resume")["number"]
    write_random(os.path.join(src, "c.bin"), 1 << 20, 13)
    again = cli("model", "push", src, "vision/resume", token=S["alice"]).stdout
    assert "(resumed)" in again and "2 already there" in again and "1 MiB uploaded" in again, (first, again)
    v = latest_version(S["alice"], "vision", "resume")
    assert v["number"] == n and v["state"] == "submitted" and v["files"] == 3, v


def approval_needs_another_team_admin():
    path = "/teams/vision/models/llama/versions/%d" % S["v1"]
    refused("POST", path + "/approve", S["alice"])          # a writer, and the uploader
    refused("POST", path + "/release", S["bob"], status=403)  # not approved yet
    ok("POST", path + "/approve", S["bob"])
    v = ok("POST", path + "/release", S["bob"], {"tag": "prod"})
    assert v["state"] == "released" and v["releasedBy"] == "bob", v
    assert [a["user"] for a in v["approvals"]] == ["bob"], v
    tags = ok("GET", "/teams/vision/models/llama/tags", S["alice"])
    assert {t["tag"]: t["version"] for t in tags} == {"prod": S["v1"]}, tags


def released_version_refuses_writes_through_the_mount():
    d = os.path.join(S["mnt"], "vision", "llama", "v%d" % S["v1"])
    target = os.path.join(d, "config.json")
    assert open(target).read().startswith("{"), "the released file reads"
    for attempt in (lambda: open(target, "w"),
                    lambda: open(target, "a"),
                    lambda: os.unlink(target),
                    lambda: os.mkdir(os.path.join(d, "new")),
                    lambda: open(os.path.join(d, "new.bin"), "w"),
                    lambda: os.rename(target, os.path.join(d, "moved.json")),
                    lambda: os.truncate(target, 0),
                    lambda: os.chmod(target, 0o777),
                    lambda: os.rename(d, d + "-moved")):
        try:
            attempt()
        except PermissionError:
            continue
        raise AssertionError("a write to the released version through the mount succeeded")
    assert md5_file(target) == tree_md5s(os.path.join(WORK, "model"))["config.json"]


def released_version_refuses_writes_through_the_gateway():
    key = "llama/v%d/config.json" % S["v1"]
    for call in (lambda: S["s3"].put_object(Bucket="vision", Key=key, Body=b"x"),
                 lambda: S["s3"].put_object(Bucket="vision", Key="llama/v%d/new" % S["v1"], Body=b"x"),
                 lambda: S["s3"].delete_object(Bucket="vision", Key=key)):
        try:
            call()
        except ClientError as e:
            assert e.response["Error"]["Code"] == "AccessDenied", e.response
            continue
        raise AssertionError("a write to the released version through the gateway succeeded")
    body = S["s3"].get_object(Bucket="vision", Key=key)["Body"].read()
    assert body.startswith(b"{")


def released_version_refuses_writes_through_the_api():
    st, out = api("PUT", "/teams/vision/models/llama/versions/%d/files/config.json" % S["v1"], S["alice"],
                  raw=b"{}")
    assert st == 403 and out["code"] == "AccessDenied", (st, out)
    st, out = api("POST", "/teams/vision/models/llama/versions/%d/links" % S["v1"], S["bob"],
                  {"path": "x", "md5": "0" * 32, "size": 1})
    assert st == 403 and out["code"] == "AccessDenied", (st, out)


def cross_team_access_is_refused_and_audited():
    c = S["carol"]
    refused("GET", "/teams/vision/models", c)
    refused("GET", "/teams/vision/models/llama/versions", c)
    refused("GET", "/teams/vision/models/llama/versions/%d/manifest" % S["v1"], c)
    refused("GET", "/teams/vision/models/llama/versions/%d/files/config.json" % S["v1"], c)
    refused("POST", "/teams/vision/models", c, {"name": "stolen"})
    p = cli("model", "pull", "vision/llama:prod", os.path.join(WORK, "carol-pull"), token=c, check=False)
    assert p.returncode != 0 and "AccessDenied" in (p.stderr + p.stdout), p
    log = ok("GET", "/audit?user=carol&limit=1000", S["admin"])
    denied = [e for e in log["entries"] if e["result"] == "denied"]
    assert len(denied) >= 5, log
    assert all(e["origin"] for e in denied), denied
    # ... and a team administrator of vision sees them in the team's log
    team_log = ok("GET", "/audit?team=vision&limit=1000", S["bob"])
    assert any(e["user"] == "carol" and e["result"] == "denied" for e in team_log["entries"]), team_log
    refused("GET", "/audit?team=vision", c)


def share_lets_the_other_team_read():
    ok("PUT", "/teams/vision/models/llama/shares/audio", S["bob"])
    out = os.path.join(WORK, "carol-pull")
    shutil.rmtree(out, ignore_errors=True)
    cli("model", "pull", "vision/llama:prod", out, token=S["carol"])
    expect = tree_md5s(os.path.join(WORK, "model"))
    got = tree_md5s(out)
    assert got["model-00001.safetensors"] == expect["model-00001.safetensors"], got
    assert got["config.json"] == expect["config.json"]
    assert got["docs/read me + notes %.txt"] == expect["docs/read me + notes %.txt"], got
    refused("POST", "/teams/vision/models/llama/versions", S["carol"], {})


def pod_token_reads_only_released_versions_of_its_model():
    t = ok("POST", "/users/pod/tokens", S["admin"], {"team": "vision", "model": "llama"})["token"]
    v = ok("GET", "/teams/vision/models/llama/versions/prod", t)
    assert v["number"] == S["v1"], v
    refused("GET", "/teams/vision/models/llama/versions/%d" % S["v2"], t)   # submitted, not released
    assert [x["number"] for x in ok("GET", "/teams/vision/models/llama/versions", t)] == [S["v1"]]
    refused("POST", "/teams/vision/models/llama/versions", t, {})
    refused("GET", "/teams/audio/models", t)
    st, body = api("GET", "/teams/vision/models/llama/versions/prod/files/config.json", t)
    assert st == 200 and body == {"hidden": 4096}, (st, body)


def snapshot_is_metadata_only():
    before = stored_objects()
    v = ok("POST", "/teams/vision/models/llama/versions", S["alice"], {"from": "prod"})
    assert v["state"] == "draft" and v["parent"] == S["v1"], v
    assert stored_objects() == before
    d = os.path.join(S["mnt"], "vision", "llama", "v%d" % v["number"])
    assert md5_file(os.path.join(d, "model-00001.safetensors")) == \
        tree_md5s(os.path.join(WORK, "model"))["model-00001.safetensors"]
    # the snapshot is a draft: writable through the mount, unlike its source
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("fine-tune me\n")
    man = ok("GET", "/teams/vision/models/llama/versions/%d/manifest" % v["number"], S["alice"])
    assert len(man["files"]) == 5, man
    S["snap"] = v["number"]


def submit_reads_md5s_of_files_written_through_the_mount():
    v = ok("POST", "/teams/vision/models/llama/versions/%d/submit" % S["snap"], S["alice"])
    assert v["files"] == 6, v
    man = ok("GET", "/teams/vision/models/llama/versions/%d/manifest" % S["snap"], S["alice"])
    notes = [f for f in man["files"] if f["path"] == "notes.txt"][0]
    assert notes["md5"] == hashlib.md5(b"fine-tune me\n").hexdigest(), notes
    try:
        open(os.path.join(S["mnt"], "vision", "llama", "v%d" % S["snap"], "notes.txt"), "a")
        raise AssertionError("a submitted version took a write through the mount")
    except PermissionError:
        pass


def moving_a_tag_is_seen_by_the_next_pull():
    path = "/teams/vision/models/llama/versions/%d" % S["v3"]
    ok("POST", path + "/approve", S["bob"])
    ok("POST", path + "/release", S["bob"], {"tag": "prod"})
    out = os.path.join(WORK, "pull-prod")
    cli("model", "pull", "vision/llama:prod", out, token=S["alice"])
    assert md5_file(os.path.join(out, "tokenizer/tokenizer.json")) == \
        tree_md5s(os.path.join(WORK, "model"))["tokenizer/tokenizer.json"]


def manifest_md5s(token, ref):
    man = ok("GET", "/teams/vision/models/llama/versions/%s/manifest" % ref, token)
    return {f["path"]: f["md5"] for f in man["files"]}


def pod_mount_sees_exactly_the_tagged_release():
    t = ok("POST", "/users/pod/tokens", S["admin"], {"team": "vision", "model": "llama"})["token"]
    meta = S["meta"]
    first, second = os.path.join(WORK, "pod1"), os.path.join(WORK, "pod2")
    S["pod_mounts"] = [first, second]
    prod = ok("GET", "/teams/vision/models/llama/versions/prod", t)["number"]
    assert prod == S["v3"], prod
    cli("mount", meta, first, "-d", "--model", "vision/llama:prod", "--metrics", "off", token=t)
    assert tree_md5s(first) == manifest_md5s(t, prod), "the pod mount shows exactly the tagged version"
    # warmup finds the tagged version in a mount of this machine (the pod's token is enough) and has the
    # runtime fetch it into its cache, which --check then finds whole (no disk cache here: memory).
    files = len(manifest_md5s(t, prod))
    out = cli("warmup", "vision/llama:prod", token=t).stdout
    assert ("warmed %d files" % files) in out, out
    out = cli("warmup", "--check", "vision/llama:prod", token=t).stdout
    assert re.search(r"memory [^(]*\(100\.0%\)", out), out
    p = cli("warmup", "vision/llama:%d" % S["v2"], token=t, check=False)
    assert p.returncode != 0 and p.stderr.count("\n") == 1, p  # not released: the pod's token reads nothing
    try:
        open(os.path.join(first, "config.json"), "a")
        raise AssertionError("the pod mount took a write")
    except OSError as e:
        assert e.errno in (30, 1), e  # EROFS (read-only mount) or EPERM (frozen)
    # The tag moves: the running mount keeps its version; the next mount sees the new one.
    ok("PUT", "/teams/vision/models/llama/tags/prod", S["alice"], {"version": str(S["v1"])})
    assert tree_md5s(first) == manifest_md5s(t, prod)
    cli("mount", meta, second, "-d", "--model", "vision/llama:prod", "--metrics", "off", token=t)
    assert tree_md5s(second) == manifest_md5s(t, S["v1"])
    assert tree_md5s(second) != tree_md5s(first)
    # A version that is not released is not mounted with --model, and the token reads nothing else.
    p = cli("mount", meta, os.path.join(WORK, "pod3"), "-d", "--model", "vision/llama:%d" % S["v2"], token=t,
            check=False)
    assert p.returncode != 0 and "AccessDenied" in p.stderr, p
    p = cli("mount", meta, os.path.join(WORK, "pod3"), "-d", "--model", "audio/other:prod", token=t, check=False)
    assert p.returncode != 0, p
    for m in (first, second):
        cli("umount", m)


def bad_requests_get_clear_errors():
    a = S["alice"]
    refused("GET", "/teams/vision/models/llama/versions/999", a, status=404, code="NotFound")
    refused("GET", "/teams/vision/models/llama/versions/nosuchtag", a, status=404, code="NotFound")
    refused("POST", "/teams/vision/models/llama/versions/%d/links" % S["snap"], a, {"path": "../x", "md5": "0" * 32,
                                                                                    "size": 1})
    refused("GET", "/nosuchroute", a, status=404, code="NoSuchRoute")
    st, out = api("POST", "/teams/vision/models", a, raw=b"{not json", headers={"Content-Type": "application/json"})
    assert st == 400 and out["code"] == "BadRequest", (st, out)
    st, out = api("GET", "/audit?limit=100000", S["admin"])
    assert st == 400, (st, out)
    d = ok("POST", "/teams/vision/models/llama/versions", a, {})
    st, out = api("PUT", "/teams/vision/models/llama/versions/%d/files/x.bin" % d["number"], a, raw=b"hello",
                  headers={"x-hangar-md5": "0" * 32})
    assert st == 400 and out["code"] == "BadDigest", (st, out)
    man = ok("GET", "/teams/vision/models/llama/versions/%d/manifest" % d["number"], a)
    assert man["files"] == [], man
    assert not os.listdir(os.path.join(S["mnt"], "vision", "llama", "v%d" % d["number"]))


def openapi_document_is_served():
    import yaml
    st, body = api("GET", "/openapi.yaml", S["alice"])
    assert st == 200, st
    doc = yaml.safe_load(body)
    assert doc["openapi"] == "3.1.0"
    for p in ("/teams/{team}/models/{model}/versions", "/teams/{team}/dedup", "/audit", "/teams/{team}/trash"):
        assert p in doc["paths"], p


def trash_restore_and_purge_frees_the_blocks():
    src = os.path.join(WORK, "scratch")
    write_random(os.path.join(src, "unique.bin"), 12 << 20, 7)
    ok("POST", "/teams/vision/models", S["alice"], {"name": "scratch"})
    cli("model", "push", src, "vision/scratch", token=S["alice"])
    n = latest_version(S["alice"], "vision", "scratch")["number"]
    full = stored_objects()
    refused("DELETE", "/teams/vision/models/scratch/versions/%d" % n, S["carol"])
    entry = ok("DELETE", "/teams/vision/models/scratch/versions/%d" % n, S["bob"])
    refused("GET", "/teams/vision/models/scratch/versions/%d" % n, S["alice"], status=404, code="NotFound")
    assert any(t["id"] == entry["id"] for t in ok("GET", "/teams/vision/trash", S["alice"]))
    ok("POST", "/teams/vision/trash/%s/restore" % entry["id"], S["alice"])
    assert ok("GET", "/teams/vision/models/scratch/versions/%d" % n, S["alice"])["state"] == "submitted"
    # ... and the same through the CLI
    out = cli("model", "delete", "vision/scratch:%d" % n, token=S["bob"]).stdout
    tid = out.split(" moved to the trash as ")[1].split()[0]
    assert tid in cli("model", "trash", "list", "vision", token=S["alice"]).stdout
    p = cli("model", "trash", "purge", "vision", tid, token=S["alice"], check=False)
    assert p.returncode == 12 and "AccessDenied" in p.stderr, p
    cli("model", "trash", "purge", "vision", tid, token=S["bob"])
    assert not os.path.exists(os.path.join(S["mnt"], "vision", "scratch", "v%d" % n))
    # The purged slices' blocks are deleted by the volume's reaper, a little later.
    deadline = time.time() + 120
    while stored_objects() > full - 3 and time.time() < deadline:
        time.sleep(1)
    assert stored_objects() <= full - 3, "purging a 12 MiB version freed %d objects" % (full - stored_objects())


def fsck_is_clean_after_the_runtime_stops():
    stop_runtime()
    p = subprocess.run([HANGAR, "fsck", S["meta"]], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, "fsck: exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr)


def main():
    os.makedirs(REPORTS, exist_ok=True)
    if not CASES.run(start_runtime):
        stop_runtime()
        return 1
    try:
        for c in (setup_teams_users_and_roles, push_first_version, repush_unchanged_stores_nothing,
                  push_one_changed_file_stores_only_it, interrupted_push_resumes_in_the_same_draft,
                  put_with_a_known_md5_is_answered_before_the_body,
                  approval_needs_another_team_admin,
                  released_version_refuses_writes_through_the_mount,
                  released_version_refuses_writes_through_the_gateway,
                  released_version_refuses_writes_through_the_api, cross_team_access_is_refused_and_audited,
                  share_lets_the_other_team_read, pod_token_reads_only_released_versions_of_its_model,
                  snapshot_is_metadata_only, submit_reads_md5s_of_files_written_through_the_mount,
                  moving_a_tag_is_seen_by_the_next_pull, pod_mount_sees_exactly_the_tagged_release,
                  bad_requests_get_clear_errors,
                  openapi_document_is_served, trash_restore_and_purge_frees_the_blocks):
            CASES.run(c)
        CASES.run(fsck_is_clean_after_the_runtime_stops)
    finally:
        stop_runtime()
        if S.get("redis"):
            S["redis"].terminate()
            S["redis"].wait(60)
        if S.get("namespace"):
            c = S["ceph"]
            # The run's RADOS namespace goes with it.
            p = subprocess.run(["rados", "-c", c["CEPH_CONF"], "--id", c["CEPH_USER"], "-p", c["RADOS_POOL"], "-N",
                                S["namespace"], "ls"], capture_output=True, text=True, timeout=300)
            for name in p.stdout.split():
                subprocess.run(["rados", "-c", c["CEPH_CONF"], "--id", c["CEPH_USER"], "-p", c["RADOS_POOL"],
                                "-N", S["namespace"], "rm", name], capture_output=True, timeout=60)
    failed = CASES.failed()
    print("%s: %d passed, %d failed" % (SUITE, len(CASES.done) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
