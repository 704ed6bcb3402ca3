#!/usr/bin/env bash
# The model repository's push next to md5sum and aws s3 sync, in one run, on a fresh `./hangar up`:
#   1. push of a SIZE model of FILES files (./hangar model push), next to aws s3 sync of the same directory
#      to the same runtime's S3 gateway (each twice, in both orders; the best of each is compared);
#   2. re-push unchanged (target: within 1.2x of md5sum, zero bytes sent and stored), with the files in the
#      page cache and from disk, each next to md5sum of the same files in the same state;
#   3. push with one file changed (sends and stores only that file);
#   4. snapshots of a version of SMALL files (two sizes: time follows the file count, not bytes).
# Bytes stored = growth of the file store's directory; bytes sent = the push's own count.
#   bench/repo-bench.sh [SIZE_MIB=2048] [FILES=20] [SMALL=2000]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
size_mib=${1:-2048}
files=${2:-20}
small=${3:-2000}
work=$(mktemp -d /var/tmp/hangar-repo-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; sleep 2; fusermount3 -uz "$work/data/mnt" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
setsid "$top/hangar" up --data "$work/data" --no-shell </dev/null >"$work/up.log" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q '^ready' "$work/up.log" && [ -s "$work/data/etc/api-token" ] && break; sleep 1; done
server=$(awk '/^s3:/ {print $2}' "$work/up.log")
# "s3:  http://host:port  access key AK, secret key SK" (the secret may hold '-' and '_')
ak=$(awk '/^s3:/ {sub(",", "", $5); print $5}' "$work/up.log")
sk=$(awk '/^s3:/ {print $NF}' "$work/up.log")
export HANGAR_SERVER=$server HANGAR_TOKEN=$(cat "$work/data/etc/api-token")
export AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk AWS_DEFAULT_REGION=us-east-1
stored() { du -sb "$work/data/chunks" | cut -f1; }
secs() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
now() { date +%s.%N; }
curl -sf -XPOST -H "Authorization: Bearer $HANGAR_TOKEN" "$server/api/v1/teams" -d '{"name":"bench"}' >/dev/null

src="$work/model"
mkdir -p "$src"
per=$((size_mib / files))
for i in $(seq -w 1 "$files"); do head -c "$((per << 20))" /dev/urandom >"$src/model-$i.safetensors"; done
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true

# Both upload paths run once on a small model first, so neither measured run pays the runtime's JIT warm-up
# alone (the first push used to, and the sync after it ran on a warm VFS write path).
warm="$work/warm"; mkdir -p "$warm"
for i in 1 2 3 4; do head -c $((16 << 20)) /dev/urandom >"$warm/w$i"; done
"$top/hangar" model push "$warm" bench/warm-up --threads 4 >/dev/null
aws s3 mb s3://warm-up --endpoint-url "$server" >/dev/null
aws s3 sync "$warm" s3://warm-up/w --endpoint-url "$server" --only-show-errors

drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
md5() { local t0 t1; t0=$(now); (cd "$src" && md5sum ./* >/dev/null); t1=$(now); secs "$t0" "$t1"; }
drop; md5_cold=$(md5); md5_warm=$(md5)
push() { # push TARGET OUT: prints the seconds
  local t0 t1; t0=$(now); "$top/hangar" model push "$src" "$1" --threads 4 >"$2"; t1=$(now); secs "$t0" "$t1"; }
sync_to() { local t0 t1; t0=$(now); aws s3 sync "$src" "$1" --endpoint-url "$server" --only-show-errors; t1=$(now); secs "$t0" "$t1"; }
aws s3 mb s3://sync-ref --endpoint-url "$server" >/dev/null
curl -sf -XPOST -H "Authorization: Bearer $HANGAR_TOKEN" "$server/api/v1/teams" -d '{"name":"bench2"}' >/dev/null
# The first push against aws s3 sync, twice, in both orders (whichever runs second finds the runtime warmer);
# the files are in the page cache for all four. The second push goes to another team, which knows none of
# the files' sizes or MD5s: a first push again.
s0=$(stored); push1a=$(push bench/m1 "$work/push1.txt"); s1=$(stored)
sync1a=$(sync_to s3://sync-ref/a)
sync1b=$(sync_to s3://sync-ref/b)
push1b=$(push bench2/m1 "$work/push1b.txt")
best() { python3 -c "import sys; print(min(sys.argv[1:], key=float))" "$@"; }
push1=$(best "$push1a" "$push1b"); sync1=$(best "$sync1a" "$sync1b")
# The unchanged re-push next to md5sum of the same files, with the files in the page cache, then on disk.
s2=$(stored); push2=$(push bench/m1 "$work/push2.txt"); s3=$(stored)
drop; push2c=$(push bench/m1 "$work/push2c.txt")
head -c "$((per << 20))" /dev/urandom >"$src/model-01.safetensors"
s4=$(stored); push3=$(push bench/m1 "$work/push3.txt"); s5=$(stored)

echo "size ${size_mib} MiB in $files files; md5sum ${md5_warm} s (files in the page cache), ${md5_cold} s (from disk)"
printf '%-32s %9s %10s %12s %s\n' step seconds "MiB/s" "stored MiB" "push summary"
mibs() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$size_mib" "$1"; }
printf '%-32s %9s %10s %12s %s\n' "push (first), best of 2" "$push1" "$(mibs "$push1")" "$(((s1 - s0) >> 20))" "$(tail -1 "$work/push1.txt") (runs: $push1a, $push1b s)"
printf '%-32s %9s %10s %12s %s\n' "aws s3 sync, best of 2" "$sync1" "$(mibs "$sync1")" "-" "(runs: $sync1a, $sync1b s)"
printf '%-32s %9s %10s %12s %s\n' "re-push unchanged (cached)" "$push2" "-" "$(((s3 - s2) >> 20))" "$(tail -1 "$work/push2.txt")"
printf '%-32s %9s %10s %12s %s\n' "re-push unchanged (from disk)" "$push2c" "-" "-" "$(tail -1 "$work/push2c.txt")"
printf '%-32s %9s %10s %12s %s\n' "push, one file changed" "$push3" "-" "$(((s5 - s4) >> 20))" "$(tail -1 "$work/push3.txt")"
python3 -c "import sys; a = [float(x) for x in sys.argv[1:]]; print('ratios: first push / aws s3 sync throughput %.2f; re-push / md5sum time %.2f cached, %.2f from disk' % (a[1] / a[0], a[2] / a[3], a[4] / a[5]))" "$push1" "$sync1" "$push2" "$md5_warm" "$push2c" "$md5_cold"

# Snapshots: a version of N small files and one of 2N, each snapshot timed through the API.
for n in "$small" "$((small * 2))"; do
  d="$work/small-$n"; mkdir -p "$d"
  python3 - "$d" "$n" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    sub = os.path.join(d, "shard-%03d" % (i // 500))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%05d.bin" % i), "wb") as f:
        f.write(os.urandom(4096))
PY
  "$top/hangar" model push "$d" "bench/small$n" --threads 4 >/dev/null
  ver=$(curl -sf -H "Authorization: Bearer $HANGAR_TOKEN" "$server/api/v1/teams/bench/models/small$n/versions" | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["number"])')
  s6=$(stored); t0=$(now)
  curl -sf -XPOST -H "Authorization: Bearer $HANGAR_TOKEN" "$server/api/v1/teams/bench/models/small$n/versions" -d "{\"from\":\"$ver\"}" >/dev/null
  t1=$(now); s7=$(stored)
  echo "snapshot of $n files ($((n * 4)) KiB): $(secs "$t0" "$t1") s, $(((s7 - s6))) bytes stored"
done
