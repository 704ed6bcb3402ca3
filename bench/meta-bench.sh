#!/usr/bin/env bash
# Metadata benchmark of meta-redis next to redis-benchmark GET/SET on the same server, in the same run.
# Starts its own redis-server (AOF, appendfsync always, loopback, free port), stops it by pid at the end.
# Usage: bench/meta-bench.sh [entries=10000] [thread counts="1 8"]
set -euo pipefail
cd "$(dirname "$0")/.."
ENTRIES=${1:-10000}
THREADS=${2:-"1 8"}

# Maven's output (colour resets even with -q) is shown only if a step fails.
build() { local out; out=$("$@" 2>&1) || { echo "$out"; exit 1; }; }
build mvn -o -q -B test-compile -pl meta-redis
build mvn -o -q -B dependency:build-classpath -pl meta-redis -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/meta-bench.cp
CP="meta-redis/target/test-classes:meta-redis/target/classes:$(cat meta-redis/target/meta-bench.cp)"

DIR=$(mktemp -d /tmp/meta-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --appendonly yes --appendfsync always --dir "$DIR" --save '' \
  --daemonize no >"$DIR/redis.log" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$PORT" ping >/dev/null

PROPS=()
for c in $THREADS; do
  # -q prints "SET: 12345.67 requests per second, p50=…": keep the rate.
  while read -r op rate; do
    PROPS+=("-D${op}.${c}=${rate}")
  done < <(redis-benchmark -p "$PORT" -t get,set -n 100000 -c "$c" -q | tr '\r' '\n' \
             | sed -nE 's/^(GET|SET): ([0-9.]+) requests per second.*/\1 \2/p' | tr 'A-Z' 'a-z')
done
echo "redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/') on 127.0.0.1:$PORT, appendfsync always; $(nproc) cores"
java "${PROPS[@]}" -cp "$CP" io.hangar.meta.redis.MetaBench "redis://127.0.0.1:$PORT/0" "$ENTRIES" $THREADS
