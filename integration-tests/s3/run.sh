#!/usr/bin/env bash
# The S3 gateway with real clients (as root): a freshly formatted volume (SQLite metadata, file store) served
# by `./hangar gateway -d` (the runtime, the DS component) and mounted with `./hangar mount -d`, then the
# suites of s3_suite.py, each under its own time limit, each writing integration-tests/s3/target/reports/
# TEST-s3-<suite>.xml for scripts/junit-summary.py:
#
#   awscli    aws s3 cp of 200 MiB up and down (multipart both ways, bytes and ETag compared), aws s3 sync
#             of a model-like directory (config, tokenizer files, safetensors shards) up and back, aws s3
#             ls/rm, aws s3api calls for the bucket, object, listing, copy and multipart operations
#   s3cmd     s3cmd mb/put/get/ls/del/rb, a 40 MiB multipart put, MD5 checks
#   boto3     presigned GET/PUT (tampered and expired URLs), conditional and ranged GETs, list pagination
#             (v1, v2, delimiters), ETags against MD5s computed here
#   negative  every error case asserted by HTTP status and S3 error code
#   fuse      objects written through the gateway read byte-exact through the mount, files written through
#             the mount listed and served by the gateway
#   twogateways  a second gateway process on the same volume: a multipart upload whose parts alternate
#             between the two and that completes on the other; PUTs and GETs of one key racing through both
#             (every GET sees one whole object, the last PUT wins)
#
# Nothing is skipped: not root, no aws/s3cmd/boto3 (scripts/install-deps.sh installs them), no usable FUSE,
# a gateway or mount that does not start: each is a failure with a report that says what is missing.
# Time limits (seconds; TERM then KILL 30 s later): awscli 1200, the others 600 each; starting the gateway
# or the mount 300. Here a whole run takes about two minutes. HANGAR_S3_KEEP=1 keeps the temporary folder
# (it is kept anyway when something failed). The last line says "s3: N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=../../scripts/junit.sh
. "$top/scripts/junit.sh"
reports=${HANGAR_S3_REPORTS:-$here/target/reports}
py=/usr/bin/python3
export LC_ALL=C.UTF-8
# Every suite, in the order they run (test.sh expects a report of each).
all_suites="awscli s3cmd boto3 negative fuse twogateways"
status=0
work=""
gw_pid=""
gw2_pid=""
mounted=""

mkdir -p "$reports"
rm -f "$reports"/TEST-s3-*.xml

fail_env() {
  echo "s3: FAILED: $1" >&2
  junit_failure "$reports/TEST-s3-environment.xml" s3.environment prerequisites "$1"
  for s in $all_suites; do
    [ -f "$reports/TEST-s3-$s.xml" ] || junit_failure "$reports/TEST-s3-$s.xml" "s3.$s" "(not run)" \
      "the suite did not run: $1"
  done
  cleanup
  echo "s3: 0 passed, 1 failed"
  exit 1
}

cleanup() {
  if [ -n "$mounted" ]; then
    "$top/hangar" umount "$mounted" >/dev/null 2>&1 || fusermount -u "$mounted" 2>/dev/null || true
    mounted=""
  fi
  local p
  for p in $gw_pid $gw2_pid; do
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
  gw_pid=""
  gw2_pid=""
}
trap 'cleanup; exit 143' TERM INT HUP

[ "$(id -u)" = 0 ] || fail_env "the S3 suites mount the volume with FUSE and need root"
command -v aws >/dev/null || fail_env "aws is missing (apt-get install -y awscli; scripts/install-deps.sh does)"
command -v s3cmd >/dev/null || fail_env "s3cmd is missing (apt-get install -y s3cmd)"
[ -x "$py" ] || fail_env "$py is missing"
"$py" -c 'import boto3' 2>/dev/null || fail_env "boto3 is missing for $py (apt-get install -y python3-boto3)"
[ -c /dev/fuse ] || fail_env "/dev/fuse is missing: the fuse suite needs a mount of the volume"
command -v fusermount >/dev/null || fail_env "fusermount is missing (apt-get install -y fuse3)"
[ -f "$top/cnf/target/hangar.jar" ] || fail_env "the runtime jar cnf/target/hangar.jar is not built (mvn install)"

work=$(mktemp -d /tmp/hangar-s3.XXXXXX)
meta="sqlite://$work/meta.db"
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export S3_AK="HANGARTESTFULL" S3_SK="full-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export S3_RO_AK="HANGARTESTREAD" S3_RO_SK="read-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cat >"$work/credentials.properties" <<CREDS
key.$S3_RO_AK.secret = $S3_RO_SK
key.$S3_RO_AK.read = *
CREDS

if ! timeout 300 "$top/hangar" format "$meta" s3test --storage "file://$work/chunks" >"$work/format.log" 2>&1; then
  fail_env "hangar format failed: $(tail -5 "$work/format.log")"
fi
if ! HANGAR_S3_ACCESS_KEY=$S3_AK HANGAR_S3_SECRET_KEY=$S3_SK timeout 300 "$top/hangar" gateway "$meta" \
  --listen "127.0.0.1:$port" --credentials "$work/credentials.properties" --runtime-dir "$work/gateway" -d \
  >"$work/gateway.out" 2>&1; then
  fail_env "the gateway did not start: $(tail -20 "$work/gateway.out")"
fi
gw_pid=$(sed -n 's/.*(runtime pid \([0-9]*\),.*/\1/p' "$work/gateway.out")
[ -n "$gw_pid" ] || fail_env "no runtime pid in the gateway's output: $(cat "$work/gateway.out")"
port2=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if ! HANGAR_S3_ACCESS_KEY=$S3_AK HANGAR_S3_SECRET_KEY=$S3_SK timeout 300 "$top/hangar" gateway "$meta" \
  --listen "127.0.0.1:$port2" --runtime-dir "$work/gateway2" -d >"$work/gateway2.out" 2>&1; then
  fail_env "the second gateway did not start: $(tail -20 "$work/gateway2.out")"
fi
gw2_pid=$(sed -n 's/.*(runtime pid \([0-9]*\),.*/\1/p' "$work/gateway2.out")
export S3_ENDPOINT2="http://127.0.0.1:$port2"
mkdir -p "$work/mnt"
if ! timeout 300 "$top/hangar" mount "$meta" "$work/mnt" --runtime-dir "$work/mount" -d >"$work/mount.out" 2>&1; then
  fail_env "the mount did not start: $(tail -20 "$work/mount.out")"
fi
mounted="$work/mnt"
echo "s3: gateways http://127.0.0.1:$port (pid $gw_pid) and $S3_ENDPOINT2 (pid $gw2_pid), mount $work/mnt, work $work"

passed=0
failed=0
for s in $all_suites; do
  limit=600
  [ "$s" = awscli ] && limit=1200
  timeout -k 30 "$limit" "$py" "$here/s3_suite.py" "$s" "http://127.0.0.1:$port" "$work/mnt" "$work" "$reports"
  rc=$?
  if [ $rc = 124 ] || [ $rc = 137 ]; then
    junit_failure "$reports/TEST-s3-$s-time-limit.xml" "s3.$s" "(time limit)" "the $s suite ran past ${limit}s"
  elif [ ! -f "$reports/TEST-s3-$s.xml" ]; then
    junit_failure "$reports/TEST-s3-$s.xml" "s3.$s" "(no report)" "the $s suite exited with $rc and no report"
  fi
  [ $rc = 0 ] || status=1
done
if ! kill -0 "$gw_pid" 2>/dev/null; then
  junit_failure "$reports/TEST-s3-gateway-alive.xml" s3.gateway alive "the gateway runtime died during the suites" \
    "$(tail -30 "$work/gateway/runtime.log")"
  status=1
fi
cleanup
for r in "$reports"/TEST-s3-*.xml; do
  t=$(sed -n 's/.*<testsuite[^>]* tests="\([0-9]*\)".*/\1/p' "$r" | head -1)
  f=$(sed -n 's/.*<testsuite[^>]* failures="\([0-9]*\)".*/\1/p' "$r" | head -1)
  passed=$((passed + ${t:-0} - ${f:-0}))
  failed=$((failed + ${f:-0}))
done
if [ $status = 0 ] && [ "${HANGAR_S3_KEEP:-0}" != 1 ]; then
  rm -rf "$work"
else
  echo "s3: kept $work"
fi
echo "s3: $passed passed, $failed failed"
exit $status
