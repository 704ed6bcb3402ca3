#!/usr/bin/env bash
# Throughput through a Hangar FUSE mount, next to the same work on the local disk in the same run:
#   big file:    1 GiB sequential write (1 MiB I/O, fsync at the end), cold read (page cache dropped),
#                cached read (again at once), and the same with 4 writers/readers of 256 MiB each;
#   small files: 1000 files of 128 KiB: create+write+close, read, stat, delete.
# Writes come from a random source file in the page cache, so neither side measures /dev/urandom. The local
# small-file writes fsync each file, since a close on the mount commits it durably. No Ceph comparison here:
# run ceph-fuse on a CephFS of the same cluster by hand when one is up (docs/frontend-fuse.md).
#
#   bench.sh MOUNTPOINT [--local DIR] [--size MIB] [--files N] [--file-kib K]
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
mnt=$(readlink -f "$1")
shift
local_dir=${TMPDIR:-/tmp}/hangar-bench-local
size_mib=1024
files=1000
file_kib=128
while [ $# -gt 0 ]; do
  case $1 in
    --local) local_dir=$2; shift 2 ;;
    --size) size_mib=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --file-kib) file_kib=$2; shift 2 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done
awk -v mp="$mnt" '$2 == mp && $3 ~ /^fuse/ {found=1} END {exit !found}' /proc/self/mounts \
  || { echo "bench: $mnt is not a FUSE mount" >&2; exit 2; }
py=/usr/bin/python3
drop_caches() {
  sync
  if [ -w /proc/sys/vm/drop_caches ]; then echo 3 >/proc/sys/vm/drop_caches; else echo "bench: cannot drop caches (not root): cold reads are warm" >&2; fi
}

target_dir="$mnt/hangar-bench.$$"
local_run="$local_dir/run.$$"
mkdir -p "$target_dir" "$local_run"
src="$local_dir/source-${size_mib}M"
trap 'rm -rf "$target_dir" "$local_run"' EXIT
if [ ! -f "$src" ] || [ "$(stat -c %s "$src")" -ne $((size_mib << 20)) ]; then
  "$py" -c "
import os, sys
with open(sys.argv[1], 'wb') as f:
    for _ in range(int(sys.argv[2])):
        f.write(os.urandom(1 << 20))
" "$src" "$size_mib"
fi
cat "$src" >/dev/null

# dd's own figure is bytes over its time; we time the wall clock around it (fsync included) instead.
mbps() { "$py" -c "import sys; print(f'{int(sys.argv[1]) / float(sys.argv[2]) / 1e6:.0f}')" "$1" "$2"; }
timed() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); "$py" -c "print($t1 - $t0)"; }

seq_write() { dd if="$src" of="$1/big" bs=1M count="$size_mib" conv=fsync status=none; }
seq_read() { dd if="$1/big" of=/dev/null bs=1M status=none; }
par_write() {
  local per=$((size_mib / 4)) i
  for i in 0 1 2 3; do
    dd if="$src" of="$1/part$i" bs=1M skip=$((i * per)) count=$per conv=fsync status=none &
  done
  wait
}
par_read() {
  local i
  for i in 0 1 2 3; do dd if="$1/part$i" of=/dev/null bs=1M status=none & done
  wait
}

bytes=$((size_mib << 20))
declare -A r
for side in mount local; do
  dir=$target_dir
  [ $side = local ] && dir=$local_run
  r[$side.write]=$(mbps $bytes "$(timed seq_write "$dir")")
  drop_caches
  r[$side.cold]=$(mbps $bytes "$(timed seq_read "$dir")")
  r[$side.cached]=$(mbps $bytes "$(timed seq_read "$dir")")
  r[$side.pwrite]=$(mbps $bytes "$(timed par_write "$dir")")
  drop_caches
  r[$side.pread]=$(mbps $bytes "$(timed par_read "$dir")")
  rm -f "$dir"/big "$dir"/part*
  r[$side.small]=$("$py" - "$dir" "$files" "$file_kib" "$([ $side = local ] && echo fsync || echo close)" <<'EOF'
import os, sys, time
d, n, kib, durable = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = os.urandom(kib << 10)
names = [os.path.join(d, f"small-{i:05d}") for i in range(n)]
def phase(fn):
    t = time.perf_counter()
    for p in names:
        fn(p)
    return time.perf_counter() - t
def create(p):
    fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    os.write(fd, data)
    if durable == "fsync":
        os.fsync(fd)
    os.close(fd)
def read(p):
    with open(p, "rb") as f:
        assert len(f.read()) == len(data)
w = phase(create)
os.sync()
with open("/proc/sys/vm/drop_caches", "w") as f:
    f.write("3")
r = phase(read)
s = phase(os.stat)
u = phase(os.unlink)
mb = n * len(data) / 1e6
print(f"{n / w:.0f} {mb / w:.0f} {n / r:.0f} {mb / r:.0f} {n / s:.0f} {n / u:.0f}")
EOF
)
done

pct() { "$py" -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{100 * a / b:.0f}%' if b else '-')" "$1" "$2"; }
echo
echo "Hangar FUSE mount $mnt vs local disk $local_dir ($(date -u +%FT%TZ), $(nproc) cores)"
printf '%-44s %10s %10s %8s\n' "big file, ${size_mib} MiB, 1 MiB I/O" "mount MB/s" "local MB/s" "ratio"
for k in write:"seq write, 1 thread (fsync)" cold:"seq read, 1 thread, cold" cached:"seq read, 1 thread, cached" \
         pwrite:"seq write, 4 threads (fsync)" pread:"seq read, 4 threads, cold"; do
  key=${k%%:*}
  printf '%-44s %10s %10s %8s\n' "${k#*:}" "${r[mount.$key]}" "${r[local.$key]}" "$(pct "${r[mount.$key]}" "${r[local.$key]}")"
done
read -r mcw mcwb mr mrb ms mu <<<"${r[mount.small]}"
read -r lcw lcwb lr lrb ls lu <<<"${r[local.small]}"
printf '%-44s %10s %10s %8s\n' "${files} files of ${file_kib} KiB" "mount" "local" "ratio"
printf '%-44s %10s %10s %8s\n' "create+write+close, files/s (MB/s)" "$mcw ($mcwb)" "$lcw ($lcwb)" "$(pct "$mcw" "$lcw")"
printf '%-44s %10s %10s %8s\n' "read (cold), files/s (MB/s)" "$mr ($mrb)" "$lr ($lrb)" "$(pct "$mr" "$lr")"
printf '%-44s %10s %10s %8s\n' "stat, files/s" "$ms" "$ls" "$(pct "$ms" "$ls")"
printf '%-44s %10s %10s %8s\n' "delete, files/s" "$mu" "$lu" "$(pct "$mu" "$lu")"
echo "(local small-file writes fsync each file; ceph-fuse: no Ceph cluster in this run)"
