#!/usr/bin/env bash
# The disk block cache next to the disk it lives on, in one run (SQLite metadata, file store, cache on the
# same disk, all under /var/tmp):
#   1. hangar warmup of a SIZE file through a mount with --cache-dir, next to a cold read of the store's own
#      block files (what warm-up has to read; the stand-in for `rados bench seq` when the store is a
#      directory), and next to that read with a direct write of as many bytes at once (what warm-up does);
#   2. a cold read (page cache dropped) of the file through a new mount on the warm cache, with the volume's
#      blocks moved out of the store so that every byte comes from the cache, next to a cold read of the
#      cache's block files themselves and next to dd of one file as large on the cache's disk.
#   Each pair is measured ROUNDS times, interleaved (the step, then its reference), and the medians are
#   compared: on a VM the disk's speed moves by half within minutes, so one-off pairs mislead.
#   [WARMUP_THREADS=4] [ROUNDS=3] bench/cache-bench.sh [SIZE_MIB=2048]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
size_mib=${1:-2048}
work=$(mktemp -d /var/tmp/hangar-cache-bench.XXXXXX)
mnt="$work/mnt"
cleanup() { "$top/hangar" umount "$mnt" >/dev/null 2>&1 || fusermount3 -uz "$mnt" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
meta="sqlite://$work/meta.db"
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
mibs() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2]))))" "$size_mib" "$1" "$2"; }
cache=(--cache-dir "$work/cache" --disk-cache-size "$((size_mib * 2))M" --free-space-ratio 0.01 --metrics off)
# Every block file below a folder, read once, 4 at a time like the mount's readers (the reference rates).
read_files() { find "$1" -type f -print0 | xargs -0 -P 4 -n 16 cat >/dev/null; }

"$top/hangar" format "$meta" cachebench --storage "file://$work/chunks" >/dev/null
mkdir -p "$mnt"
n=0
# Each mount has a runtime folder of its own: the last one's runtime may still be on its way out.
mount_cached() { n=$((n + 1)); "$top/hangar" mount -d "$meta" "$mnt" --runtime-dir "$work/runtime-$n" "${cache[@]}" >/dev/null; }
mount_cached
dd if=/dev/urandom of="$mnt/model.bin" bs=4M count=$((size_mib / 4)) conv=fsync status=none
"$top/hangar" umount "$mnt" >/dev/null
rm -rf "$work/cache"

rounds=${ROUNDS:-3}
median() { python3 -c "import sys, statistics; print('%.0f' % statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
# The figure hangar warmup prints of its own time (without the CLI's start), in MiB/s.
own_rate() { sed -n 's/.*(\([0-9]*\) MiB\/s).*/\1/p' "$1"; }

# Warm-up rounds: the disk cache emptied by --evict, warmed, then the store's block files read the same way.
mount_cached
warms=() owns=() store_reads=() boths=()
for _ in $(seq "$rounds"); do
  "$top/hangar" warmup --evict "$mnt/model.bin" >/dev/null
  drop; t0=$(now); "$top/hangar" warmup --threads "${WARMUP_THREADS:-4}" "$mnt/model.bin" >"$work/warmup.txt"; t1=$(now)
  warms+=("$(mibs "$t0" "$t1")"); owns+=("$(own_rate "$work/warmup.txt")")
  drop; t0=$(now); read_files "$work/chunks/cachebench/chunks"; t1=$(now); store_reads+=("$(mibs "$t0" "$t1")")
  # What a warm-up does, by the reference tools: the same read, and a direct write of as many bytes at once
  # (here the store's disk is the cache's disk).
  drop; t0=$(now)
  read_files "$work/chunks/cachebench/chunks" & read_pid=$!
  dd if=/dev/zero of="$work/cache/ref.bin" bs=4M count=$((size_mib / 4)) oflag=direct status=none
  wait "$read_pid"; t1=$(now); rm -f "$work/cache/ref.bin"; boths+=("$(mibs "$t0" "$t1")")
done
"$top/hangar" umount "$mnt" >/dev/null
warm=$(median "${warms[@]}"); own=$(median "${owns[@]}"); store_read=$(median "${store_reads[@]}"); both=$(median "${boths[@]}")

# Cached-read rounds: each through a new mount (a fresh process, nothing in memory) with the volume's blocks
# out of the store, then the cache's block files by 4 readers, then dd of one file as large on the cache's
# disk (written and synced before the first round).
mv "$work/chunks/cachebench/chunks" "$work/blocks-away"
dd if=/dev/urandom of="$work/cache/dd.bin" bs=4M count=$((size_mib / 4)) conv=fsync status=none
cacheds=() cache_reads=() dd_reads=()
for _ in $(seq "$rounds"); do
  mount_cached
  drop; t0=$(now); dd if="$mnt/model.bin" of=/dev/null bs=4M status=none; t1=$(now); cacheds+=("$(mibs "$t0" "$t1")")
  "$top/hangar" umount "$mnt" >/dev/null
  drop; t0=$(now); read_files "$work/cache/hangar-cache"; t1=$(now); cache_reads+=("$(mibs "$t0" "$t1")")
  drop; t0=$(now); dd if="$work/cache/dd.bin" of=/dev/null bs=4M status=none; t1=$(now); dd_reads+=("$(mibs "$t0" "$t1")")
done
cached=$(median "${cacheds[@]}"); cache_read=$(median "${cache_reads[@]}"); dd_read=$(median "${dd_reads[@]}")

echo "size ${size_mib} MiB, medians of $rounds interleaved rounds; last warm-up: $(head -1 "$work/warmup.txt")"
echo "rounds (MiB/s): warm-up ${warms[*]} (own count ${owns[*]}); store read ${store_reads[*]}; with the write ${boths[*]}; cached read ${cacheds[*]}; cache files ${cache_reads[*]}; dd ${dd_reads[*]}"
printf '%-52s %8s\n' step "MiB/s"
printf '%-52s %8s\n' "hangar warmup (store -> disk cache)" "$warm"
printf '%-52s %8s\n' "  the same by warmup's own count (no CLI start)" "$own"
printf '%-52s %8s\n' "cold read of the store's block files (4 readers)" "$store_read"
printf '%-52s %8s\n' "  with dd oflag=direct of the same bytes at once" "$both"
printf '%-52s %8s\n' "cold read through the mount, all from the disk cache" "$cached"
printf '%-52s %8s\n' "cold read of the cache's block files (4 readers)" "$cache_read"
printf '%-52s %8s\n' "cold dd of a file as large on the cache's disk" "$dd_read"
python3 -c "import sys; a = [float(x) for x in sys.argv[1:]]; print('ratios: warm-up / store read %.2f (own count %.2f; target 0.8 against rados bench seq), / store read with the write %.2f (own count %.2f); cached read / dd on the cache disk %.2f (target 0.7), / the cache files read by 4 %.2f' % (a[0] / a[1], a[5] / a[1], a[0] / a[6], a[5] / a[6], a[2] / a[4], a[2] / a[3]))" "$warm" "$store_read" "$cached" "$cache_read" "$dd_read" "$own" "$both"
