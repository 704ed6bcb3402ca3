#!/usr/bin/env bash
# Throughput through a Hangar FUSE mount, next to the same work in the same run on the local disk and through
# libfuse's own passthrough_hp example (low-level API, multi-threaded, splice) over that disk: the ceiling a
# FUSE file system can reach there. The figures are ratios against what was measured in this run; nothing
# here is a test and no figure is a threshold.
#   big file:    1 GiB sequential write (1 MiB I/O, fsync at the end), cold read (page cache dropped),
#                cached read (again at once), and the same with 4 writers/readers of 256 MiB each;
#   small files: 1000 files of 128 KiB: create+write+close (1 thread, then 4 threads in 4 directories), read,
#                stat (a second pass right after a first: cached entries), delete;
#   torch:       torch.save and torch.load of a state dict (2 GiB), if Debian's python3-torch is installed;
#   memory:      peak RSS of the mount's runtime while 4 writers and 4 readers move 1 GiB files each, next to
#                bufferSize + cacheSize + 4 x readAhead + 200 MiB (--limits, MiB, default the volume defaults).
# Cold reads drop the page cache. The mount's own block cache (cacheSize, in its runtime) keeps blocks it has
# just written, so a cold read right after the write is partly a cached one: with --remount 'META-URL [mount
# options]' the mount side's cold reads (big files and torch.load) go through a fresh `hangar mount -d` of that
# volume instead, as a pod that starts does. Without it the output says the mount's cache was kept.
# Writes come from a random source file in the page cache, so no side measures /dev/urandom. Local and
# passthrough small-file writes fsync each file before close, since a close on the Hangar mount is durable.
# passthrough_hp is built once from Debian's libfuse 3.14 source (fuse3_3.14.0.orig.tar.xz from
# deb.debian.org, needs g++ and libfuse3-dev, which this script installs as root) into ~/.cache/hangar-bench.
#
#   bench.sh MOUNTPOINT [--local DIR] [--size MIB] [--files N] [--file-kib K] [--torch-mib M]
#            [--limits BUFFER,CACHE,READAHEAD] [--remount 'META-URL [OPTIONS]'] [--no-passthrough] [--no-torch]
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,23p' "$0" >&2; exit 2; }
hangar=$(cd "$(dirname "$0")/../.." && pwd)/hangar
mnt=$(readlink -f "$1")
shift
local_dir=${TMPDIR:-/tmp}/hangar-bench-local
size_mib=1024
files=1000
file_kib=128
torch_mib=2048
limits=256,512,64
remount=
passthrough=1
torch=1
while [ $# -gt 0 ]; do
  case $1 in
    --local) local_dir=$2; shift 2 ;;
    --size) size_mib=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --file-kib) file_kib=$2; shift 2 ;;
    --torch-mib) torch_mib=$2; shift 2 ;;
    --limits) limits=$2; shift 2 ;;
    --no-passthrough) passthrough=0; shift ;;
    --no-torch) torch=0; shift ;;
    --remount) remount=$2; shift 2 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done
awk -v mp="$mnt" '$2 == mp && $3 ~ /^fuse/ {found=1} END {exit !found}' /proc/self/mounts \
  || { echo "bench: $mnt is not a FUSE mount" >&2; exit 2; }
py=/usr/bin/python3
[ -w /proc/sys/vm/drop_caches ] || { echo "bench: must run as root (drops the page cache for cold reads)" >&2; exit 2; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# The mount's runtime: the process that serves it (hangar mount passes the mount point as a property).
find_runtime() { runtime_pid=$(pgrep -f -- "-Dhangar.mountpoint=$mnt( |$)" | head -1 || true); }
find_runtime
# A fresh runtime for the mount (--remount): nothing in its block cache.
fresh_mount() {
  [ -n "$remount" ] || return 0
  local url opts
  read -r url opts <<<"$remount"
  # shellcheck disable=SC2086
  "$hangar" umount "$mnt" >/dev/null && "$hangar" mount "$url" "$mnt" -d $opts >/dev/null \
    || { echo "bench: remounting $mnt failed" >&2; exit 1; }
  find_runtime
}

mkdir -p "$local_dir"
target_dir="$mnt/hangar-bench.$$"
local_run="$local_dir/run.$$"
pt_src="$local_dir/pt-src.$$"
pt_mnt="$local_dir/pt-mnt.$$"
pt_pid=
cleanup() {
  rm -rf "$target_dir" "$local_run"
  if [ -n "$pt_pid" ]; then
    rm -rf "$pt_mnt"/* 2>/dev/null || true
    fusermount3 -u "$pt_mnt" 2>/dev/null || umount -l "$pt_mnt" 2>/dev/null || true
    kill "$pt_pid" 2>/dev/null || true
  fi
  rm -rf "$pt_src"
  rmdir "$pt_mnt" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$target_dir" "$local_run"
src="$local_dir/source-${size_mib}M"
if [ ! -f "$src" ] || [ "$(stat -c %s "$src")" -ne $((size_mib << 20)) ]; then
  head -c $((size_mib << 20)) /dev/urandom >"$src"
fi
cat "$src" >/dev/null

sides="mount local"
if [ $passthrough = 1 ]; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/hangar-bench
  pt=$cache/passthrough_hp
  if [ ! -x "$pt" ]; then
    echo "bench: building libfuse 3.14's example/passthrough_hp into $cache" >&2
    command -v g++ >/dev/null && [ -f /usr/include/fuse3/fuse_lowlevel.h ] \
      || apt-get install -y -q g++ libfuse3-dev >/dev/null
    mkdir -p "$cache"
    [ -f "$cache/fuse3_3.14.0.orig.tar.xz" ] || curl -sSfL -o "$cache/fuse3_3.14.0.orig.tar.xz" \
      http://deb.debian.org/debian/pool/main/f/fuse3/fuse3_3.14.0.orig.tar.xz
    tar -C "$cache" -xf "$cache/fuse3_3.14.0.orig.tar.xz" fuse-3.14.0/example/passthrough_hp.cc \
      fuse-3.14.0/example/cxxopts.hpp
    # shellcheck disable=SC2046
    g++ -std=c++17 -O2 -o "$pt" "$cache/fuse-3.14.0/example/passthrough_hp.cc" $(pkg-config fuse3 --cflags --libs) -lpthread
  fi
  mkdir -p "$pt_src" "$pt_mnt"
  "$pt" --foreground "$pt_src" "$pt_mnt" >/dev/null 2>&1 &
  pt_pid=$!
  for _ in $(seq 100); do
    awk -v mp="$pt_mnt" '$2 == mp {found=1} END {exit !found}' /proc/self/mounts && break
    sleep 0.1
  done
  awk -v mp="$pt_mnt" '$2 == mp {found=1} END {exit !found}' /proc/self/mounts \
    || { echo "bench: passthrough_hp did not mount $pt_mnt" >&2; exit 1; }
  sides="mount passthrough local"
fi

# dd's own figure is bytes over its time; we time the wall clock around it (fsync included) instead.
mbps() { "$py" -c "import sys; print(f'{int(sys.argv[1]) / float(sys.argv[2]) / 1e6:.0f}')" "$1" "$2"; }
timed() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); "$py" -c "print($t1 - $t0)"; }

seq_write() { dd if="$src" of="$1/big" bs=1M count="$size_mib" conv=fsync status=none; }
seq_read() { dd if="$1/big" of=/dev/null bs=1M status=none; }
# waitall PID...: waits for these (a bare wait would also wait for passthrough_hp, a child of this shell).
waitall() { local p; for p in "$@"; do wait "$p"; done; }
par_write() {
  local per=$((size_mib / 4)) i pids=()
  for i in 0 1 2 3; do
    dd if="$src" of="$1/part$i" bs=1M skip=$((i * per)) count=$per conv=fsync status=none &
    pids+=($!)
  done
  waitall "${pids[@]}"
}
par_read() {
  local i pids=()
  for i in 0 1 2 3; do dd if="$1/part$i" of=/dev/null bs=1M status=none & pids+=($!); done
  waitall "${pids[@]}"
}

small_files() { # dir durable(fsync|close) threads -> "create/s createMB/s read/s readMB/s stat/s delete/s"
  "$py" - "$1" "$files" "$file_kib" "$2" "$3" <<'EOF'
import os, sys, threading, time
d, n, kib, durable, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
data = os.urandom(kib << 10)
dirs = [os.path.join(d, f"t{t}") for t in range(threads)]
for x in dirs:
    os.makedirs(x, exist_ok=True)
names = [[os.path.join(dirs[t], f"small-{i:05d}") for i in range(t, n, threads)] for t in range(threads)]
def phase(fn):
    def run(part):
        for p in part:
            fn(p)
    ts = [threading.Thread(target=run, args=(part,)) for part in names]
    t = time.perf_counter()
    for x in ts:
        x.start()
    for x in ts:
        x.join()
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
phase(os.stat)      # attributes into the kernel's cache (the attribute timeout is 1 s by default) ...
s = phase(os.stat)  # ... and stat again: 1000 cached entries
u = phase(os.unlink)
mb = n * len(data) / 1e6
print(f"{n / w:.0f} {mb / w:.0f} {n / r:.0f} {mb / r:.0f} {n / s:.0f} {n / u:.0f}")
EOF
}

torch_roundtrip() { # dir [command making the mount cold] -> "save_MB/s load_MB/s"
  "$py" - "$1" "$torch_mib" "${2:-}" <<'EOF'
import os, subprocess, sys, time
import torch
d, mib, cold = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# A state dict shaped like a model's: tensors of 64 MiB (float32), filled once.
n = max(1, mib // 64)
sd = {f"layer{i}.weight": torch.rand(16 << 20) for i in range(n)}
nbytes = sum(t.numel() * t.element_size() for t in sd.values())
p = os.path.join(d, "model.pt")
t = time.perf_counter()
with open(p, "wb") as f:
    torch.save(sd, f)
    f.flush()
    os.fsync(f.fileno())
w = time.perf_counter() - t
if cold:
    subprocess.run(["bash", "-c", cold], check=True)
os.sync()
with open("/proc/sys/vm/drop_caches", "w") as f:
    f.write("3")
t = time.perf_counter()
back = torch.load(p)
r = time.perf_counter() - t
assert all(torch.equal(back[k], sd[k]) for k in sd)
os.unlink(p)
print(f"{nbytes / w / 1e6:.0f} {nbytes / r / 1e6:.0f}")
EOF
}

bytes=$((size_mib << 20))
declare -A r
dir_of() { case $1 in mount) echo "$target_dir" ;; local) echo "$local_run" ;; passthrough) echo "$pt_mnt" ;; esac; }
for side in $sides; do
  dir=$(dir_of $side)
  r[$side.write]=$(mbps $bytes "$(timed seq_write "$dir")")
  [ $side = mount ] && fresh_mount
  drop_caches
  r[$side.cold]=$(mbps $bytes "$(timed seq_read "$dir")")
  r[$side.cached]=$(mbps $bytes "$(timed seq_read "$dir")")
  r[$side.pwrite]=$(mbps $bytes "$(timed par_write "$dir")")
  [ $side = mount ] && fresh_mount
  drop_caches
  r[$side.pread]=$(mbps $bytes "$(timed par_read "$dir")")
  rm -f "$dir"/big "$dir"/part*
  durable=fsync
  [ $side = mount ] && durable=close
  r[$side.small]=$(small_files "$dir/s1" $durable 1)
  r[$side.small4]=$(small_files "$dir/s4" $durable 4)
  rm -rf "$dir/s1" "$dir/s4"
done
has_torch=0
if [ $torch = 1 ] && "$py" -c "import torch" 2>/dev/null; then
  has_torch=1
  cold_cmd=
  if [ -n "$remount" ]; then
    # torch_roundtrip's Python runs it between save and load, in a bash that has the function.
    export -f fresh_mount find_runtime
    export remount mnt hangar
    cold_cmd=fresh_mount
  fi
  r[mount.torch]=$(torch_roundtrip "$(dir_of mount)" "$cold_cmd")
  find_runtime
  r[local.torch]=$(torch_roundtrip "$(dir_of local)")
fi

# Memory: 4 writers and 4 readers of size_mib files at once, peak RSS of the runtime since the start of it.
rss_peak=
if [ -n "$runtime_pid" ] && [ -w "/proc/$runtime_pid/clear_refs" ]; then
  pids=()
  for i in 0 1 2 3; do dd if="$src" of="$target_dir/r$i" bs=1M conv=fsync status=none & pids+=($!); done
  waitall "${pids[@]}"
  drop_caches
  echo 5 >"/proc/$runtime_pid/clear_refs" # resets VmHWM
  pids=()
  for i in 0 1 2 3; do
    dd if="$src" of="$target_dir/w$i" bs=1M conv=fsync status=none &
    pids+=($!)
    dd if="$target_dir/r$i" of=/dev/null bs=1M status=none &
    pids+=($!)
  done
  waitall "${pids[@]}"
  rss_peak=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$runtime_pid/status")
  rm -f "$target_dir"/r* "$target_dir"/w*
fi

pct() { "$py" -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{100 * a / b:.0f}%' if b else '-')" "$1" "$2"; }
echo
echo "Hangar FUSE mount $mnt vs local disk $local_dir ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
if [ -n "$remount" ]; then
  echo "mount cold reads: page cache dropped, through a fresh mount (--remount)"
else
  echo "mount cold reads: page cache dropped, the mount's own block cache kept (it holds blocks just written; --remount for a fresh mount)"
fi
pt_hdr=""
[ $passthrough = 1 ] && pt_hdr="passthr."
printf '%-40s %8s %8s %8s %8s %8s\n' "big file, ${size_mib} MiB, 1 MiB I/O, MB/s" "mount" "$pt_hdr" "local" "m/local" "m/pt"
for k in write:"seq write, 1 thread (fsync)" cold:"seq read, 1 thread, cold" cached:"seq read, 1 thread, cached" \
         pwrite:"seq write, 4 threads (fsync)" pread:"seq read, 4 threads, cold"; do
  key=${k%%:*}
  ptv=${r[passthrough.$key]:-}
  printf '%-40s %8s %8s %8s %8s %8s\n' "${k#*:}" "${r[mount.$key]}" "$ptv" "${r[local.$key]}" \
    "$(pct "${r[mount.$key]}" "${r[local.$key]}")" "$([ -n "$ptv" ] && pct "${r[mount.$key]}" "$ptv")"
done
printf '%-40s %8s %8s %8s %8s %8s\n' "${files} files of ${file_kib} KiB, files/s" "mount" "$pt_hdr" "local" "m/local" "m/pt"
for t in small:"1 thread" small4:"4 threads, 4 dirs"; do
  key=${t%%:*}
  read -r mcw _ mr _ ms mu <<<"${r[mount.$key]}"
  read -r lcw _ lr _ ls lu <<<"${r[local.$key]}"
  pcw= pr= ps= pu=
  [ $passthrough = 1 ] && read -r pcw _ pr _ ps pu <<<"${r[passthrough.$key]}"
  printf '%-40s %8s %8s %8s %8s %8s\n' "create+write+close, ${t#*:}" "$mcw" "$pcw" "$lcw" "$(pct "$mcw" "$lcw")" "$([ -n "$pcw" ] && pct "$mcw" "$pcw")"
  printf '%-40s %8s %8s %8s %8s %8s\n' "read (cold), ${t#*:}" "$mr" "$pr" "$lr" "$(pct "$mr" "$lr")" "$([ -n "$pr" ] && pct "$mr" "$pr")"
  printf '%-40s %8s %8s %8s %8s %8s\n' "stat (cached), ${t#*:}" "$ms" "$ps" "$ls" "$(pct "$ms" "$ls")" "$([ -n "$ps" ] && pct "$ms" "$ps")"
  printf '%-40s %8s %8s %8s %8s %8s\n' "delete, ${t#*:}" "$mu" "$pu" "$lu" "$(pct "$mu" "$lu")" "$([ -n "$pu" ] && pct "$mu" "$pu")"
done
if [ $has_torch = 1 ]; then
  read -r msave mload <<<"${r[mount.torch]}"
  read -r lsave lload <<<"${r[local.torch]}"
  printf '%-40s %8s %8s %8s %8s\n' "torch, ${torch_mib} MiB state dict, MB/s" "mount" "" "local" "m/local"
  printf '%-40s %8s %8s %8s %8s\n' "torch.save (fsync)" "$msave" "" "$lsave" "$(pct "$msave" "$lsave")"
  printf '%-40s %8s %8s %8s %8s\n' "torch.load (cold)" "$mload" "" "$lload" "$(pct "$mload" "$lload")"
else
  echo "torch: not measured (python3-torch missing or --no-torch)"
fi
IFS=, read -r lb lc lr <<<"$limits"
bound=$((lb + lc + 4 * lr + 200))
if [ -n "$rss_peak" ]; then
  echo "peak RSS of the mount's runtime (pid $runtime_pid), 4 writers + 4 readers of ${size_mib} MiB: ${rss_peak} MiB;" \
    "bufferSize + cacheSize + 4 x readAhead + 200 MiB = $lb + $lc + 4 x $lr + 200 = $bound MiB ($(pct "$rss_peak" "$bound"))"
else
  echo "peak RSS: not measured (no runtime process found for $mnt, e.g. a harness mount)"
fi
