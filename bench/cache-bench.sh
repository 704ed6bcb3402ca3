#!/usr/bin/env bash
# The disk block cache next to the disk it lives on, in one run (SQLite metadata, file store, cache on the
# same disk, all under /var/tmp):
#   1. hangar warmup of a SIZE file through a mount with --cache-dir, next to a cold read of the store's own
#      block files (what warm-up has to read; the stand-in for `rados bench seq` when the store is a
#      directory);
#   2. a cold read (page cache dropped) of the file through a new mount on the warm cache, with the volume's
#      blocks moved out of the store so that every byte comes from the cache, next to a cold read of the
#      cache's block files themselves and next to dd of one file as large on the cache's disk.
#   [WARMUP_THREADS=4] bench/cache-bench.sh [SIZE_MIB=2048]
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

drop; t0=$(now); read_files "$work/chunks/cachebench/chunks"; t1=$(now); store_read=$(mibs "$t0" "$t1")
mount_cached
drop; t0=$(now); "$top/hangar" warmup --threads "${WARMUP_THREADS:-4}" "$mnt/model.bin" >"$work/warmup.txt"; t1=$(now); warm=$(mibs "$t0" "$t1")
"$top/hangar" umount "$mnt" >/dev/null

mv "$work/chunks/cachebench/chunks" "$work/blocks-away"
mount_cached
drop; t0=$(now); dd if="$mnt/model.bin" of=/dev/null bs=4M status=none; t1=$(now); cached=$(mibs "$t0" "$t1")
"$top/hangar" umount "$mnt" >/dev/null
drop; t0=$(now); read_files "$work/cache/hangar-cache"; t1=$(now); cache_read=$(mibs "$t0" "$t1")
# dd of one file as large as the model on the cache's disk, written and synced first, read cold.
dd if=/dev/urandom of="$work/cache/dd.bin" bs=4M count=$((size_mib / 4)) conv=fsync status=none
drop; t0=$(now); dd if="$work/cache/dd.bin" of=/dev/null bs=4M status=none; t1=$(now); dd_read=$(mibs "$t0" "$t1")

echo "size ${size_mib} MiB; $(head -1 "$work/warmup.txt")"
printf '%-52s %8s\n' step "MiB/s"
printf '%-52s %8s\n' "hangar warmup (store -> disk cache)" "$warm"
printf '%-52s %8s\n' "cold read of the store's block files (4 readers)" "$store_read"
printf '%-52s %8s\n' "cold read through the mount, all from the disk cache" "$cached"
printf '%-52s %8s\n' "cold read of the cache's block files (4 readers)" "$cache_read"
printf '%-52s %8s\n' "cold dd of a file as large on the cache's disk" "$dd_read"
python3 -c "import sys; a = [float(x) for x in sys.argv[1:]]; print('ratios: warm-up / store read %.2f (target 0.8 against rados bench seq); cached read / dd on the cache disk %.2f (target 0.7), / the cache files read by 4 %.2f' % (a[0] / a[1], a[2] / a[4], a[2] / a[3]))" "$warm" "$store_read" "$cached" "$cache_read" "$dd_read"
