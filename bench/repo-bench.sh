#!/usr/bin/env bash
# The model repository's push next to md5sum and aws s3 sync, in one run, on a fresh `./hangar up`:
#   1. push of a SIZE model of FILES files (./hangar model push), next to md5sum of the same files and
#      aws s3 sync of the same directory to the same runtime's S3 gateway;
#   2. re-push unchanged (target: within 1.2x of md5sum, zero bytes sent and stored);
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

t0=$(now); (cd "$src" && md5sum ./* >/dev/null); t1=$(now); md5=$(secs "$t0" "$t1")
s0=$(stored); t0=$(now); "$top/hangar" model push "$src" bench/m1 --threads 4 >"$work/push1.txt"; t1=$(now); s1=$(stored)
push1=$(secs "$t0" "$t1")
aws s3 mb s3://sync-ref --endpoint-url "$server" >/dev/null
t0=$(now); aws s3 sync "$src" s3://sync-ref/m --endpoint-url "$server" --only-show-errors; t1=$(now)
sync1=$(secs "$t0" "$t1")
s2=$(stored); t0=$(now); "$top/hangar" model push "$src" bench/m1 --threads 4 >"$work/push2.txt"; t1=$(now); s3=$(stored)
push2=$(secs "$t0" "$t1")
head -c "$((per << 20))" /dev/urandom >"$src/model-01.safetensors"
s4=$(stored); t0=$(now); "$top/hangar" model push "$src" bench/m1 --threads 4 >"$work/push3.txt"; t1=$(now); s5=$(stored)
push3=$(secs "$t0" "$t1")

echo "size ${size_mib} MiB in $files files; md5sum ${md5} s"
printf '%-32s %9s %10s %12s %s\n' step seconds "MiB/s" "stored MiB" "push summary"
mibs() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$size_mib" "$1"; }
printf '%-32s %9s %10s %12s %s\n' "push (first)" "$push1" "$(mibs "$push1")" "$(((s1 - s0) >> 20))" "$(tail -1 "$work/push1.txt")"
printf '%-32s %9s %10s %12s\n' "aws s3 sync (same gateway)" "$sync1" "$(mibs "$sync1")" "-"
printf '%-32s %9s %10s %12s %s\n' "re-push unchanged" "$push2" "-" "$(((s3 - s2) >> 20))" "$(tail -1 "$work/push2.txt")"
printf '%-32s %9s %10s %12s %s\n' "push, one file changed" "$push3" "-" "$(((s5 - s4) >> 20))" "$(tail -1 "$work/push3.txt")"
python3 -c "import sys; print('ratios: first push / aws s3 sync throughput %.2f; re-push / md5sum time %.2f' % (float(sys.argv[2]) / float(sys.argv[1]), float(sys.argv[3]) / float(sys.argv[4])))" "$push1" "$sync1" "$push2" "$md5"

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
