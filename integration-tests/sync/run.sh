#!/usr/bin/env bash
# Sync between two sites (two Redis servers, two pools of the Ceph test cluster of HANGAR_CEPH_ENV):
# integration-tests/sync/sync_suite.py, as root. Report: integration-tests/sync/target/reports/TEST-sync.xml.
# Nothing is skipped: no root, no /dev/fuse, no redis-server, no Ceph cluster, or a runtime that does not
# start is a failed case. test.sh runs it while its Ceph cluster is up, under a time limit (900 s); here it
# takes about three minutes. HANGAR_SYNC_KEEP=1 keeps the work folder.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
reports=${HANGAR_SYNC_REPORTS:-$here/target/reports}
mkdir -p "$reports"
rm -f "$reports/TEST-sync.xml"
work=$(mktemp -d /var/tmp/hangar-sync.XXXXXX)
/usr/bin/python3 "$here/sync_suite.py" "$work" "$reports"
rc=$?
for m in "$work"/mnt-*; do
  if grep -qs " $m " /proc/mounts; then fusermount3 -uz "$m" 2>/dev/null; fi
done
if [ "${HANGAR_SYNC_KEEP:-}" = 1 ] || [ $rc != 0 ]; then
  echo "sync: work folder kept: $work (gw-*/ and home-*/ hold each runtime's log)"
  rm -rf "$work"/cache-* 2>/dev/null
else
  rm -rf "$work"
fi
exit $rc
