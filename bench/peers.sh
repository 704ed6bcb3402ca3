#!/usr/bin/env bash
# A Hangar mount on RADOS (Redis metadata) next to `rados bench` and to ceph-fuse (CephFS on the same
# cluster), in one run: a sequential write of SIZE MiB (dd bs=1M conv=fsync, one thread), then a cold read
# of it (page cache dropped, the mount made anew). Uses the Ceph test cluster in DIR (scripts/
# ceph-test-cluster.sh; started, given CephFS, and stopped here if it was not up) and a redis-server of its
# own (appendfsync always, loopback, stopped by pid). Never run by the tests; needs root and ./hangar built.
# Usage: bench/peers.sh [SIZE_MIB=2048] [DIR=target/peers-ceph]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
SIZE=${1:-2048}
DIR=${2:-$top/target/peers-ceph}
[ "$(id -u)" = 0 ] || { echo "peers: needs root (FUSE mounts, drop_caches)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "peers: redis-server is missing (apt-get install redis-server)" >&2; exit 1; }
mkdir -p "$DIR"
started=""
if ! scripts/ceph-test-cluster.sh status "$DIR" >/dev/null 2>&1; then
  scripts/ceph-test-cluster.sh up "$DIR" >/dev/null
  started=1
fi
scripts/ceph-test-cluster.sh cephfs "$DIR"
# shellcheck disable=SC1091
. "$DIR/env"
WORK=$(mktemp -d /tmp/peers.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --appendonly yes --appendfsync always --dir "$WORK" --save '' \
  --daemonize no >"$WORK/redis.log" 2>&1 &
REDIS=$!
MNT=$WORK/mnt
cleanup() {
  grep -qs " $MNT " /proc/mounts && ./hangar umount "$MNT" >/dev/null 2>&1
  kill "$REDIS" 2>/dev/null; wait "$REDIS" 2>/dev/null
  rm -f "$DIR/cephfs/peers.bin"
  rm -rf "$WORK"
  [ -n "$started" ] && scripts/ceph-test-cluster.sh down "$DIR"
  return 0
}
trap cleanup EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
mkdir -p "$MNT"

rate() { # MiB SECONDS-FROM SECONDS-TO
  awk -v m="$1" -v a="$2" -v b="$3" 'BEGIN{printf "%.1f", m/(b-a)}'
}
timed_dd() { # IF OF [conv]: prints MiB/s
  local t0 t1
  t0=$(date +%s.%N)
  dd if="$1" of="$2" bs=1M count="$SIZE" ${3:+conv=$3} status=none
  t1=$(date +%s.%N)
  rate "$SIZE" "$t0" "$t1"
}
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }

meta="redis://127.0.0.1:$PORT/0"
./hangar format "$meta" peers --storage "rados://$RADOS_POOL/peers-$$?conf=$CEPH_CONF&user=$CEPH_USER&keyring=$CEPH_KEYRING" >/dev/null
./hangar mount "$meta" "$MNT" -d >/dev/null
hw=$(timed_dd /dev/zero "$MNT/peers.bin" fsync)
./hangar umount "$MNT" >/dev/null
cold
./hangar mount "$meta" "$MNT" -d >/dev/null
hr=$(timed_dd "$MNT/peers.bin" /dev/null)
./hangar umount "$MNT" >/dev/null

cw=$(timed_dd /dev/zero "$DIR/cephfs/peers.bin" fsync)
fusermount3 -u "$DIR/cephfs"
cold
scripts/ceph-test-cluster.sh cephfs "$DIR" 2>/dev/null
cr=$(timed_dd "$DIR/cephfs/peers.bin" /dev/null)

rb() { rados -c "$CEPH_CONF" -p "$RADOS_POOL" bench 15 "$@" -t 16 2>/dev/null | awk '/^Bandwidth \(MB\/sec\)/{print $3}'; }
bw=$(rb write --no-cleanup)
cold
br=$(rb seq)
rados -c "$CEPH_CONF" -p "$RADOS_POOL" cleanup >/dev/null 2>&1 || true

echo "peers: $SIZE MiB, dd bs=1M one thread; $(nproc) cores; Ceph $(ceph --version | awk '{print $3}')"
printf '%-44s %10s %10s\n' "" "write" "cold read"
printf '%-44s %7s MiB/s %7s MiB/s\n' "Hangar mount, RADOS store, Redis metadata" "$hw" "$hr"
printf '%-44s %7s MiB/s %7s MiB/s\n' "ceph-fuse (CephFS)" "$cw" "$cr"
printf '%-44s %7s MB/s  %7s MB/s\n' "rados bench, 16 in flight, 4 MiB" "$bw" "$br"
awk -v hw="$hw" -v hr="$hr" -v cw="$cw" -v cr="$cr" -v bw="$bw" -v br="$br" 'BEGIN{
  printf "Hangar / rados bench: write %.0f%%, read %.0f%%;  Hangar / ceph-fuse: write %.2fx, read %.2fx\n",
    100*hw/(bw/1.048576), 100*hr/(br/1.048576), hw/cw, hr/cr }'
