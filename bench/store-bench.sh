#!/usr/bin/env bash
# The chunk stores on the Ceph test cluster, side by side with Ceph's and AWS's own clients in one run:
# 4 MiB objects with 1 and 16 threads and 4 KiB objects with 16 threads through store-rados next to
# `rados bench` (16 in flight), and through store-s3 (radosgw, path-style) next to `aws s3 cp` of one
# 512 MiB file (awscli's multipart, 10 threads). Uses the cluster in DIR (scripts/ceph-test-cluster.sh up
# DIR; default target/ceph-test, started and stopped here if it is not up). Needs ./hangar built and
# Debian's awscli. Never run by the tests.
# Usage: bench/store-bench.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
DIR=${1:-$top/target/ceph-test}
started=""
if ! scripts/ceph-test-cluster.sh status "$DIR" >/dev/null 2>&1; then
  scripts/ceph-test-cluster.sh up "$DIR" >/dev/null
  started=1
fi
WORK=$(mktemp -d /tmp/store-bench.XXXXXX)
trap 'rm -rf "$WORK"; [ -n "$started" ] && scripts/ceph-test-cluster.sh down "$DIR"' EXIT
# shellcheck disable=SC1091
. "$DIR/env"
# Hangar's side: ./hangar objbench, the stores' own code on the CLI's class path.
objbench() { ./hangar objbench "$@" 2>/dev/null; }

echo "== RADOS (pool $RADOS_POOL)"
R="rados://$RADOS_POOL/store-bench?conf=$CEPH_CONF&user=$CEPH_USER"
# 1024 big objects (4 GiB, deleted after): with a few hundred, ramp-up and the last stragglers cost 10-25%.
objbench "$R&keyring=$CEPH_KEYRING" --big-objects 1024 --small-objects 4096 -t 16
rados -c "$CEPH_CONF" -p "$RADOS_POOL" bench 10 write -t 16 --no-cleanup 2>/dev/null \
  | awk '/^Bandwidth \(MB\/sec\)/{bw=$3} /^Average IOPS/{io=$3} END{printf "rados bench 16 in flight x 4 MiB: write %7.1f MiB/s %5d ops/s\n", bw, io}'
rados -c "$CEPH_CONF" -p "$RADOS_POOL" bench 10 seq -t 16 2>/dev/null \
  | awk '/^Bandwidth \(MB\/sec\)/{bw=$3} /^Average IOPS/{io=$3} END{printf "rados bench 16 in flight x 4 MiB: seq   %7.1f MiB/s %5d ops/s\n", bw, io}'
rados -c "$CEPH_CONF" -p "$RADOS_POOL" cleanup >/dev/null 2>&1 || true

echo "== S3 (radosgw $RGW_ENDPOINT, path-style)"
printf '[bench]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$WORK/creds"
chmod 600 "$WORK/creds"
bucket=store-bench-$$
aws_() { env -u AWS_CA_BUNDLE AWS_SHARED_CREDENTIALS_FILE="$WORK/creds" AWS_PROFILE=bench AWS_DEFAULT_REGION="$S3_REGION" \
  /usr/bin/aws --endpoint-url "$RGW_ENDPOINT" "$@"; }
aws_ s3 mb "s3://$bucket" >/dev/null
S="s3://$bucket?endpoint=$RGW_ENDPOINT&path-style=true&profile=bench&credentials-file=$WORK/creds"
objbench "$S" --big-objects 128 --small-objects 2048 -t 16
head -c $((512 << 20)) /dev/urandom >"$WORK/f"
t0=$(date +%s.%N); aws_ s3 cp "$WORK/f" "s3://$bucket/f" >/dev/null; t1=$(date +%s.%N)
aws_ s3 cp "s3://$bucket/f" "$WORK/g" >/dev/null; t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN{printf "aws s3 cp 512 MiB: put %7.1f MiB/s   get %7.1f MiB/s\n", 512/(b-a), 512/(c-b)}'
aws_ s3 rb --force "s3://$bucket" >/dev/null
