#!/usr/bin/env bash
# fsck and gc on a volume of many blocks, for their time and memory: builds a volume of BLOCKS blocks
# (files made through the metadata engine, blocks as sparse files of the right length in a file store, plus
# LEAKED blocks no slice names), then runs `./hangar fsck -q` and `./hangar gc --dry-run -q` under
# /usr/bin/time with a small heap (-Xmx$HEAP), on SQLite and on Redis (its own redis-server, stopped by pid).
# Usage: bench/fsck-bench.sh [BLOCKS=200000] [LEAKED=1000] [HEAP=64m]
set -euo pipefail
cd "$(dirname "$0")/.."
BLOCKS=${1:-200000}
LEAKED=${2:-1000}
HEAP=${3:-64m}
[ -x /usr/bin/time ] || { echo "fsck-bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
./hangar --version >/dev/null
CP="$(ls cli/target/cli-*.jar | grep -v -e tests -e sources | head -1):cli/target/lib/*"
DIR=$(mktemp -d /tmp/fsck-bench.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT

measure() { # label, command...
  local label=$1; shift
  local rc=0
  HANGAR_JAVA_OPTS="-Xmx$HEAP" /usr/bin/time -f "%e %M" -o "$DIR/time" "$@" >"$DIR/out" 2>&1 || rc=$?
  read -r secs kb < <(tail -1 "$DIR/time")
  printf '%-28s %7.1f s  max RSS %5d MiB  (heap -Xmx%s, exit %d)\n' "$label" "$secs" $((kb / 1024)) "$HEAP" "$rc"
  tail -1 "$DIR/out" | sed 's/^/    /'
}

run() { # engine, meta-url
  local engine=$1 meta=$2
  local t0=$SECONDS
  java -cp "$CP" io.hangar.cli.bench.FsckBenchVolume "$meta" "$DIR/$engine-store" "$BLOCKS" "$LEAKED" | sed 's/^/    /'
  echo "  $engine: volume built in $((SECONDS - t0)) s"
  measure "$engine fsck" ./hangar fsck -q "$meta"
  measure "$engine gc --dry-run" ./hangar gc --dry-run --older-than 0s -q "$meta"
}

echo "fsck-bench: $BLOCKS blocks + $LEAKED leaked, $(nproc) cores"
run sqlite "sqlite://$DIR/meta.db"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --appendonly yes --appendfsync everysec --dir "$DIR" --save '' \
  --daemonize no >"$DIR/redis.log" 2>&1 &
PID=$!
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$PORT" ping >/dev/null
run redis "redis://127.0.0.1:$PORT/0"
