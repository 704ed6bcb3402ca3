#!/usr/bin/env bash
# The FUSE suites on real mounts (as root): the POSIX behaviour suite, the randomized integrity test (and
# its check after a remount), the torch checkpoint round trip, two mounts in two processes, a read-only
# mount and a subdir mount. Each suite writes a JUnit XML report (TEST-fuse-*.xml) that
# scripts/junit-summary.py counts; the last line says "N passed, N failed".
#
#   run.sh [META-URL MOUNTPOINT]
#
# Without arguments a fresh volume (sqlite metadata, file store) is formatted in a temporary folder.
# With them, META-URL must be a formatted volume and MOUNTPOINT an empty directory; the suites work under
# /fuse-tests in the volume. Mounts are made with ./hangar mount -d (the runtime, the DS component) when
# the runtime jar is built, else with the standalone harness (frontend-fuse's MountMain);
# HANGAR_FUSE_MOUNTER=cli|harness chooses. Every mount is unmounted and every process it started is
# stopped by pid at the end. HANGAR_FUSE_KEEP=1 keeps the temporary folder.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
reports=${HANGAR_FUSE_REPORTS:-$here/target/reports}
py=/usr/bin/python3
# Java's default charset must be UTF-8 for the mount (names); the runtime inherits the locale.
export LC_ALL=C.UTF-8
attr_timeout=1.0
export HANGAR_ATTR_TIMEOUT=$attr_timeout
status=0

skip_all() {
  echo "fuse: SKIPPED: $1" >&2
  mkdir -p "$reports"
  cat >"$reports/TEST-fuse-environment.xml" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<testsuite name="fuse.environment" tests="1" failures="0" errors="0" skipped="1">
  <testcase classname="fuse.environment" name="fuse_suites"><skipped message="$1"/></testcase>
</testsuite>
EOF
  exit 0
}

[ "$(id -u)" = 0 ] || skip_all "the FUSE suites need root (permission and ownership tests switch users)"
[ -c /dev/fuse ] || skip_all "/dev/fuse does not exist"
[ -x "$py" ] || skip_all "$py is missing"
ldconfig -p 2>/dev/null | grep -q 'libfuse\.so\.2' || skip_all "libfuse.so.2 is missing (apt-get install -y fuse3 libfuse2)"

mounter=${HANGAR_FUSE_MOUNTER:-}
if [ -z "$mounter" ]; then
  if [ -f "$top/cnf/target/hangar.jar" ] && [ -x "$top/hangar" ]; then mounter=cli; else mounter=harness; fi
fi
harness_cp=""
if [ "$mounter" = harness ]; then
  cpfile="$top/frontend-fuse/target/harness.classpath"
  if [ ! -f "$cpfile" ] || [ ! -d "$top/frontend-fuse/target/test-classes" ]; then
    echo "fuse: building frontend-fuse's test harness" >&2
    (cd "$top" && mvn -o -q -B install -pl frontend-fuse -DskipTests) || { echo "fuse: build failed" >&2; exit 1; }
  fi
  harness_cp="$top/frontend-fuse/target/test-classes:$top/frontend-fuse/target/classes:$(cat "$cpfile")"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hangar-fuse.XXXXXX")
# The permission tests run steps as nobody: the path to the mounts must be searchable.
chmod 755 "$work"
mkdir -p "$reports" "$work/pids"
if [ -n "$harness_cp" ]; then
  # A private copy of the class path: others re-installing a SNAPSHOT jar into ~/.m2 while a mount runs
  # would pull the classes from under it.
  mkdir -p "$work/lib"
  copied=""
  n=0
  IFS=: read -r -a entries <<<"$harness_cp"
  for e in "${entries[@]}"; do
    n=$((n + 1))
    cp -r "$e" "$work/lib/$n-$(basename "$e")"
    copied="$copied${copied:+:}$work/lib/$n-$(basename "$e")"
  done
  harness_cp=$copied
fi
rm -f "$reports"/TEST-fuse-*.xml
if [ $# -ge 2 ]; then
  meta=$1
  main_mp=$(readlink -f "$2")
else
  meta="sqlite://$work/meta.db"
  main_mp="$work/mnt"
  if [ "$mounter" = cli ]; then
    "$top/hangar" format "$meta" fusetest --storage "file://$work/chunks" >"$work/format.log" 2>&1
  else
    java -Dfile.encoding=UTF-8 -cp "$harness_cp" io.hangar.frontend.fuse.MountMain format "$meta" fusetest "file://$work/chunks" \
      >"$work/format.log" 2>&1
  fi || { cat "$work/format.log" >&2; echo "fuse: cannot format a volume" >&2; exit 1; }
fi
echo "fuse: volume $meta, mounts made by the $mounter, work folder $work"

is_mounted() { awk -v mp="$1" '$2 == mp && $3 == "fuse.hangar" {found=1} END {exit !found}' /proc/self/mounts; }

# mount NAME MOUNTPOINT [--read-only] [--subdir D] [--attr-timeout S] [--entry-timeout S]
mount_volume() {
  local name=$1 mp=$2
  shift 2
  mkdir -p "$mp"
  if [ "$mounter" = cli ]; then
    "$top/hangar" mount -d "$meta" "$mp" --cache-dir "$work/runtime-$name" "$@" >"$work/$name.log" 2>&1 || {
      cat "$work/$name.log" >&2; return 1; }
    # The runtime's pid, from the launcher's line "mounted ... (runtime pid N, log ...)".
    sed -n 's/.*runtime pid \([0-9]*\).*/\1/p' "$work/$name.log" >"$work/pids/$name"
  else
    java -Dfile.encoding=UTF-8 -cp "$harness_cp" io.hangar.frontend.fuse.MountMain mount "$meta" "$mp" "$@" >"$work/$name.log" 2>&1 &
    echo $! >"$work/pids/$name"
    local i
    for i in $(seq 1 240); do
      is_mounted "$mp" && break
      kill -0 "$(cat "$work/pids/$name")" 2>/dev/null || break
      sleep 0.25
    done
  fi
  is_mounted "$mp" || { echo "fuse: mount $name at $mp failed:" >&2; cat "$work/$name.log" >&2; return 1; }
}

# Unmounts like a user would (fusermount -u); the process serving the mount must notice and exit.
unmount_volume() {
  local name=$1 mp=$2 pid i
  pid=$(cat "$work/pids/$name" 2>/dev/null || true)
  if is_mounted "$mp"; then
    if [ "$mounter" = cli ]; then "$top/hangar" umount "$mp" >>"$work/$name.log" 2>&1; else fusermount -u "$mp"; fi
  fi
  [ -n "$pid" ] || return 0
  for i in $(seq 1 240); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$work/pids/$name"; return 0; }
    sleep 0.25
  done
  echo "fuse: the process serving $name (pid $pid) did not exit after its unmount" >&2
  status=1
  kill -TERM "$pid" 2>/dev/null
  sleep 5
  kill -KILL "$pid" 2>/dev/null
  rm -f "$work/pids/$name"
}

cleanup() {
  local f name
  for mp in "$work"/mnt-* "$main_mp"; do
    is_mounted "$mp" && fusermount -u "$mp" 2>/dev/null
  done
  for f in "$work"/pids/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    kill -TERM "$(cat "$f")" 2>/dev/null
  done
  sleep 1
  if [ "${HANGAR_FUSE_KEEP:-0}" = 1 ] || [ $status -ne 0 ]; then
    echo "fuse: work folder kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

suite() {
  echo "== fuse: $*"
  "$py" "$@" || status=1
}

mount_volume main "$main_mp" --attr-timeout "$attr_timeout" --entry-timeout "$attr_timeout" || exit 1
tests="$main_mp/fuse-tests"
mkdir -p "$tests"

suite "$here/posix_suite.py" "$tests" "$reports"
suite "$here/integrity.py" "$tests" "$work/reference" "$reports" --ops 4000
suite "$here/torch_roundtrip.py" "$tests" "$reports"

# A second mount in another process, with no kernel caching: it must see what the first one closed.
if mount_volume b "$work/mnt-b" --attr-timeout 0 --entry-timeout 0; then
  suite "$here/mounts_suite.py" twomounts "$tests" "$work/mnt-b/fuse-tests" "$reports"
  unmount_volume b "$work/mnt-b"
else
  status=1
fi

if mount_volume ro "$work/mnt-ro" --read-only; then
  suite "$here/mounts_suite.py" readonly "$work/mnt-ro/fuse-tests" "$tests" "$reports"
  unmount_volume ro "$work/mnt-ro"
else
  status=1
fi

mkdir -p "$tests/subdir-root/team/model" "$tests/subdir-root/team/secret"
echo "weights" >"$tests/subdir-root/team/model/model.bin"
echo "key" >"$tests/subdir-root/team/secret/key"
if mount_volume sub "$work/mnt-sub" --subdir /fuse-tests/subdir-root/team/model; then
  suite "$here/mounts_suite.py" subdir "$work/mnt-sub" "$tests/subdir-root/team/model" "$reports"
  unmount_volume sub "$work/mnt-sub"
else
  status=1
fi

# What the integrity test wrote must be there, byte for byte, after an unmount and a new mount.
unmount_volume main "$main_mp"
if mount_volume main "$main_mp"; then
  suite "$here/integrity.py" --verify "$tests" "$work/reference" "$reports"
  rm -rf "$tests"
  unmount_volume main "$main_mp"
else
  status=1
fi

"$py" - "$reports" <<'EOF'
import glob, os, sys, xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(os.path.join(sys.argv[1], "TEST-fuse-*.xml")):
    for c in ET.parse(path).iter("testcase"):
        if c.find("failure") is not None or c.find("error") is not None: f += 1
        elif c.find("skipped") is not None: s += 1
        else: p += 1
print(f"fuse: {p} passed, {f} failed, {s} skipped")
EOF
exit $status
