#!/usr/bin/env bash
# ceph-test-cluster.sh - a throwaway single-node Ceph cluster for Hangar's tests, on loopback, without systemd.
#
#   scripts/ceph-test-cluster.sh up     DIR   start it (from scratch, or reuse the cluster already up in DIR);
#                                             prints the env lines and writes them to DIR/env
#   scripts/ceph-test-cluster.sh down   DIR   stop every daemon it started, by recorded pid; delete its data
#   scripts/ceph-test-cluster.sh status DIR   exit 0 and print the env lines if the cluster in DIR is up
#   scripts/ceph-test-cluster.sh stop-osd|start-osd|stop-rgw|start-rgw DIR
#                                             for fault tests: stop one daemon (by pid) or start it again
#   scripts/ceph-test-cluster.sh cephfs DIR   for benchmarks (bench/peers.sh): add an MDS and CephFS to the
#                                             running cluster, mounted with ceph-fuse at DIR/cephfs
#
# Daemons: one mon (msgr v2 + v1 on 127.0.0.1), one mgr, one bluestore OSD on a sparse file, one radosgw
# (beast on 127.0.0.1, rgw_dns_name for virtual-hosted buckets). cephx on: DIR/keyring holds client.admin.
# Everything lives in DIR; nothing in /etc/ceph or /var/lib/ceph. Installs the Debian packages if missing
# (as root). A cluster that does not come up is an error (exit 1, with the daemons' last log lines), never
# a skip. Here `up` takes about 20 s.
#
# Env lines (DIR/env): CEPH_CONF CEPH_KEYRING CEPH_USER RADOS_POOL RGW_ENDPOINT RGW_DNS_NAME S3_REGION
# S3_ACCESS_KEY S3_SECRET_KEY.
# Knobs: CEPH_TEST_OSD_BYTES (default 16 GiB, sparse), CEPH_TEST_POOL (hangar), CEPH_TEST_TIMEOUT (90 s per
# step), CEPH_TEST_MON_PORT / CEPH_TEST_MON_V1_PORT / CEPH_TEST_RGW_PORT (default: free ports from 3300, 6789,
# 7480), CEPH_TEST_RGW_DNS_NAME (s3.hangar.test).
set -euo pipefail

T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
log() { printf '[ceph-test-cluster %5ss] %s\n' "$(elapsed)" "$*" >&2; }
die() { printf 'ceph-test-cluster: FAILED: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,12p' "$0" >&2; exit 2; }

[ $# -eq 2 ] && [ -n "$2" ] || usage
CMD=$1
case "$CMD" in up|down|status|stop-osd|start-osd|stop-rgw|start-rgw|cephfs) ;; *) usage ;; esac
if [ ! -d "$2" ]; then
  case "$CMD" in
    up) mkdir -p "$2" ;;
    down) exit 0 ;;
    *) echo "ceph-test-cluster: not up ($2 does not exist)" >&2; exit 1 ;;
  esac
fi
DIR=$(cd "$2" && pwd)
[ "$DIR" != / ] || die "refusing DIR=/"

POOL=${CEPH_TEST_POOL:-hangar}
TIMEOUT=${CEPH_TEST_TIMEOUT:-90}
OSD_BYTES=${CEPH_TEST_OSD_BYTES:-$((16 * 1024 * 1024 * 1024))}
RGW_DNS=${CEPH_TEST_RGW_DNS_NAME:-s3.hangar.test}
CONF=$DIR/ceph.conf
KEYRING=$DIR/keyring
PIDS=$DIR/pids
MARK=$DIR/.ceph-test-cluster
PACKAGES=(ceph-mon ceph-osd ceph-mgr radosgw ceph-common librados2)

# ---------------------------------------------------------------- pids: only ever processes we started
# A recorded pid is signalled only while /proc/PID/cmdline still names our ceph.conf (pid reuse).
is_ours() {
  local pid=$1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$CONF"
}
pid_of() { cat "$PIDS/$1.pid" 2>/dev/null || true; }
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

start() { # NAME CMD...: the daemon in the foreground mode, in its own session, pid recorded
  local name=$1; shift
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 &
  echo $! >"$PIDS/$name.pid"
}

stop_group() { # GRACE NAMES...: SIGTERM the recorded pids that are still ours, wait, then SIGKILL
  local grace=$1; shift
  local n pid live=()
  for n in "$@"; do
    pid=$(pid_of "$n")
    if is_ours "$pid"; then kill -TERM "$pid" 2>/dev/null && live+=("$pid") || true; fi
    rm -f "$PIDS/$n.pid"
  done
  [ ${#live[@]} -gt 0 ] || return 0
  local end=$((SECONDS + grace)) still
  while [ $SECONDS -lt $end ]; do
    still=()
    for pid in "${live[@]}"; do alive "$pid" && still+=("$pid"); done
    [ ${#still[@]} -gt 0 ] || return 0
    live=("${still[@]}")
    sleep 0.1
  done
  for pid in "${live[@]}"; do
    log "pid $pid still running ${grace}s after SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

stop_all() { # clients first, the mon last
  if grep -qs " $DIR/cephfs " /proc/mounts; then fusermount3 -u "$DIR/cephfs" 2>/dev/null || umount -l "$DIR/cephfs" || true; fi
  stop_group 10 ceph-fuse
  stop_group 15 mds
  stop_group 10 rgw
  stop_group 15 mgr osd
  stop_group 10 mon
  rm -rf "$PIDS"
}

wipe() { # only a DIR this script made (marker), or an empty one
  if [ -e "$MARK" ]; then
    rm -rf "$DIR"/{mon,osd,mgr,rgw,mds,cephfs,run,crash,monmap,env,keyring,ceph.conf}
  elif [ -n "$(ls -A "$DIR")" ]; then
    die "$DIR is not empty and was not made by ceph-test-cluster.sh; refusing to use it"
  fi
}

wait_for() { # SECONDS WHAT CMD...
  local t=$1 what=$2; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then
      log "timeout (${t}s) waiting for: $what"
      local f
      for f in "$DIR"/log/*.log "$DIR"/log/*.out; do [ -s "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
      return 1
    fi
    sleep 0.2
  done
}

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
free_port() { # BASE: the first free TCP port from BASE
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

ceph_cmd() { timeout 30 ceph -c "$CONF" --connect-timeout 10 "$@"; }
cephq() { ceph_cmd "$@" >>"$DIR/log/setup.out" 2>&1 || die "ceph $* failed: $(tail -n 3 "$DIR/log/setup.out")"; }

is_up() {
  [ -f "$DIR/env" ] || return 1
  local n
  for n in mon mgr osd rgw; do is_ours "$(pid_of "$n")" || return 1; done
  ceph_cmd health >/dev/null 2>&1 || return 1
  curl -sf -o /dev/null "$(sed -n 's/^RGW_ENDPOINT=//p' "$DIR/env")/"
}

install_packages() {
  local p st missing=()
  for p in "${PACKAGES[@]}"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$st" = "install ok installed" ] || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages ${missing[*]} and not root: apt-get install ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$DIR/log/apt.out" 2>&1 \
    || die "apt-get install ${missing[*]} failed: $(tail -n 5 "$DIR/log/apt.out")"
}

rand_str() { # CHARSET LENGTH
  local s=""
  while [ ${#s} -lt "$2" ]; do s+=$(head -c 512 /dev/urandom | tr -dc "$1"); done
  printf '%s' "${s:0:$2}"
}

write_conf() {
  local fsid=$1
  cat >"$CONF" <<CONF
# written by scripts/ceph-test-cluster.sh: a single-node throwaway cluster on loopback
[global]
fsid = $fsid
mon_initial_members = a
mon_host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
public_network = 127.0.0.0/8
ms_bind_ipv6 = false
run_dir = $DIR/run
crash_dir = $DIR/crash
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $KEYRING
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
# a full-ish root file system must not make the mon warn (30% free) or exit (5%)
mon_data_avail_warn = 2
mon_data_avail_crit = 1
# no mgr module that listens off loopback (dashboard, prometheus)
mgr_initial_modules = iostat

# admin_socket and log_file per daemon only: in [global] every CLI call fails while a daemon runs
[mon]
mon_data = $DIR/mon/ceph-\$id
mon_cluster_log_file = $DIR/log/cluster.log
log_file = $DIR/log/\$name.log
admin_socket = $DIR/run/\$name.asok

[mgr]
mgr_data = $DIR/mgr/ceph-\$id
log_file = $DIR/log/\$name.log
admin_socket = $DIR/run/\$name.asok

[osd]
osd_data = $DIR/osd/ceph-\$id
log_file = $DIR/log/\$name.log
admin_socket = $DIR/run/\$name.asok
osd_objectstore = bluestore
# a sparse file DIR/osd/ceph-0/block (bluestore_block_path must stay unset: mkfs fails on its symlink)
bluestore_block_create = true
bluestore_block_size = $OSD_BYTES
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
osd_memory_target = 1073741824

[client.rgw.a]
rgw_data = $DIR/rgw/ceph-rgw.a
log_file = $DIR/log/\$name.log
admin_socket = $DIR/run/\$name.asok
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
# virtual-hosted buckets: <bucket>.$RGW_DNS (the tests resolve it to 127.0.0.1 in their HTTP client)
rgw_dns_name = $RGW_DNS
# deleted objects' space is freed after rgw_gc_obj_min_wait (default 2 h)
rgw_gc_obj_min_wait = 10
rgw_gc_processor_period = 10
CONF
}

make_keyring() {
  ceph-authtool --create-keyring "$KEYRING" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$KEYRING" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$KEYRING" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap mgr 'allow profile osd' \
    --cap osd 'allow *' >/dev/null
  ceph-authtool "$KEYRING" --gen-key -n mgr.x --cap mon 'allow profile mgr' --cap mds 'allow *' \
    --cap osd 'allow *' >/dev/null
  ceph-authtool "$KEYRING" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap mgr 'allow rw' \
    --cap osd 'allow rwx' >/dev/null
  chmod 600 "$KEYRING"
}

osd_up() { ceph_cmd osd stat -f json 2>/dev/null | grep -q '"num_up_osds":1'; }
pool_writable() { timeout 20 rados -c "$CONF" --client_mount_timeout=10 -p "$POOL" put .ceph-test-probe "$CONF"; }
rgw_ok() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RGW_PORT/")" = 200 ]; }

env_lines() {
  cat <<ENV
CEPH_TEST_DIR=$DIR
CEPH_CONF=$CONF
CEPH_KEYRING=$KEYRING
CEPH_USER=admin
RADOS_POOL=$POOL
RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT
RGW_DNS_NAME=$RGW_DNS
RGW_PORT=$RGW_PORT
S3_REGION=us-east-1
S3_ACCESS_KEY=$S3_ACCESS_KEY
S3_SECRET_KEY=$S3_SECRET_KEY
ENV
}

do_up() {
  if is_up; then
    log "already up in $DIR"
    cat "$DIR/env"
    return 0
  fi
  stop_all
  wipe
  rm -rf "$DIR/log"
  mkdir -p "$DIR"/{log,run,crash,mon/ceph-a,mgr/ceph-x,osd/ceph-0,rgw/ceph-rgw.a} "$PIDS"
  touch "$MARK"
  install_packages
  # a failed bring-up leaves nothing running (the logs stay in DIR/log)
  trap 'log "bring-up failed: stopping what was started (logs in $DIR/log)"; stop_all' EXIT
  T0=$(date +%s.%N)
  MON_PORT=${CEPH_TEST_MON_PORT:-$(free_port 3300)}
  MON_V1_PORT=${CEPH_TEST_MON_V1_PORT:-$(free_port 6789)}
  RGW_PORT=${CEPH_TEST_RGW_PORT:-$(free_port 7480)}
  for p in "$MON_PORT" "$MON_V1_PORT" "$RGW_PORT"; do port_free "$p" || die "port 127.0.0.1:$p is in use"; done

  local fsid osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"
  make_keyring

  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]" \
    "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$KEYRING" >"$DIR/log/mon-mkfs.out" 2>&1 \
    || die "ceph-mon --mkfs failed: $(tail -n 5 "$DIR/log/mon-mkfs.out")"
  start mon ceph-mon -f -c "$CONF" -i a
  wait_for "$TIMEOUT" "mon quorum" ceph_cmd mon stat || die "the mon did not come up"
  log "mon up on 127.0.0.1:$MON_PORT/$MON_V1_PORT"

  start mgr ceph-mgr -f -c "$CONF" -i x

  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  cephq osd new "$osd_uuid" 0
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$DIR/log/osd-mkfs.out" 2>&1 \
    || die "ceph-osd --mkfs failed: $(tail -n 5 "$DIR/log/osd-mkfs.out")"
  start osd ceph-osd -f -c "$CONF" -i 0
  wait_for "$TIMEOUT" "osd.0 up" osd_up || die "the OSD did not come up"
  log "osd up (bluestore, sparse $((OSD_BYTES >> 30)) GiB file)"

  cephq osd pool create "$POOL" 32 32
  cephq osd pool application enable "$POOL" rados
  start rgw radosgw -f -c "$CONF" -n client.rgw.a
  wait_for "$TIMEOUT" "pool $POOL writable" pool_writable || die "pool $POOL is not writable"
  log "pool '$POOL' writable"

  S3_ACCESS_KEY=$(rand_str 'A-Z0-9' 20)
  S3_SECRET_KEY=$(rand_str 'A-Za-z0-9' 40)
  wait_for "$TIMEOUT" "radosgw on 127.0.0.1:$RGW_PORT" rgw_ok || die "radosgw did not answer on 127.0.0.1:$RGW_PORT"
  radosgw-admin -c "$CONF" user create --uid=hangar-test --display-name="Hangar tests" \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >"$DIR/log/rgw-user.json" 2>"$DIR/log/rgw-user.err" \
    || die "radosgw-admin user create failed: $(tail -n 5 "$DIR/log/rgw-user.err")"
  log "radosgw up on 127.0.0.1:$RGW_PORT"

  (umask 077 && env_lines >"$DIR/env")
  trap - EXIT
  log "up in $(elapsed) s: env in $DIR/env"
  cat "$DIR/env"
}

mds_active() { ceph_cmd fs status cephfs 2>/dev/null | grep -q active; }
cephfs_mounted() { grep -qs " $DIR/cephfs fuse" /proc/mounts; }

do_cephfs() {
  is_up || die "no cluster up in $DIR (scripts/ceph-test-cluster.sh up $DIR first)"
  PACKAGES=(ceph-mds ceph-fuse)
  install_packages
  if ! grep -q '^\[mds\]' "$CONF"; then
    cat >>"$CONF" <<CONF

[mds]
mds_data = $DIR/mds/ceph-\$id
keyring = $DIR/mds/ceph-\$id/keyring
log_file = $DIR/log/\$name.log
admin_socket = $DIR/run/\$name.asok
CONF
  fi
  mkdir -p "$DIR/mds/ceph-a" "$DIR/cephfs"
  ceph_cmd auth get-or-create mds.a mon 'allow profile mds' mgr 'allow profile mds' mds 'allow *' osd 'allow *' \
    >"$DIR/mds/ceph-a/keyring" 2>>"$DIR/log/setup.out" || die "cannot create the mds key"
  if ! ceph_cmd fs ls 2>/dev/null | grep -q 'name: cephfs'; then
    cephq osd pool create cephfs_metadata 8 8
    cephq osd pool create cephfs_data 32 32
    cephq fs new cephfs cephfs_metadata cephfs_data
  fi
  is_ours "$(pid_of mds)" || start mds ceph-mds -f -c "$CONF" -i a
  wait_for "$TIMEOUT" "an active MDS" mds_active || die "the MDS did not become active"
  if ! cephfs_mounted; then
    start ceph-fuse ceph-fuse -f -c "$CONF" --client_fs=cephfs "$DIR/cephfs"
    wait_for "$TIMEOUT" "ceph-fuse at $DIR/cephfs" cephfs_mounted || die "ceph-fuse did not mount"
  fi
  log "CephFS mounted with ceph-fuse at $DIR/cephfs"
}

case "$CMD" in
  up) do_up ;;
  cephfs) do_cephfs ;;
  down)
    stop_all
    [ -e "$MARK" ] && wipe
    log "down"
    ;;
  status)
    if is_up; then cat "$DIR/env"; else echo "ceph-test-cluster: not up in $DIR" >&2; exit 1; fi
    ;;
  stop-osd) stop_group 15 osd; log "osd stopped" ;;
  stop-rgw) stop_group 10 rgw; log "radosgw stopped" ;;
  start-osd|start-rgw)
    [ -f "$DIR/env" ] || die "no cluster in $DIR"
    d=${CMD#start-}
    if is_ours "$(pid_of "$d")"; then log "$d already running"; exit 0; fi
    RGW_PORT=$(sed -n 's/^RGW_PORT=//p' "$DIR/env")
    if [ "$d" = osd ]; then
      start osd ceph-osd -f -c "$CONF" -i 0
      wait_for "$TIMEOUT" "osd.0 up" osd_up || die "the OSD did not come back"
    else
      start rgw radosgw -f -c "$CONF" -n client.rgw.a
      wait_for "$TIMEOUT" "radosgw on 127.0.0.1:$RGW_PORT" rgw_ok || die "radosgw did not come back"
    fi
    log "$d started"
    ;;
esac
