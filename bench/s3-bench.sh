#!/usr/bin/env bash
# S3 gateway figures, side by side in one run (docs/gateway.md, "Figures"): `aws s3 cp` of a 1 GiB object up
# and down (multipart, awscli defaults), 64 threads of 4 KiB PUTs then GETs (bench/s3_small.py, boto3), against
#   * the gateway (`hangar gateway -d`) on a fresh volume with SQLite metadata and the file store, and
#   * radosgw of a single-node Ceph started here (scripts/ceph-test-cluster.sh), unless S3_BENCH_RADOSGW=0,
#   * the gateway on a volume with SQLite metadata and that cluster's RADOS pool (namespace s3bench);
# then the gateway's memory: 16 concurrent uploads of 256 MiB each (boto3 upload_file, 8 MiB parts) on a
# gateway runtime sized by `hangar gateway` (or HANGAR_RUNTIME_OPTS) and the volume's buffers and cache at
# 128 MiB each (S3_BENCH_VOLUME_OPTS), its peak RSS (VmHWM) after, and whether it ran out of heap.
# S3_BENCH_CLIENT=0 runs the memory part only, S3_BENCH_MEMORY=0 the client part only; S3_BENCH_RADOSGW=0
# leaves Ceph out.
# Everything is stopped by pid and removed at the end. As root; needs awscli and python3-boto3.
#   bench/s3-bench.sh [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
work=${1:-$(mktemp -d /tmp/hangar-s3-bench.XXXXXX)}
mkdir -p "$work"
py=/usr/bin/python3
gw_pid=""
ceph=""
cleanup() {
  [ -n "$gw_pid" ] && kill -TERM "$gw_pid" 2>/dev/null && for _ in $(seq 1 300); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.2; done
  [ -n "$ceph" ] && "$top/scripts/ceph-test-cluster.sh" down "$ceph" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export AWS_ACCESS_KEY_ID=BENCHKEY AWS_SECRET_ACCESS_KEY=bench-secret-$$ AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_CA_BUNDLE
export HANGAR_S3_ACCESS_KEY=$AWS_ACCESS_KEY_ID HANGAR_S3_SECRET_KEY=$AWS_SECRET_ACCESS_KEY

start_gateway() { # NAME [GATEWAY OPTIONS]: a fresh volume and a gateway on it; sets gw_pid, gw_url
  local name=$1 port storage=${STORAGE:-file://$work/$1/chunks}
  port=$(free_port)
  "$top/hangar" format "sqlite://$work/$name/meta.db" "$name" --storage "$storage" >/dev/null
  "$top/hangar" gateway "sqlite://$work/$name/meta.db" --listen "127.0.0.1:$port" --runtime-dir "$work/$name/gw" -d \
    "${@:2}" >"$work/$name.out"
  gw_pid=$(sed -n 's/.*(runtime pid \([0-9]*\),.*/\1/p' "$work/$name.out")
  gw_url="http://127.0.0.1:$port"
}
stop_gateway() {
  kill -TERM "$gw_pid"; for _ in $(seq 1 300); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.2; done; gw_pid=""
}
timed() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'; }

[ "${S3_BENCH_CLIENT:-1}" = 1 ] && head -c 1G /dev/urandom >"$work/1g.bin"
run_client_bench() { # LABEL URL ACCESS SECRET
  local label=$1 url=$2 up down
  AWS_ACCESS_KEY_ID=$3 AWS_SECRET_ACCESS_KEY=$4 aws --endpoint-url "$url" s3 mb s3://bench >/dev/null 2>&1 || true
  up=$(AWS_ACCESS_KEY_ID=$3 AWS_SECRET_ACCESS_KEY=$4 timed aws --endpoint-url "$url" s3 cp --only-show-errors "$work/1g.bin" s3://bench/1g.bin)
  down=$(AWS_ACCESS_KEY_ID=$3 AWS_SECRET_ACCESS_KEY=$4 timed aws --endpoint-url "$url" s3 cp --only-show-errors s3://bench/1g.bin "$work/1g.down")
  cmp "$work/1g.bin" "$work/1g.down"
  rm -f "$work/1g.down"
  printf '%-28s 1 GiB PUT %6.2f s = %6.0f MiB/s   GET %6.2f s = %6.0f MiB/s\n' "$label" "$up" \
    "$(awk -v t="$up" 'BEGIN{print 1024/t}')" "$down" "$(awk -v t="$down" 'BEGIN{print 1024/t}')"
  "$py" "$here/s3_small.py" "$url" "$3" "$4" bench-small 64 6400 4096 | sed "s/^/$(printf '%-28s' "$label") 64 x 4 KiB /"
}

if [ "${S3_BENCH_CLIENT:-1}" = 1 ]; then
echo "== client benchmarks (nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg))"
start_gateway files
run_client_bench "gateway (sqlite + file store)" "$gw_url" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
echo "gateway RSS after: $(awk '/VmHWM/{print $2/1024 " MiB peak"}' /proc/"$gw_pid"/status)"
stop_gateway
if [ "${S3_BENCH_RADOSGW:-1}" = 1 ]; then
  ceph="$work/ceph"
  "$top/scripts/ceph-test-cluster.sh" up "$ceph" >/dev/null
  # shellcheck disable=SC1091
  . "$ceph/env"
  run_client_bench "radosgw (single-node Ceph)" "$RGW_ENDPOINT" "$S3_ACCESS_KEY" "$S3_SECRET_KEY"
  STORAGE="rados://$RADOS_POOL/s3bench?conf=$CEPH_CONF&user=$CEPH_USER&keyring=$CEPH_KEYRING" start_gateway rados
  run_client_bench "gateway (sqlite + RADOS)" "$gw_url" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
  stop_gateway
  "$top/scripts/ceph-test-cluster.sh" down "$ceph" >/dev/null
  ceph=""
fi
fi

[ "${S3_BENCH_MEMORY:-1}" = 1 ] || exit 0
# hangar gateway sizes the runtime's JVM from these options and its --body-buffer/--max-connections (docs/gateway.md,
# "Streaming and memory"); HANGAR_RUNTIME_OPTS with an -Xmx of its own replaces that.
mem_volume=${S3_BENCH_VOLUME_OPTS:---buffer-size 128M --cache-size 128M}
echo "== memory: 16 concurrent 256 MiB uploads, runtime options ${HANGAR_RUNTIME_OPTS:-(sized by hangar gateway)}, volume $mem_volume"
export HANGAR_RUNTIME_OPTS=${HANGAR_RUNTIME_OPTS:-}
# shellcheck disable=SC2086
start_gateway mem $mem_volume
"$py" - "$gw_url" "$work" <<'PY'
import boto3, botocore.config, concurrent.futures, os, sys, time
url, work = sys.argv[1:3]
src = os.path.join(work, "256m.bin")
with open(src, "wb") as f:
    f.write(os.urandom(256 << 20))
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  config=botocore.config.Config(s3={"addressing_style": "path"}, max_pool_connections=64))
s3.create_bucket(Bucket="mem")
t = time.time()
with concurrent.futures.ThreadPoolExecutor(16) as ex:
    list(ex.map(lambda i: s3.upload_file(src, "mem", "obj-%02d" % i), range(16)))
d = time.time() - t
print("16 x 256 MiB uploaded in %.1f s = %.0f MiB/s" % (d, 16 * 256 / d))
PY
echo "gateway JVM: $(tr '\0' '\n' < /proc/"$gw_pid"/cmdline | grep -E '^-X(mx|ms|X:MaxDirect)' | tr '\n' ' ')"
echo "gateway RSS: $(awk '/VmHWM/{print $2/1024 " MiB peak"}' /proc/"$gw_pid"/status), $(awk '/VmRSS/{print $2/1024 " MiB now"}' /proc/"$gw_pid"/status); OutOfMemoryError in its log: $(grep -c OutOfMemoryError "$work/mem/gw/runtime.log" || true)"
stop_gateway
