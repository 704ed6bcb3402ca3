#!/usr/bin/env bash
# Sync between two volumes on two Ceph pools, in one run (two Redis servers, the Ceph test cluster of
# HANGAR_CEPH_ENV, pools made here and deleted after):
#   1. a full sync of a FILES-file model of FILE_MIB MiB each, next to `rados cppool` of the same objects into
#      a third pool: wall time, block bytes copied, throughput ratio;
#   2. an incremental sync after one file was rewritten: bytes copied next to that file's size;
#   3. a sync of a snapshot (`cp -r` through the source's mount, which clones by copy_file_range): bytes copied;
#   4. a sync of a second model as large with --warm-group (the destination's cache group: one mount), as the
#      tag-driven strategy runs it: wall time next to (model bytes / the full sync's throughput) + 5 s;
#   5. juicefs-sync-style full-file copying through two mounts (`cp -r` from the source's mount to the
#      destination's), next to the full sync.
#   HANGAR_CEPH_ENV=DIR/env bench/sync-bench.sh [FILE_MIB=100] [FILES=20]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
file_mib=${1:-100}
files=${2:-20}
env_file=${HANGAR_CEPH_ENV:?set HANGAR_CEPH_ENV to a Ceph test cluster env file (scripts/ceph-test-cluster.sh up DIR)}
# shellcheck disable=SC1090
. "$env_file"
work=$(mktemp -d /var/tmp/hangar-sync-bench.XXXXXX)
ceph_=(ceph -c "$CEPH_CONF" --id "$CEPH_USER")
rados_=(rados -c "$CEPH_CONF" --id "$CEPH_USER")
pa=bench-sync-a-$$ pb=bench-sync-b-$$ pr=bench-sync-raw-$$
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
  for m in "$work"/mnt-*; do [ -d "$m" ] && { "$top/hangar" umount "$m" >/dev/null 2>&1 || fusermount3 -uz "$m" 2>/dev/null || true; }; done
  kill "${pids[@]}" 2>/dev/null || true
  for p in "$pa" "$pb" "$pr"; do "${ceph_[@]}" osd pool delete "$p" "$p" --yes-i-really-really-mean-it >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
metas=()
for site in a b; do
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save "" --dbfilename "$site.rdb" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  metas+=("redis://127.0.0.1:$port/1")
done
A=${metas[0]} B=${metas[1]}
for p in "$pa" "$pb" "$pr"; do
  "${ceph_[@]}" osd pool create "$p" 32 32 >/dev/null 2>&1
  "${ceph_[@]}" osd pool application enable "$p" rados >/dev/null 2>&1
done
"$top/hangar" format "$A" site-a --storage "rados://$pa?conf=$CEPH_CONF&user=$CEPH_USER" >/dev/null
"$top/hangar" format "$B" site-b --storage "rados://$pb?conf=$CEPH_CONF&user=$CEPH_USER" >/dev/null
now() { date +%s.%N; }
secs() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
mibs() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
objects() { "${rados_[@]}" -p "$1" ls | grep -c /chunks/ || true; }
copied() { sed -n 's/.* \([0-9.]* [KMG]*i*B\) in \([0-9]*\) blocks copied in \([0-9.]*\) s.*/\1 \2 \3/p' <<<"$1"; }

mkdir -p "$work/mnt-a" "$work/mnt-b"
"$top/hangar" mount -d "$A" "$work/mnt-a" --runtime-dir "$work/home-a" --metrics off >/dev/null
"$top/hangar" mount -d "$B" "$work/mnt-b" --runtime-dir "$work/home-b" --metrics off --cache-dir "$work/cache-b" \
  --disk-cache-size "$((file_mib * files * 3))M" --free-space-ratio 0.01 --cache-group bench \
  --group-address "127.0.0.1:$(free_port)" >/dev/null
mkdir -p "$work/mnt-a/model"
for i in $(seq -w 1 "$files"); do
  dd if=/dev/urandom of="$work/mnt-a/model/shard-$i.bin" bs=1M count="$file_mib" conv=fsync status=none
done
total_mib=$((file_mib * files))
echo "model: $files files of $file_mib MiB ($total_mib MiB) at site A"

t0=$(now); "${rados_[@]}" cppool "$pa" "$pr" >/dev/null 2>&1; t1=$(now)
raw_s=$(secs "$t0" "$t1"); raw_mibs=$(mibs "$total_mib" "$raw_s")
echo "rados cppool of the same objects: $raw_s s ($raw_mibs MiB/s)"

out=$("$top/hangar" sync "$A" "$B" --path /model --threads 16)
echo "$out" | sed 's/^/  /'
read -r sz szu blocks sync_s <<<"$(copied "$out")"
sync_mibs=$(mibs "$total_mib" "$sync_s")
echo "full sync: $sync_s s, $sz $szu in $blocks blocks ($sync_mibs MiB/s) = $(ratio "$sync_mibs" "$raw_mibs") of rados cppool (target 0.70)"

dd if=/dev/urandom of="$work/mnt-a/model/shard-$(printf "%0${#files}d" 7).bin" bs=1M count="$file_mib" conv=fsync status=none
out=$("$top/hangar" sync "$A" "$B" --path /model --threads 16)
echo "incremental sync after one $file_mib MiB file changed: $(copied "$out" | awk '{print $1, $2, "in", $3, "blocks,", $4, "s"}') (target: $file_mib MiB)"

before=$(objects "$pa")
cp -r "$work/mnt-a/model" "$work/mnt-a/model-snap"
echo "snapshot at A by cp -r (copy_file_range): $(( $(objects "$pa") - before )) new objects at A"
out=$("$top/hangar" sync "$A" "$B" --path /model-snap --threads 16)
echo "sync of the snapshot: $(copied "$out" | awk '{print $1, $2, "in", $3, "blocks,", $4, "s"}') (target 0 B)"

# Sync with the warm-up into B's cache group (what a tag-driven strategy does), on a second model as large.
mkdir -p "$work/mnt-a/model2"
for i in $(seq -w 1 "$files"); do
  dd if=/dev/urandom of="$work/mnt-a/model2/shard-$i.bin" bs=1M count="$file_mib" conv=fsync status=none
done
t0=$(now)
out=$("$top/hangar" sync "$A" "$B" --path /model2 --threads 16 --warm-group bench)
t1=$(now)
echo "$out" | sed 's/^/  /'
bound=$(python3 -c "print('%.2f' % ($total_mib / $sync_mibs + 5))")
echo "sync + warm of a second model into B's group: $(secs "$t0" "$t1") s wall (command included), bound (model / sync throughput) + 5 s = $bound s"

sync; echo 3 >/proc/sys/vm/drop_caches
t0=$(now); cp -r "$work/mnt-a/model" "$work/mnt-b/model-by-cp"; sync; t1=$(now)
cp_s=$(secs "$t0" "$t1")
echo "full-file copy through two mounts (cp -r): $cp_s s ($(mibs "$total_mib" "$cp_s") MiB/s); full sync $sync_s s = $(ratio "$cp_s" "$sync_s")x faster"
