#!/usr/bin/env bash
# The FUSE suites on real mounts (as root), on every metadata engine: the POSIX behaviour suite, the
# randomized integrity test (and its check after a remount), the torch checkpoint round trip, two mounts in
# two processes, a read-only mount and a subdir mount; then the crash suite (kill -9 of a mount's runtime,
# a failing chunk store; on volumes of its own, see crash_suite.py). They run once on SQLite metadata and
# once on a real redis-server this script starts on a free loopback port (and stops by pid, also on
# failure), each time on a freshly formatted volume with a file store. Every suite writes a JUnit XML
# report TEST-fuse-<engine>-<suite>.xml that scripts/junit-summary.py counts; the last line says
# "fuse: N passed, N failed".
#
#   run.sh [META-URL MOUNTPOINT]
#
# Without arguments the engines in HANGAR_FUSE_ENGINES (default "sqlite redis") each get a fresh volume
# in a temporary folder. With them, META-URL must be a formatted volume and MOUNTPOINT an empty
# directory; the suites work under /fuse-tests in the volume and the engine is the URL's scheme.
#
# Nothing is ever skipped: not root, no usable /dev/fuse, no libfuse3.so.3, no fusermount3, no Python, no
# redis-server, a server or a mount that does not start, a suite that exits without its report or runs
# past its time limit: each is a failure, written as a report with a <failure> that says what is missing,
# and the exit status is 1.
#
# Time limits (seconds; a suite past its own is killed, TERM then KILL 30 s later, and fails): posix 900,
# integrity 900, torch 1200, crash 1200, twomounts/readonly/subdir/integrity-remount/integrity-disk-cache
# 300 each; a format, mount or unmount 300. Here (2 cores) a whole run on both engines takes under 3 minutes plus 3-5 for the
# crash suite per engine, posix and torch under 20 s each per engine: the limits are there to end a hang,
# not to time anything. HANGAR_FUSE_SUITE_LIMIT=S sets one limit for every suite (e.g. to see the
# time-limit path).
#
# Mounts are made with ./hangar mount -d (the runtime, the DS component) when the runtime jar is built,
# else with the standalone harness (frontend-fuse's MountMain); HANGAR_FUSE_MOUNTER=cli|harness chooses.
# Every mount is unmounted and every process this script started is stopped by pid at the end.
# HANGAR_FUSE_KEEP=1 keeps the temporary folder (it is kept anyway when something failed).
# HANGAR_FUSE_PYTHON (default /usr/bin/python3, Debian's, which has python3-torch) runs the suites;
# REDIS_SERVER (default redis-server on the PATH) is the server binary, as for the JVM tests.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=../../scripts/junit.sh
. "$top/scripts/junit.sh"
reports=${HANGAR_FUSE_REPORTS:-$here/target/reports}
py=${HANGAR_FUSE_PYTHON:-/usr/bin/python3}
redis_bin=${REDIS_SERVER:-redis-server}
# A UTF-8 locale: the suites' non-ASCII names (Python's file system encoding); the runtime inherits it.
export LC_ALL=C.UTF-8
attr_timeout=1.0
export HANGAR_ATTR_TIMEOUT=$attr_timeout
# Every suite, in the order they run: their reports are expected whatever happens (test.sh expects the
# same list for each engine).
all_suites="posix integrity torch metrics twomounts readonly subdir integrity-remount integrity-disk-cache crash"
status=0
work=""
current=""
redis_pid=""

limit_of() {
  if [ -n "${HANGAR_FUSE_SUITE_LIMIT:-}" ]; then echo "$HANGAR_FUSE_SUITE_LIMIT"; return; fi
  case $1 in
    posix | integrity) echo 900 ;;
    torch | crash) echo 1200 ;;
    *) echo 300 ;;
  esac
}

# Stale reports of an earlier run must not be counted as this run's.
mkdir -p "$reports"
rm -f "$reports"/TEST-fuse-*.xml

# fail_env MESSAGE: a missing prerequisite fails the whole run (never a skip).
fail_env() {
  echo "fuse: FAILED: $1" >&2
  junit_failure "$reports/TEST-fuse-environment.xml" fuse.environment prerequisites "$1"
  echo "fuse: 0 passed, 1 failed"
  exit 1
}

[ "$(id -u)" = 0 ] || fail_env "the FUSE suites need root (permission and ownership tests switch users); run as root"
[ -c /dev/fuse ] || fail_env "/dev/fuse is missing or not a character device (no FUSE in this kernel or container)"
( exec 3<>/dev/fuse ) 2>/dev/null || fail_env "/dev/fuse cannot be opened read-write (container device rules?)"
[ -x "$py" ] || fail_env "$py is missing (apt-get install -y python3)"
# The whole cache listing first, then the search: grep -q on a pipe would exit at the first match and
# kill ldconfig with SIGPIPE, which pipefail reports as a failed check.
ldconfig_bin=$(command -v ldconfig || echo /sbin/ldconfig)
libs=$("$ldconfig_bin" -p 2>/dev/null) || fail_env "cannot list the shared libraries ($ldconfig_bin -p failed)"
# The mount is libfuse 3's low-level API (docs/frontend-fuse.md).
libfuse=$(awk '$1 == "libfuse3.so.3" { print $NF; exit }' <<<"$libs")
[ -n "$libfuse" ] && [ -e "$libfuse" ] \
  || fail_env "libfuse3.so.3 is missing from the loader's cache ($ldconfig_bin -p); apt-get install -y fuse3 libfuse3-3"
command -v fusermount3 >/dev/null || fail_env "fusermount3 is not on the PATH (apt-get install -y fuse3)"
command -v timeout >/dev/null || fail_env "timeout (coreutils) is missing: the suites run under time limits"

mounter=${HANGAR_FUSE_MOUNTER:-}
if [ -z "$mounter" ]; then
  if [ -f "$top/cnf/target/hangar.jar" ] && [ -x "$top/hangar" ]; then mounter=cli; else mounter=harness; fi
fi
case $mounter in
  cli | harness) ;;
  *) fail_env "HANGAR_FUSE_MOUNTER must be cli or harness, not '$mounter'" ;;
esac
harness_cp=""
if [ "$mounter" = harness ]; then
  cpfile="$top/frontend-fuse/target/harness.classpath"
  if [ ! -f "$cpfile" ] || [ ! -d "$top/frontend-fuse/target/test-classes" ]; then
    echo "fuse: building frontend-fuse's test harness" >&2
    (cd "$top" && mvn -o -q -B install -pl frontend-fuse -DskipTests) || fail_env "the mount harness does not build"
  fi
  harness_cp="$top/frontend-fuse/target/test-classes:$top/frontend-fuse/target/classes:$(cat "$cpfile")"
fi

if [ $# -ge 2 ]; then
  case $1 in
    sqlite:*) engines=sqlite ;;
    redis*:*) engines=redis ;;
    *) fail_env "unknown metadata URL scheme in $1" ;;
  esac
else
  engines=${HANGAR_FUSE_ENGINES:-sqlite redis}
fi
case " $engines " in
  *" redis "*)
    if [ $# -lt 2 ]; then
      command -v "$redis_bin" >/dev/null || fail_env "$redis_bin is missing (apt-get install -y redis-server); the suites run on Redis too"
    fi ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/hangar-fuse.XXXXXX")
# The permission tests run steps as nobody: the path to the mounts must be searchable.
chmod 755 "$work"
mkdir -p "$work/pids"
: >"$work/mountpoints"
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

is_mounted() { awk -v mp="$1" '$2 == mp && $3 == "fuse.hangar" {found=1} END {exit !found}' /proc/self/mounts; }

# run_limited SECONDS COMMAND...: runs COMMAND under a time limit, in the background so that a TERM to
# this script is handled at once (the trap stops COMMAND, then cleans up) instead of after COMMAND ends.
run_limited() {
  local limit=$1 rc
  shift
  timeout -k 30 "$limit" "$@" &
  current=$!
  wait "$current"
  rc=$?
  current=""
  return $rc
}

stop_pid() {  # stop_pid PID SECONDS: TERM, then KILL when it is still there after SECONDS
  local pid=$1 secs=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  kill -KILL "$pid" 2>/dev/null
}

cleanup() {
  local f mp
  [ -n "$current" ] && stop_pid "$current" 40
  if [ -n "$work" ]; then
    while read -r mp; do
      [ -n "$mp" ] || continue
      if is_mounted "$mp"; then fusermount3 -u "$mp" 2>/dev/null || fusermount3 -uz "$mp" 2>/dev/null; fi
    done <"$work/mountpoints"
    for f in "$work"/pids/*; do
      [ -f "$f" ] || continue
      stop_pid "$(cat "$f")" 20
      rm -f "$f"
    done
  fi
  # The server goes last: the mounts flush their metadata to it while they stop.
  if [ -n "$redis_pid" ]; then
    stop_pid "$redis_pid" 10
    redis_pid=""
  fi
  [ -n "$work" ] || return
  if [ "${HANGAR_FUSE_KEEP:-0}" = 1 ] || [ $status -ne 0 ]; then
    echo "fuse: work folder kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'echo "fuse: interrupted" >&2; status=1; exit 143' TERM INT HUP

free_port() {
  "$py" -c '
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p != 6379:
        print(p); break'
}

redis_ping() {  # redis_ping PORT: whether a server answers PING there
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 line <&3 || exit 1
    [ "${line%$'\r'}" = "+PONG" ]
  ) 2>/dev/null
}

# start_redis DIR: a real redis-server of this run's own on a free loopback port (never 6379); sets
# redis_port and redis_pid, or redis_error. The data lives only as long as the run: no AOF, no snapshots.
start_redis() {
  local dir=$1 i rc
  mkdir -p "$dir"
  redis_port=$(free_port) || { redis_error="no free loopback port"; return 1; }
  "$redis_bin" --port "$redis_port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --daemonize no --protected-mode no >"$dir/redis.log" 2>&1 </dev/null &
  redis_pid=$!
  for ((i = 0; i < 80; i++)); do
    redis_ping "$redis_port" && { echo "fuse: redis-server pid $redis_pid on 127.0.0.1:$redis_port"; return 0; }
    if ! kill -0 "$redis_pid" 2>/dev/null; then
      wait "$redis_pid"
      rc=$?
      redis_pid=""
      redis_error="$redis_bin exited with status $rc at start: $(tail -3 "$dir/redis.log" | tr '\n' ' ')"
      return 1
    fi
    sleep 0.25
  done
  redis_error="$redis_bin on port $redis_port did not answer PING within 20 s: $(tail -3 "$dir/redis.log" | tr '\n' ' ')"
  return 1
}

# fail_suite SUITE MESSAGE [DETAILS]: the suite did not run, or did not finish: its report says why.
fail_suite() {
  echo "fuse ($engine): $1 FAILED: $2" >&2
  junit_failure "$reports/TEST-fuse-$engine-$1.xml" "fuse.$engine.$1" "(suite)" "$2" "${3:-}"
  status=1
}

# mount NAME MOUNTPOINT [--read-only] [--subdir D] [--attr-timeout S] [--entry-timeout S]
mount_volume() {
  local name=$1 mp=$2 i
  shift 2
  mkdir -p "$mp"
  echo "$mp" >>"$work/mountpoints"
  if [ "$mounter" = cli ]; then
    # ./hangar mount -d waits (bounded, 120 s) for the mount; the limit here is only a backstop.
    run_limited 300 "$top/hangar" mount -d "$meta" "$mp" --runtime-dir "$ework/runtime-$name" "$@" \
      >"$ework/$name.log" 2>&1 </dev/null
    # The runtime's pid, from the launcher's line "mounted ... (runtime pid N, log ...)".
    sed -n 's/.*runtime pid \([0-9]*\).*/\1/p' "$ework/$name.log" >"$work/pids/$engine-$name"
    [ -s "$work/pids/$engine-$name" ] || rm -f "$work/pids/$engine-$name"
  else
    java -Dfile.encoding=UTF-8 -cp "$harness_cp" io.hangar.frontend.fuse.MountMain mount "$meta" "$mp" "$@" \
      >"$ework/$name.log" 2>&1 </dev/null &
    echo $! >"$work/pids/$engine-$name"
    for ((i = 0; i < 240; i++)); do
      is_mounted "$mp" && break
      kill -0 "$(cat "$work/pids/$engine-$name")" 2>/dev/null || break
      sleep 0.25
    done
  fi
  is_mounted "$mp" && return 0
  mount_error="mount $name of $meta at $mp failed: $(tail -5 "$ework/$name.log" | tr '\n' ' ')"
  echo "fuse: $mount_error" >&2
  return 1
}

# Unmounts like a user would (fusermount3 -u); the process serving the mount must notice and exit.
unmount_volume() {
  local name=$1 mp=$2 pid i
  pid=$(cat "$work/pids/$engine-$name" 2>/dev/null || true)
  if is_mounted "$mp"; then
    if [ "$mounter" = cli ]; then
      run_limited 300 "$top/hangar" umount "$mp" >>"$ework/$name.log" 2>&1 </dev/null
    else
      fusermount3 -u "$mp"
    fi
  fi
  [ -n "$pid" ] || return 0
  for ((i = 0; i < 240; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$work/pids/$engine-$name"; return 0; }
    sleep 0.25
  done
  echo "fuse: the process serving $name (pid $pid) did not exit after its unmount" >&2
  junit_failure "$reports/TEST-fuse-$engine-unmount-$name.xml" "fuse.$engine.unmount" "$name" \
    "the process serving the mount $name (pid $pid) did not exit within 60 s of its unmount"
  status=1
  stop_pid "$pid" 5
  rm -f "$work/pids/$engine-$name"
}

# suite NAME SCRIPT ARGS...: runs one suite under its time limit with this engine's report name. A suite
# that runs past its limit, exits without a report, or exits with an error its report does not show,
# fails (its report, rewritten after every test, still lists what ran).
suite() {
  local name=$1 script=$2 limit rc report
  shift 2
  limit=$(limit_of "$name")
  report="$reports/TEST-fuse-$engine-$name.xml"
  rm -f "$report"
  echo "== fuse ($engine): $name (time limit ${limit}s)"
  run_limited "$limit" "$py" "$here/$script" "$@"
  rc=$?
  if [ $rc = 124 ] || [ $rc = 137 ]; then
    echo "fuse ($engine): $name FAILED: killed after its time limit of ${limit}s" >&2
    junit_failure "$reports/TEST-fuse-$engine-$name-time-limit.xml" "fuse.$engine.$name" "(time limit)" \
      "killed after its time limit of ${limit}s (a hang, or far slower than it should be)"
    status=1
  elif [ ! -s "$report" ]; then
    fail_suite "$name" "$script exited with status $rc and wrote no report"
  elif [ $rc != 0 ] && ! junit_has_failure "$report"; then
    junit_failure "$reports/TEST-fuse-$engine-$name-exit.xml" "fuse.$engine.$name" "(exit status)" \
      "$script exited with status $rc but its report shows no failure"
    status=1
  fi
  [ $rc = 0 ] || status=1
}

# not_run REASON SUITE...: the suites could not run (their mount failed): each fails with the reason.
not_run() {
  local why=$1 s
  shift
  for s in "$@"; do fail_suite "$s" "not run: $why"; done
}

# run_engine ENGINE [META-URL MOUNTPOINT]: every suite on one volume of this engine.
run_engine() {
  engine=$1
  export HANGAR_FUSE_ENGINE=$engine
  ework="$work/$engine"
  mkdir -p "$ework"
  if [ $# -ge 3 ]; then
    meta=$2
    main_mp=$(readlink -f "$3")
    unset HANGAR_FUSE_STORE
  else
    main_mp="$ework/mnt"
    # The suites may look at the store (posix: copy_file_range adds no block).
    export HANGAR_FUSE_STORE="$ework/chunks"
    case $engine in
      sqlite) meta="sqlite://$ework/meta.db" ;;
      redis)
        if ! start_redis "$ework/redis"; then
          not_run "redis-server did not start: $redis_error" $all_suites
          return
        fi
        meta="redis://127.0.0.1:$redis_port/1" ;;
      *) not_run "unknown engine '$engine' (HANGAR_FUSE_ENGINES)" $all_suites; return ;;
    esac
    if [ "$mounter" = cli ]; then
      run_limited 300 "$top/hangar" format "$meta" fusetest --storage "file://$ework/chunks" </dev/null
    else
      run_limited 300 java -Dfile.encoding=UTF-8 -cp "$harness_cp" io.hangar.frontend.fuse.MountMain \
        format "$meta" fusetest "file://$ework/chunks" </dev/null
    fi >"$ework/format.log" 2>&1 || {
      cat "$ework/format.log" >&2
      not_run "cannot format a volume on $meta: $(tail -3 "$ework/format.log" | tr '\n' ' ')" $all_suites
      return
    }
  fi
  echo "fuse ($engine): volume $meta, mounts made by the $mounter, work folder $ework"

  if ! mount_volume main "$main_mp" --attr-timeout "$attr_timeout" --entry-timeout "$attr_timeout"; then
    not_run "$mount_error" $all_suites
    return
  fi
  local tests="$main_mp/fuse-tests"
  mkdir -p "$tests"

  suite posix posix_suite.py "$tests" "$reports"
  suite integrity integrity.py "$tests" "$ework/reference" "$reports" --ops 4000
  suite torch torch_roundtrip.py "$tests" "$reports"
  # The mount's /metrics against what a workload did, hangar stats, the dashboard on a real Prometheus.
  suite metrics metrics_suite.py "$tests" "$reports"

  # A second mount in another process, with no kernel caching: it must see what the first one closed.
  if mount_volume b "$ework/mnt-b" --attr-timeout 0 --entry-timeout 0; then
    suite twomounts mounts_suite.py twomounts "$tests" "$ework/mnt-b/fuse-tests" "$reports"
    unmount_volume b "$ework/mnt-b"
  else
    not_run "$mount_error" twomounts
  fi

  if mount_volume ro "$ework/mnt-ro" --read-only; then
    suite readonly mounts_suite.py readonly "$ework/mnt-ro/fuse-tests" "$tests" "$reports"
    unmount_volume ro "$ework/mnt-ro"
  else
    not_run "$mount_error" readonly
  fi

  mkdir -p "$tests/subdir-root/team/model" "$tests/subdir-root/team/secret"
  echo "weights" >"$tests/subdir-root/team/model/model.bin"
  echo "key" >"$tests/subdir-root/team/secret/key"
  if mount_volume sub "$ework/mnt-sub" --subdir /fuse-tests/subdir-root/team/model; then
    suite subdir mounts_suite.py subdir "$ework/mnt-sub" "$tests/subdir-root/team/model" "$reports"
    unmount_volume sub "$ework/mnt-sub"
  else
    not_run "$mount_error" subdir
  fi

  # What the integrity test wrote must be there, byte for byte, after an unmount and a new mount: first from
  # a disk block cache alone, then from the store. A mount with a disk cache warms the files into it (hangar
  # warmup, which --check must then find wholly on disk); a second mount on that cache, with the volume's
  # blocks moved out of the store (when the store is this run's own), must read every byte from it, and
  # --evict must then leave nothing cached; then, the blocks back, a plain mount.
  local cache_opts=(--cache-dir "$ework/disk-cache" --cache-writes --disk-cache-size 4G --free-space-ratio 0.01)
  local blocks="${HANGAR_FUSE_STORE:-}/fusetest/chunks" warmed=""
  # The random test's file is mostly holes: a 64 MiB model of random bytes joins it (integrity.py --verify
  # compares every file of the reference folder).
  head -c $((64 << 20)) /dev/urandom >"$ework/reference/model.bin"
  cp "$ework/reference/model.bin" "$tests/integrity-random_writes_truncates_reads/model.bin"
  unmount_volume main "$main_mp"
  if mount_volume warm "$main_mp" "${cache_opts[@]}"; then
    local warm_dir="$tests/integrity-random_writes_truncates_reads"
    if run_limited 300 "$top/hangar" warmup "$warm_dir" >"$ework/warmup.log" 2>&1 \
        && run_limited 300 "$top/hangar" warmup --check "$warm_dir" >>"$ework/warmup.log" 2>&1 \
        && grep -q 'cached: disk cache [^(]*(100.0%)' "$ework/warmup.log"; then
      warmed=1
      cat "$ework/warmup.log"
    else
      fail_suite integrity-disk-cache "hangar warmup, or its --check finding every block on disk, failed" \
        "$(tail -5 "$ework/warmup.log")"
    fi
    unmount_volume warm "$main_mp"
  else
    not_run "$mount_error" integrity-disk-cache
  fi
  if [ -n "$warmed" ]; then
    [ -n "${HANGAR_FUSE_STORE:-}" ] && mv "$blocks" "$ework/blocks-away"
    if mount_volume cached "$main_mp" "${cache_opts[@]}"; then
      suite integrity-disk-cache integrity.py --verify "$tests" "$ework/reference" "$reports" --suite integrity-disk-cache
      if ! { run_limited 300 "$top/hangar" warmup --evict "$warm_dir" && run_limited 300 "$top/hangar" warmup --check "$warm_dir"; } \
          >"$ework/evict.log" 2>&1 || ! grep -q 'cached: disk cache 0 B (0.0%)' "$ework/evict.log"; then
        fail_suite integrity-disk-cache "hangar warmup --evict left blocks in the disk cache" "$(tail -5 "$ework/evict.log")"
      fi
      cat "$ework/evict.log"
      unmount_volume cached "$main_mp"
    else
      not_run "$mount_error" integrity-disk-cache
    fi
    if [ -n "${HANGAR_FUSE_STORE:-}" ]; then
      mkdir -p "$blocks" && cp -a "$ework/blocks-away/." "$blocks/" && rm -rf "$ework/blocks-away"
    fi
  fi
  if mount_volume main "$main_mp"; then
    suite integrity-remount integrity.py --verify "$tests" "$ework/reference" "$reports"
    rm -rf "$tests"
    unmount_volume main "$main_mp"
  else
    not_run "$mount_error" integrity-remount
  fi

  # Crash tests of Hangar itself, on volumes the suite formats and mounts itself (never the given one: it
  # kills runtimes and runs gc without a grace period); it needs the CLI and the runtime jar.
  suite crash crash_suite.py "$engine" "$ework/crash" "$reports"
}

if [ $# -ge 2 ]; then
  run_engine "$engines" "$1" "$2"
else
  for e in $engines; do
    run_engine "$e"
    if [ -n "$redis_pid" ]; then stop_pid "$redis_pid" 10; redis_pid=""; fi
  done
fi

"$py" - "$reports" <<'EOF' || status=1
import glob, os, sys, xml.etree.ElementTree as ET
p = f = 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "TEST-fuse-*.xml"))):
    try:
        cases = list(ET.parse(path).iter("testcase"))
    except ET.ParseError as e:
        print(f"fuse: unreadable report {path}: {e}")
        f += 1
        continue
    for c in cases:
        # A skip hides a missing part: it counts as a failure.
        if c.find("failure") is not None or c.find("error") is not None or c.find("skipped") is not None:
            f += 1
        else:
            p += 1
print(f"fuse: {p} passed, {f} failed")
sys.exit(1 if f or not p else 0)
EOF
exit $status
