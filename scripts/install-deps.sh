#!/usr/bin/env bash
# Installs the Debian packages Hangar's tests need (as root), only those that are missing.
# Real parts: a Redis server, FUSE (fuse3 for fusermount3, libfuse3-3 for the mount), Python with torch, and
# a single-node Ceph (mon, OSD, mgr, radosgw, librados2 for store-rados; scripts/ceph-test-cluster.sh),
# the S3 clients the gateway is tested with (awscli, s3cmd, python3-boto3; integration-tests/s3), and a
# Prometheus server the Grafana dashboard's queries are checked on (integration-tests/fuse/metrics_suite.py).
set -euo pipefail
want=(redis-server redis-tools fuse3 libfuse3-3 python3-torch python3-numpy curl util-linux
  ceph-mon ceph-osd ceph-mgr radosgw ceph-common librados2 awscli s3cmd python3-boto3 prometheus)
missing=()
for p in "${want[@]}"; do
  # The status read whole, then matched: grep -q on the pipe could end dpkg-query with SIGPIPE, which
  # pipefail would report as "missing".
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages ${missing[*]} and not root: install them with apt-get" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
