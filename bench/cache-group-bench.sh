#!/usr/bin/env bash
# The cache group on RADOS, in one run (Redis metadata, the Ceph test cluster of HANGAR_CEPH_ENV, a RADOS
# namespace of its own; caches under /var/tmp):
#   1. cold start of READERS readers (READERS `hangar mount -d` processes, as that many pods would) of a SIZE
#      model, each reading it whole at once, without a group (each its own cache) and with one
#      (--cache-group): wall time and the bytes the object store served (GET bytes in each runtime's /metrics);
#   2. `hangar warmup` of the model into an empty disk cache, next to `rados bench seq` of as many 4 MiB
#      objects in the same pool (16 in flight), and next to that read with a direct write of as many bytes
#      to the cache's disk at once (what a warm-up does; on one machine the OSD's disk is the cache's);
#   3. a cold read (page cache dropped) through a new mount on that warm cache (every block from the disk),
#      next to dd of a file as large on the cache's disk.
#   Steps 2 and 3 are measured ROUNDS times, interleaved with their references, and the medians compared:
#   on a VM the disk's speed moves by half within minutes, so one-off pairs mislead.
#   HANGAR_CEPH_ENV=DIR/env [ROUNDS=3] bench/cache-group-bench.sh [SIZE_MIB=2048] [READERS=4]
# Start a cluster with scripts/ceph-test-cluster.sh up DIR.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
size_mib=${1:-2048}
readers=${2:-4}
env_file=${HANGAR_CEPH_ENV:?set HANGAR_CEPH_ENV to a Ceph test cluster env file (scripts/ceph-test-cluster.sh up DIR)}
# shellcheck disable=SC1090
. "$env_file"
work=$(mktemp -d /var/tmp/hangar-group-bench.XXXXXX)
ns="bench-$$"
rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$rport" --bind 127.0.0.1 --dir "$work" --save "" >/dev/null 2>&1 &
redis_pid=$!
rados_=(rados -c "$CEPH_CONF" --id "$CEPH_USER" -p "$RADOS_POOL")
cleanup() {
  for m in "$work"/mnt-*; do [ -d "$m" ] && { "$top/hangar" umount "$m" >/dev/null 2>&1 || fusermount3 -uz "$m" 2>/dev/null || true; }; done
  kill "$redis_pid" 2>/dev/null || true
  "${rados_[@]}" -N "$ns" ls 2>/dev/null | xargs -r -n 64 "${rados_[@]}" -N "$ns" rm 2>/dev/null || true
  "${rados_[@]}" cleanup --prefix benchmark_data >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
meta="redis://127.0.0.1:$rport/1"
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
secs() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
get_bytes() { curl -s "$1" | awk '/^hangar_object_request_data_bytes_total\{.*method="GET"/ {s+=$2} END {printf "%.0f", s}'; }
members_seen() { curl -s "$1" | awk '/^hangar_cachegroup_members\{/ {print int($2)}'; }

"$top/hangar" format "$meta" groupbench --storage "rados://$RADOS_POOL/$ns?conf=$CEPH_CONF&user=$CEPH_USER" >/dev/null
mkdir -p "$work/mnt-w"
"$top/hangar" mount -d "$meta" "$work/mnt-w" --runtime-dir "$work/home-w" --metrics off >/dev/null
dd if=/dev/urandom of="$work/mnt-w/model.bin" bs=4M count=$((size_mib / 4)) conv=fsync status=none
"$top/hangar" umount "$work/mnt-w" >/dev/null

# cold_start TAG [group options...]: READERS mounts, each with an empty cache of its own; all read at once.
cold_start() {
  local tag=$1; shift
  local urls=() i
  for i in $(seq "$readers"); do
    local mp="$work/mnt-$tag-$i" mport; mport=$(free_port)
    mkdir -p "$mp"
    local group=()
    [ $# -gt 0 ] && group=("$@" --group-address "127.0.0.1:$(free_port)")
    "$top/hangar" mount -d "$meta" "$mp" --runtime-dir "$work/home-$tag-$i" --cache-dir "$work/cache-$tag-$i" \
      --disk-cache-size "$((size_mib * 2))M" --free-space-ratio 0.01 --metrics "127.0.0.1:$mport" "${group[@]}" >/dev/null
    urls+=("http://127.0.0.1:$mport/metrics")
  done
  if [ $# -gt 0 ]; then
    for u in "${urls[@]}"; do
      for _ in $(seq 300); do [ "$(members_seen "$u")" = "$readers" ] && break; sleep 0.1; done
    done
  fi
  drop
  local before=0 after=0 u t0 t1
  for u in "${urls[@]}"; do before=$((before + $(get_bytes "$u"))); done
  t0=$(now)
  local pids=()
  for i in $(seq "$readers"); do dd if="$work/mnt-$tag-$i/model.bin" of=/dev/null bs=4M status=none & pids+=($!); done
  wait "${pids[@]}"
  t1=$(now)
  for u in "${urls[@]}"; do after=$((after + $(get_bytes "$u"))); done
  printf '%-44s %8s s %10s MiB from the store (%.2fx the model)\n' "$readers readers, $tag" "$(secs "$t0" "$t1")" \
    "$(( (after - before) >> 20 ))" "$(python3 -c "print(($after - $before) / ($size_mib << 20))")"
  for i in $(seq "$readers"); do "$top/hangar" umount "$work/mnt-$tag-$i" >/dev/null; done
}

echo "model ${size_mib} MiB on RADOS pool $RADOS_POOL (namespace $ns), $readers readers"
cold_start nogroup
cold_start group --cache-group bench

# rados bench seq over as many 4 MiB objects: written once, then read in each round (16 in flight, its
# default), after a warm-up of the model into a disk cache emptied by --evict.
rounds=${ROUNDS:-3}
median() { python3 -c "import sys, statistics; print('%.0f' % statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
own_rate() { sed -n 's/.*(\([0-9]*\) MiB\/s).*/\1/p' "$1"; }
objects=$((size_mib / 4))
"${rados_[@]}" bench 600 write -b 4194304 -t 16 --no-cleanup --max-objects "$objects" >"$work/rados-write.txt" 2>&1
mkdir -p "$work/mnt-warm"
"$top/hangar" mount -d "$meta" "$work/mnt-warm" --runtime-dir "$work/home-warm1" --cache-dir "$work/cache-warm" \
  --disk-cache-size "$((size_mib * 2))M" --free-space-ratio 0.01 --metrics off >/dev/null
warms=() owns=() seqs=() boths=()
for _ in $(seq "$rounds"); do
  "$top/hangar" warmup --evict "$work/mnt-warm/model.bin" >/dev/null
  drop
  t0=$(now); "$top/hangar" warmup "$work/mnt-warm/model.bin" >"$work/warmup.txt"; t1=$(now)
  warms+=("$(python3 -c "print('%.0f' % ($size_mib / ($t1 - $t0)))")"); owns+=("$(own_rate "$work/warmup.txt")")
  drop
  "${rados_[@]}" bench 600 seq -t 16 >"$work/rados-seq.txt" 2>&1
  seqs+=("$(awk '/^Bandwidth \(MB\/sec\)/ {print $3}' "$work/rados-seq.txt")")
  # What a warm-up does, by the reference tools: the same read, and a direct write of as many bytes to the
  # cache's disk at once. Here the OSD's disk is the cache's disk, so a warm-up moves twice the model's bytes
  # through it; a site's cache disk is its own.
  drop
  t0=$(now)
  "${rados_[@]}" bench 600 seq -t 16 >/dev/null 2>&1 & seq_pid=$!
  dd if=/dev/zero of="$work/cache-warm/ref.bin" bs=4M count=$((size_mib / 4)) oflag=direct status=none
  wait "$seq_pid"
  t1=$(now)
  rm -f "$work/cache-warm/ref.bin"
  boths+=("$(python3 -c "print('%.0f' % ($size_mib / ($t1 - $t0)))")")
done
"$top/hangar" umount "$work/mnt-warm" >/dev/null
warm_mibs=$(median "${warms[@]}"); own_mibs=$(median "${owns[@]}"); seq_mibs=$(median "${seqs[@]}"); both_mibs=$(median "${boths[@]}")

# Cold reads through a new mount on the warm cache (every block from the disk), each next to dd of a file as
# large on the cache's disk (written and synced before the first round).
dd if=/dev/urandom of="$work/cache-warm/dd.bin" bs=4M count=$((size_mib / 4)) conv=fsync status=none
cacheds=() dds=() n=1
for _ in $(seq "$rounds"); do
  n=$((n + 1))
  "$top/hangar" mount -d "$meta" "$work/mnt-warm" --runtime-dir "$work/home-warm$n" --cache-dir "$work/cache-warm" \
    --disk-cache-size "$((size_mib * 2))M" --free-space-ratio 0.01 --metrics off >/dev/null
  drop
  t0=$(now); dd if="$work/mnt-warm/model.bin" of=/dev/null bs=4M status=none; t1=$(now)
  cacheds+=("$(python3 -c "print('%.0f' % ($size_mib / ($t1 - $t0)))")")
  "$top/hangar" umount "$work/mnt-warm" >/dev/null
  drop
  t0=$(now); dd if="$work/cache-warm/dd.bin" of=/dev/null bs=4M status=none; t1=$(now)
  dds+=("$(python3 -c "print('%.0f' % ($size_mib / ($t1 - $t0)))")")
done
cached_mibs=$(median "${cacheds[@]}"); dd_mibs=$(median "${dds[@]}")

echo "medians of $rounds interleaved rounds; last warm-up: $(head -1 "$work/warmup.txt")"
echo "rounds (MiB/s): warm-up ${warms[*]} (own count ${owns[*]}); rados bench seq ${seqs[*]}; with the write ${boths[*]}; cached read ${cacheds[*]}; dd ${dds[*]}"
printf '%-52s %8s\n' step "MiB/s"
printf '%-52s %8s\n' "hangar warmup (RADOS -> disk cache)" "$warm_mibs"
printf '%-52s %8s\n' "  the same by warmup's own count (no CLI start)" "$own_mibs"
printf '%-52s %8s\n' "rados bench seq (4 MiB objects, 16 in flight)" "$seq_mibs"
printf '%-52s %8s\n' "  with dd oflag=direct of the same bytes at once" "$both_mibs"
printf '%-52s %8s\n' "cold read through a mount, all from the disk cache" "$cached_mibs"
printf '%-52s %8s\n' "cold dd of a file as large on the cache's disk" "$dd_mibs"
python3 -c "import sys; a=[float(x) for x in sys.argv[1:]]; print('ratios: warm-up / rados bench seq %.2f (own count %.2f; target 0.8), / rados bench seq with the write %.2f (own count %.2f); cached read / dd %.2f (target 0.7)' % (a[0]/a[1], a[4]/a[1], a[0]/a[5], a[4]/a[5], a[2]/a[3]))" \
  "$warm_mibs" "$seq_mibs" "$cached_mibs" "$dd_mibs" "$own_mibs" "$both_mibs"
