#!/usr/bin/env bash
# Smoke test of the runtime as a user runs it: ./hangar up on a fresh data folder.
#  1. without a terminal (stdin at its end): prints "ready", keeps running, serves the FUSE mount it was
#     configured with on first start, the web console answers 401 without and 200 with the generated
#     password, the S3 gateway refuses an unsigned request and takes a signed bucket and object (curl
#     --aws-sigv4) that the mount shows, /metrics answers at the URL it printed with the volume's, the
#     mount's and the JVM's series, SIGTERM stops it and the volume closes;
#  2. restarted in a terminal (a pty from script(1)): the Gogo shell runs hangar:* commands on the
#     volume (and hangar:format adds one), the FUSE mount serves the volume, and 'stop 0' ends it; what
#     was written is still there afterwards.
# Nothing is skipped: a runtime that did not mount (no usable FUSE here, or a mount that did not come up)
# fails, saying why. Run as root (the mount). Every wait is bounded; test.sh also runs the whole script
# under a time limit (1200 s; it takes about 25 s here).
# Writes JUnit XML to cnf/target/smoke-reports/ (rewritten after every check, so a run killed midway
# still reports what ran, and fails) and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
# shellcheck source=../scripts/junit.sh
. "$top/scripts/junit.sh"
reports="$top/cnf/target/smoke-reports"
report="$reports/TEST-cnf.smoke-up.xml"
mkdir -p "$reports"
# A report of an earlier run must not be counted as this one's.
rm -f "$reports"/TEST-*.xml
work=$(mktemp -d /tmp/hangar-smoke.XXXXXX)
data="$work/data"
fuse_cfg="$data/etc/io.hangar.frontend.fuse-default.cfg"
pids=()
passed=0
failed=0
cases=""

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  if grep -qs " $data/mnt " /proc/mounts; then sleep 2; fusermount3 -u "$data/mnt" 2>/dev/null || fusermount3 -uz "$data/mnt" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "smoke-up: interrupted" >&2; exit 143' TERM INT HUP

# write_report [final]: the report of the checks so far; until the final one it also holds a failing
# case saying the run did not finish.
write_report() {
  local extra="" n=0
  if [ "${1:-}" != final ]; then
    extra="  <testcase classname=\"cnf.smoke-up\" name=\"(unfinished)\"><failure message=\"smoke-up.sh stopped before its last check: killed (time limit) or crashed\"/></testcase>"$'\n'
    n=1
  fi
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuite name=\"cnf.smoke-up\" tests=\"$((passed + failed + n))\" failures=\"$((failed + n))\" errors=\"0\" skipped=\"0\">"
    printf '%s' "$cases" "$extra"
    echo '</testsuite>'
  } >"$report.tmp" && mv -f "$report.tmp" "$report"
}

# result NAME ok|fail [MESSAGE]
result() {
  local name=$1 verdict=$2 msg=${3:-}
  case $verdict in
    ok) passed=$((passed + 1)); echo "PASS $name"
        cases+="  <testcase classname=\"cnf.smoke-up\" name=\"$name\"/>"$'\n' ;;
    *) failed=$((failed + 1)); echo "FAIL $name: $msg"
        cases+="  <testcase classname=\"cnf.smoke-up\" name=\"$name\"><failure message=\"$(printf '%s' "$msg" | junit_xml_escape)\"/></testcase>"$'\n' ;;
  esac
  write_report
}

is_mounted() { awk -v mp="$1" '$2 == mp && $3 == "fuse.hangar" {found=1} END {exit !found}' /proc/self/mounts; }

# mount_check NAME LOG: the runtime was asked to mount data/mnt (first start writes the FUSE
# configuration when FUSE is usable) and serves it; anything else fails with the reason.
mount_check() {
  local name=$1 log=$2
  if [ ! -f "$fuse_cfg" ]; then
    result "$name" fail "the runtime was not configured to mount (${fuse_cfg#"$data"/} missing): $(cat "$work"/up*.log | grep -o 'no FUSE mount: .*' | head -1 | tr -d '\r')"
  elif ! is_mounted "$data/mnt"; then
    result "$name" fail "configured to mount at $data/mnt but nothing is mounted there; log tail: $(tail -5 "$log" | tr '\r\n' '  ')"
  else
    return 0
  fi
  return 1
}
write_report

# wait_for FILE PATTERN SECONDS PID: until PATTERN is in FILE; fails early if PID exits.
wait_for() {
  local file=$1 pattern=$2 secs=$3 pid=$4 i
  for ((i = 0; i < secs * 5; i++)); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { grep -q -- "$pattern" "$file" 2>/dev/null; return; }
    sleep 0.2
  done
  return 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Build once up front, so that the waits below measure the runtime, not Maven.
./hangar --version >/dev/null || { result build fail "./hangar could not build the CLI and the runtime"; }

port=$(free_port)
log1="$work/up1.log"
./hangar up --data "$data" --console-port "$port" </dev/null >"$log1" 2>&1 &
up=$!
pids+=("$up")

if wait_for "$log1" '^ready' 180 "$up"; then
  result up-prints-ready ok
else
  result up-prints-ready fail "no 'ready' line; log tail: $(tail -5 "$log1" | tr '\n' ' ')"
fi
if mount_check up-mounts-the-volume "$log1"; then
  result up-mounts-the-volume ok
fi

password=$(grep -o 'password [^ ]*$' "$log1" | head -1 | cut -d' ' -f2)
url="http://127.0.0.1:$port/system/console/bundles"
without=$(curl -s -o /dev/null -w '%{http_code}' "$url")
with=$(curl -s -o /dev/null -w '%{http_code}' -u "admin:$password" "$url")
if [ "$without" = 401 ] && [ "$with" = 200 ]; then
  result web-console-needs-the-password ok
else
  result web-console-needs-the-password fail "expected 401/200, got $without/$with (password '${password}')"
fi

# The S3 gateway of the first start: its port and generated keys are printed; an unsigned request is refused
# with an S3 error, a signed one (curl's SigV4) creates a bucket and an object that the FUSE mount shows.
s3line=$(grep -m1 '^s3: ' "$log1" || true)
s3url=$(printf '%s' "$s3line" | awk '{print $2}')
s3ak=$(printf '%s' "$s3line" | sed -n 's/.*access key \([^,]*\),.*/\1/p')
s3sk=$(printf '%s' "$s3line" | sed -n 's/.*secret key \([^ ]*\).*/\1/p')
anon=$(curl -s "$s3url/" || true)
# curl 7.88 signs no payload hash of its own: it takes the x-amz-content-sha256 given.
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" -u "$s3ak:$s3sk" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
s3put=$(curl -s -o /dev/null -w '%{http_code}' "${sig[@]}" -X PUT "$s3url/smoke-bucket" || true)
s3obj=$(curl -s -o /dev/null -w '%{http_code}' "${sig[@]}" -X PUT --data-binary 'through s3' \
  "$s3url/smoke-bucket/hello.txt" || true)
sleep 1.5
if [ -n "$s3ak" ] && printf '%s' "$anon" | grep -q '<Code>AccessDenied</Code>' && [ "$s3put" = 200 ] \
  && [ "$s3obj" = 200 ] && [ "$(cat "$data/mnt/smoke-bucket/hello.txt" 2>/dev/null)" = 'through s3' ]; then
  result up-serves-s3 ok
else
  result up-serves-s3 fail "s3 line '$s3line', unsigned: ${anon:0:120}, create bucket $s3put, put $s3obj, in the mount: $(cat "$data/mnt/smoke-bucket/hello.txt" 2>&1 | head -c 100)"
fi

# The runtime's /metrics: the URL up printed answers without a password, in the Prometheus text format, with
# the volume's and the mount's series; what S3 and the mount just wrote shows in the FUSE and store counters.
# (grep -q reads a here-string, not a pipe: under pipefail, printf of a scrape larger than a pipe's buffer
# dies of SIGPIPE once grep -q has its match, and the check would fail though it matched.)
murl=$(grep -o '^metrics: *http://[^ ]*' "$log1" | head -1 | awk '{print $2}')
mtext=$(curl -s "$murl" || true)
mput=$(printf '%s\n' "$mtext" | awk '/^hangar_object_request_data_bytes_total\{method="PUT",volume="default"\}/ {print $2}')
if [ "$murl" = "http://127.0.0.1:$port/metrics" ] \
  && grep -q '^hangar_fuse_op_duration_seconds_count{method="lookup",mountpoint="'"$data"'/mnt",volume="default"}' <<<"$mtext" \
  && grep -q '^jvm_memory_used_bytes' <<<"$mtext" && [ -n "$mput" ] \
  && awk -v v="$mput" 'BEGIN { exit !(v >= 10) }' && [ "$(cat "$data/run/metrics.url" 2>/dev/null)" = "$murl" ]; then
  result up-serves-metrics ok
else
  result up-serves-metrics fail "metrics line '$murl', run/metrics.url '$(cat "$data/run/metrics.url" 2>&1)', PUT bytes '$mput', scrape: ${mtext:0:200}"
fi

# stdin ended at start: the runtime must still be serving (the launcher's 117 would have ended it).
sleep 2
if kill -0 "$up" 2>/dev/null && [ -f "$data/run/default.ready" ]; then
  result runs-without-stdin ok
else
  result runs-without-stdin fail "the runtime stopped when stdin ended"
fi

kill -TERM "$up"
stopped=no
for ((i = 0; i < 300; i++)); do kill -0 "$up" 2>/dev/null || { stopped=yes; break; }; sleep 0.2; done
if [ $stopped = yes ] && [ ! -e "$data/run/default.ready" ] && ! is_mounted "$data/mnt"; then
  result sigterm-closes-the-volume ok
else
  result sigterm-closes-the-volume fail "stopped=$stopped, ready marker left: $(ls "$data/run" 2>&1), mounted: $(is_mounted "$data/mnt" && echo yes || echo no)"
fi

# 2. In a terminal: Gogo reads the commands written to the fifo.
log2="$work/up2.log"
fifo="$work/stdin"
mkfifo "$fifo"
printf 'smoke payload %s\n' "$(date +%s%N)" >"$work/payload"
script -qfec "$top/hangar up --data $data" /dev/null <"$fifo" >"$log2" 2>&1 &
term=$!
pids+=("$term")
exec 3>"$fifo"
if wait_for "$log2" '^ready' 180 "$term"; then
  gogo() { echo "$*" >&3; }
  gogo "hangar:mkdir -p default /smoke"
  gogo "hangar:put default $work/payload /smoke/payload"
  gogo "hangar:ls -l default /smoke"
  gogo "hangar:cat default /smoke/payload"
  gogo "hangar:ls default /nope"
  if wait_for "$log2" "smoke payload" 30 "$term" && wait_for "$log2" "/nope: no such file" 30 "$term"; then
    result gogo-hangar-commands ok
  else
    result gogo-hangar-commands fail "log tail: $(tail -8 "$log2" | tr '\r\n' '  ')"
  fi
  # Formatting in the runtime adds the volume to etc/; the runtime formats and serves it.
  gogo "hangar:format sqlite://$work/second.db second --storage file://$work/second-chunks"
  gogo "hangar:volumes"
  if wait_for "$log2" "^second  file://$work/second-chunks  ok" 60 "$term" \
      && [ -f "$data/etc/io.hangar.volume-second.cfg" ]; then
    result gogo-format-adds-a-volume ok
  else
    result gogo-format-adds-a-volume fail "log tail: $(tail -8 "$log2" | tr '\r\n' '  ')"
  fi
  if mount_check fuse-mount-serves-the-volume "$log2"; then
    if cmp -s "$work/payload" "$data/mnt/smoke/payload"; then
      result fuse-mount-serves-the-volume ok
    else
      result fuse-mount-serves-the-volume fail "$data/mnt/smoke/payload differs or is missing"
    fi
  fi
  gogo "stop 0"
  exec 3>&-
  ended=no
  for ((i = 0; i < 300; i++)); do kill -0 "$term" 2>/dev/null || { ended=yes; break; }; sleep 0.2; done
  if [ $ended = yes ]; then result gogo-stop-ends-the-runtime ok; else result gogo-stop-ends-the-runtime fail "still running"; fi
else
  exec 3>&-
  result gogo-hangar-commands fail "no 'ready' in a terminal; log tail: $(tail -5 "$log2" | tr '\r\n' '  ')"
fi

# The data written through Gogo survives: the CLI reads it in-process once the runtime is gone (its JVM,
# not only the terminal it ran in: waited for, at most 60 s).
for ((i = 0; i < 300; i++)); do pgrep -f "hangar.home=$data" >/dev/null || break; sleep 0.2; done
catout="$work/cat.out"
./hangar cat "sqlite://$data/meta.db" /smoke/payload >"$catout" 2>"$work/cat.err"
catrc=$?
if [ $catrc = 0 ] && cmp -s "$catout" "$work/payload"; then
  result data-survives-the-runtime ok
else
  result data-survives-the-runtime fail "./hangar cat of /smoke/payload: exit $catrc, stdout '$(head -c 200 "$catout")', stderr '$(head -c 300 "$work/cat.err")', expected '$(cat "$work/payload")'; runtime still running: $(pgrep -f "hangar.home=$data" | tr '\n' ' ')"
fi

write_report final
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
