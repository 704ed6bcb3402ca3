#!/usr/bin/python3
"""S3 gateway suites with real clients: aws (awscli), s3cmd, boto3, the negative cases, and the FUSE mount of
the same volume. Run by run.sh, which starts the gateway and the mount; each suite writes a JUnit report
TEST-s3-<suite>.xml (rewritten after every test, so a killed suite still reports and fails).

    s3_suite.py SUITE ENDPOINT MOUNTPOINT WORKDIR REPORTS

Keys: S3_AK/S3_SK (full access), S3_RO_AK/S3_RO_SK (read-only), from the environment.
"""
import base64
import datetime
import filecmp
import hashlib
import hmac
import http.client
import os
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import junit_cases  # noqa: E402

import boto3
import botocore.config
from botocore.exceptions import ClientError

SUITE, ENDPOINT, MNT, WORK, REPORTS = sys.argv[1:6]
AK, SK = os.environ["S3_AK"], os.environ["S3_SK"]
RO_AK, RO_SK = os.environ["S3_RO_AK"], os.environ["S3_RO_SK"]
URL = urllib.parse.urlparse(ENDPOINT)
CASES = junit_cases.Cases(os.path.join(REPORTS, "TEST-s3-%s.xml" % SUITE), "s3." + SUITE)


def client(ak=AK, sk=SK):
    return boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id=ak,
                        aws_secret_access_key=sk,
                        config=botocore.config.Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                                      retries={"max_attempts": 1}))


S3 = client()


def env():
    e = dict(os.environ)
    e.pop("AWS_CA_BUNDLE", None)
    e.update(AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK, AWS_DEFAULT_REGION="us-east-1",
             AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true",
             AWS_PAGER="")
    return e


def aws(*args, check=True):
    p = subprocess.run(["aws", "--endpoint-url", ENDPOINT, *args], env=env(), capture_output=True, text=True,
                       timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("aws %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def write_random(path, size, seed):
    r = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(r.randbytes(n))
            left -= n


def multipart_etag(path, part):
    digests = []
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(part), b""):
            digests.append(hashlib.md5(b).digest())
    return "%s-%d" % (hashlib.md5(b"".join(digests)).hexdigest(), len(digests))


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    raise AssertionError("no error")


def expect(status, code, fn):
    got = code_of(fn)
    assert got == (status, code), "expected %s %s, got %s" % (status, code, got)


def mkbucket(name):
    try:
        S3.create_bucket(Bucket=name)
    except ClientError as e:
        if e.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise


# ---- awscli


def aws_cp_200mib_multipart_both_ways():
    mkbucket("awscli")
    src = os.path.join(WORK, "big.bin")
    write_random(src, 200 << 20, 1)
    aws("s3", "cp", "--only-show-errors", src, "s3://awscli/models/big.bin")
    head = S3.head_object(Bucket="awscli", Key="models/big.bin")
    assert head["ContentLength"] == 200 << 20
    # awscli uploads 8 MiB parts: the ETag is the multipart one, computed here independently.
    assert head["ETag"].strip('"') == multipart_etag(src, 8 << 20), head["ETag"]
    dst = os.path.join(WORK, "big.down")
    aws("s3", "cp", "--only-show-errors", "s3://awscli/models/big.bin", dst)
    assert filecmp.cmp(src, dst, shallow=False), "downloaded bytes differ"
    os.unlink(dst)


def aws_sync_model_directory():
    mkbucket("awscli")
    model = os.path.join(WORK, "llama-tiny")
    os.makedirs(model, exist_ok=True)
    with open(os.path.join(model, "config.json"), "w") as f:
        f.write('{"architectures": ["LlamaForCausalLM"], "hidden_size": 4096}\n')
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"):
        with open(os.path.join(model, name), "w") as f:
            f.write('{"name": "%s", "pad": "%s"}\n' % (name, "x" * 1000))
    for i in range(1, 4):
        write_random(os.path.join(model, "model-%05d-of-00003.safetensors" % i), (9 << 20) + i * 4099, 10 + i)
    with open(os.path.join(model, "model.safetensors.index.json"), "w") as f:
        f.write('{"weight_map": {}}\n')
    aws("s3", "sync", "--only-show-errors", model, "s3://awscli/llama-tiny/")
    back = os.path.join(WORK, "llama-back")
    aws("s3", "sync", "--only-show-errors", "s3://awscli/llama-tiny/", back)
    cmp = filecmp.dircmp(model, back)
    assert not cmp.left_only and not cmp.right_only and not cmp.diff_files, (cmp.left_only, cmp.right_only,
                                                                            cmp.diff_files)
    for name in os.listdir(model):
        assert filecmp.cmp(os.path.join(model, name), os.path.join(back, name), shallow=False), name
    again = aws("s3", "sync", model, "s3://awscli/llama-tiny/")
    assert "upload:" not in again.stdout, "a second sync uploaded again:\n" + again.stdout


def aws_ls_and_rm():
    out = aws("s3", "ls", "s3://awscli/llama-tiny/").stdout
    assert "config.json" in out and "model-00003-of-00003.safetensors" in out, out
    top = aws("s3", "ls", "s3://awscli/").stdout
    assert "PRE llama-tiny/" in top and "PRE models/" in top, top
    rec = aws("s3", "ls", "--recursive", "s3://awscli/").stdout
    assert len([line for line in rec.splitlines() if line.strip()]) == 10, rec
    buckets = aws("s3", "ls").stdout
    assert "awscli" in buckets and ".hangar-s3" not in buckets, buckets
    aws("s3", "rm", "--only-show-errors", "s3://awscli/llama-tiny/config.json")
    names = [line.split()[-1] for line in aws("s3", "ls", "s3://awscli/llama-tiny/").stdout.splitlines()]
    assert "config.json" not in names and "tokenizer_config.json" in names, names
    aws("s3", "rm", "--only-show-errors", "--recursive", "s3://awscli/llama-tiny/")
    assert aws("s3", "ls", "s3://awscli/llama-tiny/", check=False).stdout.strip() == ""


def aws_s3api_operations():
    import json
    aws("s3api", "create-bucket", "--bucket", "s3api-ops")
    aws("s3api", "head-bucket", "--bucket", "s3api-ops")
    loc = json.loads(aws("s3api", "get-bucket-location", "--bucket", "s3api-ops").stdout)
    assert loc.get("LocationConstraint") in (None, ""), loc
    body = os.path.join(WORK, "small.txt")
    with open(body, "w") as f:
        f.write("hello s3api\n" * 100)
    put = json.loads(aws("s3api", "put-object", "--bucket", "s3api-ops", "--key", "dir/a.txt", "--body", body,
                         "--content-type", "text/plain", "--metadata", "team=tal,step=7").stdout)
    assert put["ETag"].strip('"') == md5_file(body)
    head = json.loads(aws("s3api", "head-object", "--bucket", "s3api-ops", "--key", "dir/a.txt").stdout)
    assert head["Metadata"] == {"team": "tal", "step": "7"} and head["ContentType"] == "text/plain", head
    rng = os.path.join(WORK, "range.out")
    got = json.loads(aws("s3api", "get-object", "--bucket", "s3api-ops", "--key", "dir/a.txt", "--range",
                         "bytes=6-10", rng).stdout)
    assert got["ContentRange"] == "bytes 6-10/1200" and open(rng).read() == "s3api", got
    aws("s3api", "copy-object", "--bucket", "s3api-ops", "--key", "dir/b.txt", "--copy-source", "s3api-ops/dir/a.txt")
    for i in range(5):
        aws("s3api", "put-object", "--bucket", "s3api-ops", "--key", "many/%d" % i, "--body", body)
    pages = json.loads(aws("s3api", "list-objects-v2", "--bucket", "s3api-ops", "--page-size", "2").stdout)
    keys = [c["Key"] for c in pages["Contents"]]
    assert keys == ["dir/a.txt", "dir/b.txt"] + ["many/%d" % i for i in range(5)], keys
    v1 = json.loads(aws("s3api", "list-objects", "--bucket", "s3api-ops", "--delimiter", "/").stdout)
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == ["dir/", "many/"], v1
    mpu = json.loads(aws("s3api", "create-multipart-upload", "--bucket", "s3api-ops", "--key", "mp/obj").stdout)
    part = os.path.join(WORK, "part.bin")
    write_random(part, 5 << 20, 3)
    p1 = json.loads(aws("s3api", "upload-part", "--bucket", "s3api-ops", "--key", "mp/obj", "--upload-id",
                        mpu["UploadId"], "--part-number", "1", "--body", part).stdout)
    p2 = json.loads(aws("s3api", "upload-part", "--bucket", "s3api-ops", "--key", "mp/obj", "--upload-id",
                        mpu["UploadId"], "--part-number", "2", "--body", body).stdout)
    parts = json.loads(aws("s3api", "list-parts", "--bucket", "s3api-ops", "--key", "mp/obj", "--upload-id",
                           mpu["UploadId"]).stdout)
    assert [p["PartNumber"] for p in parts["Parts"]] == [1, 2], parts
    ups = json.loads(aws("s3api", "list-multipart-uploads", "--bucket", "s3api-ops").stdout)
    assert [u["UploadId"] for u in ups["Uploads"]] == [mpu["UploadId"]], ups
    done = json.dumps({"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    res = json.loads(aws("s3api", "complete-multipart-upload", "--bucket", "s3api-ops", "--key", "mp/obj",
                         "--upload-id", mpu["UploadId"], "--multipart-upload", done).stdout)
    want = hashlib.md5(bytes.fromhex(md5_file(part)) + bytes.fromhex(md5_file(body))).hexdigest() + "-2"
    assert res["ETag"].strip('"') == want, res
    ab = json.loads(aws("s3api", "create-multipart-upload", "--bucket", "s3api-ops", "--key", "mp/aborted").stdout)
    aws("s3api", "abort-multipart-upload", "--bucket", "s3api-ops", "--key", "mp/aborted", "--upload-id",
        ab["UploadId"])
    assert "Uploads" not in json.loads(aws("s3api", "list-multipart-uploads", "--bucket", "s3api-ops").stdout)
    dele = json.dumps({"Objects": [{"Key": "many/%d" % i} for i in range(5)]})
    res = json.loads(aws("s3api", "delete-objects", "--bucket", "s3api-ops", "--delete", dele).stdout)
    assert len(res["Deleted"]) == 5, res
    aws("s3api", "delete-object", "--bucket", "s3api-ops", "--key", "dir/a.txt")
    left = json.loads(aws("s3api", "list-objects-v2", "--bucket", "s3api-ops").stdout)
    assert [c["Key"] for c in left["Contents"]] == ["dir/b.txt", "mp/obj"], left


# ---- s3cmd


def s3cmd(*args, check=True):
    cfg = os.path.join(WORK, "s3cmd.cfg")
    if not os.path.exists(cfg):
        with open(cfg, "w") as f:
            f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\n"
                    "use_https = False\nsignature_v2 = False\nbucket_location = us-east-1\ncheck_ssl_certificate = False\n"
                    % (AK, SK, URL.netloc, URL.netloc))
    p = subprocess.run(["s3cmd", "-c", cfg, "--no-progress", *args], env=env(), capture_output=True, text=True,
                       timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("s3cmd %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def s3cmd_put_get_ls_del():
    s3cmd("mb", "s3://s3cmd-bkt")
    small = os.path.join(WORK, "s3cmd-small.txt")
    with open(small, "w") as f:
        f.write("from s3cmd\n")
    big = os.path.join(WORK, "s3cmd-big.bin")
    write_random(big, 40 << 20, 4)
    s3cmd("put", small, "s3://s3cmd-bkt/docs/small.txt")
    s3cmd("put", big, "s3://s3cmd-bkt/blobs/big.bin")
    ls = s3cmd("ls", "s3://s3cmd-bkt/").stdout
    assert "DIR" in ls and "s3://s3cmd-bkt/docs/" in ls, ls
    la = s3cmd("ls", "--recursive", "s3://s3cmd-bkt/").stdout
    assert "s3://s3cmd-bkt/docs/small.txt" in la and "s3://s3cmd-bkt/blobs/big.bin" in la, la
    for remote, local in (("docs/small.txt", small), ("blobs/big.bin", big)):
        out = os.path.join(WORK, "s3cmd.down")
        g = s3cmd("get", "--force", "s3://s3cmd-bkt/" + remote, out)
        assert "MD5 signatures do not match" not in g.stdout + g.stderr, g.stdout + g.stderr
        assert filecmp.cmp(local, out, shallow=False), remote
        os.unlink(out)
    # s3cmd puts 15 MiB parts: the multipart ETag, checked independently.
    assert S3.head_object(Bucket="s3cmd-bkt", Key="blobs/big.bin")["ETag"].strip('"') == multipart_etag(big, 15 << 20)
    assert S3.head_object(Bucket="s3cmd-bkt", Key="docs/small.txt")["ETag"].strip('"') == md5_file(small)
    s3cmd("del", "s3://s3cmd-bkt/docs/small.txt")
    s3cmd("del", "s3://s3cmd-bkt/blobs/big.bin")
    assert s3cmd("ls", "--recursive", "s3://s3cmd-bkt/").stdout.strip() == ""
    s3cmd("rb", "s3://s3cmd-bkt")
    assert "s3cmd-bkt" not in s3cmd("ls").stdout


# ---- boto3


def boto3_presigned_urls():
    mkbucket("boto")
    S3.put_object(Bucket="boto", Key="pre/x.txt", Body=b"presigned body")
    url = S3.generate_presigned_url("get_object", Params={"Bucket": "boto", "Key": "pre/x.txt"}, ExpiresIn=300)
    with urllib.request.urlopen(url) as r:
        assert r.status == 200 and r.read() == b"presigned body"
    put = S3.generate_presigned_url("put_object", Params={"Bucket": "boto", "Key": "pre/up.txt"}, ExpiresIn=300)
    req = urllib.request.Request(put, data=b"uploaded by url", method="PUT")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
    assert S3.get_object(Bucket="boto", Key="pre/up.txt")["Body"].read() == b"uploaded by url"
    tampered = url.replace("pre/x.txt", "pre/up.txt")
    status, body = http_get(tampered)
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body, (status, body)
    short = S3.generate_presigned_url("get_object", Params={"Bucket": "boto", "Key": "pre/x.txt"}, ExpiresIn=1)
    time.sleep(2.5)
    status, body = http_get(short)
    assert status == 403 and "<Code>AccessDenied</Code>" in body and "expired" in body, (status, body)


def http_get(url):
    try:
        with urllib.request.urlopen(url) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def boto3_conditional_and_ranged_gets():
    mkbucket("boto")
    data = random.Random(5).randbytes(1 << 20)
    etag = S3.put_object(Bucket="boto", Key="cond/obj", Body=data)["ETag"]
    assert etag.strip('"') == hashlib.md5(data).hexdigest()
    r = S3.get_object(Bucket="boto", Key="cond/obj", Range="bytes=100-199")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206 and r["Body"].read() == data[100:200]
    assert r["ContentRange"] == "bytes 100-199/%d" % len(data)
    assert S3.get_object(Bucket="boto", Key="cond/obj", Range="bytes=-10")["Body"].read() == data[-10:]
    assert S3.get_object(Bucket="boto", Key="cond/obj", Range="bytes=1048570-")["Body"].read() == data[-6:]
    assert S3.get_object(Bucket="boto", Key="cond/obj", IfMatch=etag)["Body"].read() == data
    expect(412, "PreconditionFailed", lambda: S3.get_object(Bucket="boto", Key="cond/obj", IfMatch='"0000"'))
    expect(304, "304", lambda: S3.get_object(Bucket="boto", Key="cond/obj", IfNoneMatch=etag))
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    expect(304, "304", lambda: S3.get_object(Bucket="boto", Key="cond/obj", IfModifiedSince=future))
    assert S3.get_object(Bucket="boto", Key="cond/obj", IfModifiedSince=past)["Body"].read() == data
    expect(412, "PreconditionFailed", lambda: S3.get_object(Bucket="boto", Key="cond/obj", IfUnmodifiedSince=past))
    expect(416, "InvalidRange", lambda: S3.get_object(Bucket="boto", Key="cond/obj", Range="bytes=2000000-"))
    h = S3.head_object(Bucket="boto", Key="cond/obj")
    assert h["ETag"] == etag and h["ContentLength"] == len(data) and h["AcceptRanges"] == "bytes"


def boto3_list_pagination_and_etags():
    mkbucket("boto-list")
    want = {}
    for i in range(23):
        key = "shards/%02d/part-%d.bin" % (i % 4, i)
        body = ("object %d " % i).encode() * (i + 1)
        S3.put_object(Bucket="boto-list", Key=key, Body=body)
        want[key] = hashlib.md5(body).hexdigest()
    S3.put_object(Bucket="boto-list", Key="top.txt", Body=b"top")
    want["top.txt"] = hashlib.md5(b"top").hexdigest()
    seen = {}
    pages = 0
    for page in S3.get_paginator("list_objects_v2").paginate(Bucket="boto-list", PaginationConfig={"PageSize": 5}):
        pages += 1
        assert page["KeyCount"] <= 5
        for c in page.get("Contents", []):
            seen[c["Key"]] = c["ETag"].strip('"')
    assert seen == want, (sorted(seen), sorted(want))
    assert pages == 5, pages
    v1 = []
    for page in S3.get_paginator("list_objects").paginate(Bucket="boto-list", PaginationConfig={"PageSize": 7}):
        v1 += [c["Key"] for c in page.get("Contents", [])]
    assert v1 == sorted(want), v1
    prefixes = []
    for page in S3.get_paginator("list_objects_v2").paginate(Bucket="boto-list", Prefix="shards/", Delimiter="/",
                                                           PaginationConfig={"PageSize": 3}):
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert prefixes == ["shards/00/", "shards/01/", "shards/02/", "shards/03/"], prefixes
    r = S3.list_objects_v2(Bucket="boto-list", StartAfter="shards/03/part-7.bin", EncodingType="url")
    assert [c["Key"] for c in r["Contents"]] == ["top.txt"], r


# ---- negative cases


def signed_raw(method, path, query="", body=b"", when=None, sk=SK, ak=AK, extra=None):
    """A request signed with SigV4 by hand (UNSIGNED-PAYLOAD), sent as given: nothing normalizes the path."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz = when.strftime("%Y%m%dT%H%M%SZ")
    scope = amz[:8] + "/us-east-1/s3/aws4_request"
    headers = {"host": URL.netloc, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": amz}
    signed = ";".join(sorted(headers))

    def enc(s, slash):
        return urllib.parse.quote(s, safe="/~" if slash else "~")
    pairs = sorted((enc(urllib.parse.unquote(k), False), enc(urllib.parse.unquote(v), False))
                   for k, _, v in (p.partition("=") for p in query.split("&") if p))
    canonical = "\n".join([method, enc(urllib.parse.unquote(path), True), "&".join("%s=%s" % p for p in pairs),
                           "".join("%s:%s\n" % (k, headers[k]) for k in sorted(headers)), signed,
                           "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + sk).encode()
    for part in (amz[:8], "us-east-1", "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        ak, scope, signed, sig)
    c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=60)
    c.putrequest(method, path + ("?" + query if query else ""), skip_host=True, skip_accept_encoding=True)
    for k2, v in headers.items():
        c.putheader(k2, v)
    for k2, v in (extra or {}).items():
        c.putheader(k2, v)
    c.putheader("content-length", str(len(body)))
    c.endheaders(body)
    r = c.getresponse()
    out = r.status, r.read().decode()
    c.close()
    return out


def raw_code(resp):
    status, body = resp
    code = body.split("<Code>")[1].split("</Code>")[0] if "<Code>" in body else None
    return status, code


def negative_buckets_and_keys():
    expect(404, "NoSuchBucket", lambda: S3.list_objects_v2(Bucket="no-such-bucket"))
    expect(404, "NoSuchBucket", lambda: S3.put_object(Bucket="no-such-bucket", Key="k", Body=b"x"))
    mkbucket("neg")
    expect(404, "NoSuchKey", lambda: S3.get_object(Bucket="neg", Key="missing"))
    expect(409, "BucketAlreadyOwnedByYou", lambda: S3.create_bucket(Bucket="neg"))
    S3.put_object(Bucket="neg", Key="keep", Body=b"x")
    expect(409, "BucketNotEmpty", lambda: S3.delete_bucket(Bucket="neg"))
    assert raw_code(signed_raw("PUT", "/Bad_Bucket")) == (400, "InvalidBucketName")
    # /api/v1/... is the repository's REST API on the same port: no bucket may be called "api"
    assert raw_code(signed_raw("PUT", "/api")) == (400, "InvalidBucketName")
    for key in ("a/../b", "..", "./x", "a//b", "a/%2E%2E/b", "x/."):
        got = raw_code(signed_raw("PUT", "/neg/" + key, body=b"x"))
        assert got == (400, "InvalidArgument"), (key, got)
    assert [c["Key"] for c in S3.list_objects_v2(Bucket="neg")["Contents"]] == ["keep"]
    assert raw_code(signed_raw("GET", "/neg", "list-type=2&max-keys=-1")) == (400, "InvalidArgument")
    assert raw_code(signed_raw("GET", "/neg", "list-type=2&encoding-type=base64")) == (400, "InvalidArgument")
    bad = b"<Delete><Object><Key>x</Oops>"
    md5 = base64.b64encode(hashlib.md5(bad).digest()).decode()
    assert raw_code(signed_raw("POST", "/neg", "delete", body=bad, extra={"content-md5": md5})) == (400, "MalformedXML")
    assert raw_code(signed_raw("POST", "/neg", "delete", body=bad)) == (400, "InvalidRequest")


def negative_auth():
    expect(403, "SignatureDoesNotMatch", lambda: client(AK, "wrong-secret").list_buckets())
    expect(403, "InvalidAccessKeyId", lambda: client("AKNOBODY", "x").list_buckets())
    mkbucket("neg")
    ro = client(RO_AK, RO_SK)
    ro.list_objects_v2(Bucket="neg")
    expect(403, "AccessDenied", lambda: ro.put_object(Bucket="neg", Key="ro", Body=b"x"))
    expect(403, "AccessDenied", lambda: ro.delete_object(Bucket="neg", Key="keep"))
    expect(403, "AccessDenied", lambda: ro.create_bucket(Bucket="neg-ro"))
    skewed = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=30)
    assert raw_code(signed_raw("GET", "/", when=skewed)) == (403, "RequestTimeTooSkewed")
    c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=60)
    c.request("GET", "/neg")
    r = c.getresponse()
    assert r.status == 403 and "<Code>AccessDenied</Code>" in r.read().decode()
    c.close()


def negative_bodies_and_multipart():
    mkbucket("neg")
    expect(400, "BadDigest", lambda: S3.put_object(Bucket="neg", Key="bad-md5", Body=b"some bytes",
                                                   ContentMD5=base64.b64encode(hashlib.md5(b"other").digest()).decode()))
    expect(404, "NoSuchKey", lambda: S3.get_object(Bucket="neg", Key="bad-md5"))
    expect(400, "InvalidDigest", lambda: S3.put_object(Bucket="neg", Key="bad-md5", Body=b"x", ContentMD5="nope"))
    expect(404, "NoSuchUpload", lambda: S3.upload_part(Bucket="neg", Key="k", UploadId="0" * 32, PartNumber=1,
                                                       Body=b"x"))
    up = S3.create_multipart_upload(Bucket="neg", Key="mp")["UploadId"]
    e1 = S3.upload_part(Bucket="neg", Key="mp", UploadId=up, PartNumber=1, Body=b"a" * 100)["ETag"]
    e2 = S3.upload_part(Bucket="neg", Key="mp", UploadId=up, PartNumber=2, Body=b"b" * 100)["ETag"]
    expect(400, "InvalidPart", lambda: S3.complete_multipart_upload(
        Bucket="neg", Key="mp", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 3, "ETag": e1}]}))
    expect(400, "InvalidPart", lambda: S3.complete_multipart_upload(
        Bucket="neg", Key="mp", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e2}]}))
    expect(400, "InvalidPartOrder", lambda: S3.complete_multipart_upload(
        Bucket="neg", Key="mp", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]}))
    expect(400, "EntityTooSmall", lambda: S3.complete_multipart_upload(
        Bucket="neg", Key="mp", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}))
    expect(400, "InvalidArgument", lambda: S3.upload_part(Bucket="neg", Key="mp", UploadId=up, PartNumber=0,
                                                          Body=b"x"))
    expect(404, "NoSuchKey", lambda: S3.get_object(Bucket="neg", Key="mp"))
    S3.abort_multipart_upload(Bucket="neg", Key="mp", UploadId=up)
    expect(404, "NoSuchUpload", lambda: S3.abort_multipart_upload(Bucket="neg", Key="mp", UploadId=up))
    assert raw_code(signed_raw("POST", "/neg/mp2", "uploadId=" + "1" * 32, body=b"<Complete")) == (400,
                                                                                                  "MalformedXML")


def negative_not_implemented():
    mkbucket("neg")
    for fn in (lambda: S3.get_bucket_versioning(Bucket="neg"),
               lambda: S3.put_bucket_versioning(Bucket="neg", VersioningConfiguration={"Status": "Enabled"}),
               lambda: S3.get_bucket_acl(Bucket="neg"),
               lambda: S3.put_object_acl(Bucket="neg", Key="keep", ACL="public-read"),
               lambda: S3.get_bucket_lifecycle_configuration(Bucket="neg"),
               lambda: S3.get_object_lock_configuration(Bucket="neg"),
               lambda: S3.get_bucket_encryption(Bucket="neg"),
               lambda: S3.put_object(Bucket="neg", Key="sse", Body=b"x", ServerSideEncryption="AES256"),
               lambda: S3.put_object(Bucket="neg", Key="acl", Body=b"x", ACL="public-read"),
               lambda: S3.get_object_tagging(Bucket="neg", Key="keep")):
        expect(501, "NotImplemented", fn)


# ---- the FUSE mount of the same volume


def fuse_objects_visible_in_mount():
    mkbucket("shared")
    data = random.Random(8).randbytes((6 << 20) + 123)
    S3.put_object(Bucket="shared", Key="from-s3/weights.bin", Body=data)
    path = os.path.join(MNT, "shared", "from-s3", "weights.bin")
    deadline = time.time() + 10
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.2)
    with open(path, "rb") as f:
        assert f.read() == data, "the mount serves other bytes"
    src = os.path.join(WORK, "big.bin")
    if os.path.exists(src):
        S3.upload_file(src, "shared", "from-s3/big.bin")
        assert filecmp.cmp(src, os.path.join(MNT, "shared", "from-s3", "big.bin"), shallow=False)


def fuse_files_served_by_gateway():
    mkbucket("shared")
    d = os.path.join(MNT, "shared", "from-mount", "ckpt")
    os.makedirs(d, exist_ok=True)
    data = random.Random(9).randbytes(3 << 20)
    with open(os.path.join(d, "step-100.pt"), "wb") as f:
        f.write(data)
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("written through the mount\n")
    time.sleep(1.2)  # the mount's attribute cache (1 s) and close-to-open: the gateway opens after the close
    keys = [c["Key"] for c in S3.list_objects_v2(Bucket="shared", Prefix="from-mount/")["Contents"]]
    assert keys == ["from-mount/ckpt/notes.txt", "from-mount/ckpt/step-100.pt"], keys
    top = S3.list_objects_v2(Bucket="shared", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["from-mount/", "from-s3/"], top
    got = S3.get_object(Bucket="shared", Key="from-mount/ckpt/step-100.pt")
    assert got["Body"].read() == data
    # Not written through the gateway: an ETag that is no MD5 (multipart form), so no client compares it.
    assert got["ETag"].strip('"').endswith("-1"), got["ETag"]
    assert S3.get_object(Bucket="shared", Key="from-mount/ckpt/notes.txt", Range="bytes=0-6")["Body"].read() == b"written"
    # Deleted through the gateway: gone from the mount.
    S3.delete_object(Bucket="shared", Key="from-mount/ckpt/notes.txt")
    time.sleep(1.2)
    assert not os.path.exists(os.path.join(d, "notes.txt"))


# ---- two gateway processes on one volume


def two_clients():
    other = os.environ["S3_ENDPOINT2"]
    c2 = boto3.client("s3", endpoint_url=other, region_name="us-east-1", aws_access_key_id=AK,
                      aws_secret_access_key=SK,
                      config=botocore.config.Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                                    retries={"max_attempts": 1}))
    return [S3, c2]


def twogateways_multipart_alternating():
    gws = two_clients()
    mkbucket("two")
    up = gws[0].create_multipart_upload(Bucket="two", Key="ckpt/model.bin")["UploadId"]
    parts = []
    blobs = []
    for n in range(1, 5):
        body = random.Random(100 + n).randbytes((5 << 20) if n < 4 else 777)
        blobs.append(body)
        etag = gws[n % 2].upload_part(Bucket="two", Key="ckpt/model.bin", UploadId=up, PartNumber=n, Body=body)["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
    listed = gws[1].list_parts(Bucket="two", Key="ckpt/model.bin", UploadId=up)["Parts"]
    assert [p["PartNumber"] for p in listed] == [1, 2, 3, 4], listed
    assert [u["UploadId"] for u in gws[0].list_multipart_uploads(Bucket="two")["Uploads"]] == [up]
    res = gws[1].complete_multipart_upload(Bucket="two", Key="ckpt/model.bin", UploadId=up,
                                           MultipartUpload={"Parts": parts})
    want = hashlib.md5(b"".join(hashlib.md5(b).digest() for b in blobs)).hexdigest() + "-4"
    assert res["ETag"].strip('"') == want, res
    for gw in gws:
        got = gw.get_object(Bucket="two", Key="ckpt/model.bin")
        assert got["ETag"].strip('"') == want and got["Body"].read() == b"".join(blobs)


def twogateways_racing_puts_and_gets():
    import threading
    gws = two_clients()
    mkbucket("two")
    bodies = [random.Random(200 + i).randbytes(3 << 20) for i in range(2)]
    digests = {hashlib.md5(b).hexdigest() for b in bodies}
    gws[0].put_object(Bucket="two", Key="race", Body=bodies[0])
    errors = []
    seen = []

    def writer(i):
        try:
            for _ in range(4):
                gws[i].put_object(Bucket="two", Key="race", Body=bodies[i])
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    def reader(i):
        try:
            for _ in range(8):
                r = gws[i].get_object(Bucket="two", Key="race")
                data = r["Body"].read()
                seen.append((hashlib.md5(data).hexdigest(), r["ETag"].strip('"')))
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    threads = [threading.Thread(target=writer, args=(0,)), threading.Thread(target=writer, args=(1,)),
               threading.Thread(target=reader, args=(0,)), threading.Thread(target=reader, args=(1,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # Every GET saw one whole object, its ETag that of its bytes.
    for md5, etag in seen:
        assert md5 in digests and md5 == etag, (md5, etag)
    final = [hashlib.md5(gw.get_object(Bucket="two", Key="race")["Body"].read()).hexdigest() for gw in gws]
    assert final[0] == final[1] and final[0] in digests, final


def gateway_scrape():
    """The first gateway runtime's /metrics (run.sh gives it --runtime-dir WORK/gateway): {(name, labels): v}."""
    with open(os.path.join(WORK, "gateway", "run", "metrics.url")) as f:
        url = f.read().strip()
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            head, value = line.rsplit(" ", 1)
            out[head] = float(value)
    return out


def metric(scrape, name, **labels):
    """The sum of the samples of name whose labels include labels."""
    total = 0.0
    for head, v in scrape.items():
        n, _, rest = head.partition("{")
        if n == name and all(f'{k}="{x}"' in rest for k, x in labels.items()):
            total += v
    return total


def boto3_gateway_metrics_count_requests():
    mkbucket("metered")
    before = gateway_scrape()
    body = random.Random(9).randbytes(300_000)
    for i in range(5):
        S3.put_object(Bucket="metered", Key=f"m{i}", Body=body)
    for i in range(3):
        assert S3.get_object(Bucket="metered", Key=f"m{i}")["Body"].read() == body
    assert code_of(lambda: S3.get_object(Bucket="metered", Key="absent")) == (404, "NoSuchKey")
    time.sleep(0.5)  # the last response's end is counted just after the client has it
    after = gateway_scrape()
    d = lambda name, **l: metric(after, name, **l) - metric(before, name, **l)
    n = "hangar_s3_request_duration_seconds_count"
    assert d(n, method="PUT", target="object", status="200") == 5, d(n, method="PUT", target="object", status="200")
    assert d(n, method="GET", target="object", status="200") == 3, d(n, method="GET", target="object", status="200")
    assert d(n, method="GET", target="object", status="404") == 1, d(n, method="GET", target="object", status="404")
    assert d("hangar_s3_received_bytes_total") >= 5 * len(body), d("hangar_s3_received_bytes_total")
    assert d("hangar_s3_sent_bytes_total") >= 3 * len(body), d("hangar_s3_sent_bytes_total")
    # The volume under the gateway counts the same bytes into its store.
    assert d("hangar_object_request_data_bytes_total", method="PUT") >= 5 * len(body)


SUITES = {
    "awscli": [aws_cp_200mib_multipart_both_ways, aws_sync_model_directory, aws_ls_and_rm, aws_s3api_operations],
    "s3cmd": [s3cmd_put_get_ls_del],
    "boto3": [boto3_presigned_urls, boto3_conditional_and_ranged_gets, boto3_list_pagination_and_etags,
              boto3_gateway_metrics_count_requests],
    "negative": [negative_buckets_and_keys, negative_auth, negative_bodies_and_multipart, negative_not_implemented],
    "fuse": [fuse_objects_visible_in_mount, fuse_files_served_by_gateway],
    "twogateways": [twogateways_multipart_alternating, twogateways_racing_puts_and_gets],
}

if __name__ == "__main__":
    print("== s3 %s" % SUITE, flush=True)
    for t in SUITES[SUITE]:
        CASES.run(t)
    failed = CASES.failed()
    print("s3 %s: %d passed, %d failed" % (SUITE, len(CASES.done) - failed, failed))
    sys.exit(1 if failed else 0)
