#!/usr/bin/env bash
# A cache group of three `hangar mount -d` runtimes on Redis and the Ceph test cluster of HANGAR_CEPH_ENV
# (integration-tests/cache-group/group_suite.py), as root. Report: integration-tests/cache-group/target/
# reports/TEST-cache-group.xml. Nothing is skipped: no root, no /dev/fuse, no redis-server (scripts/
# install-deps.sh installs it), no Ceph cluster, or a runtime that does not start is a failed case. test.sh
# runs it while its Ceph cluster is up, under a time limit (900 s); here it takes about two minutes.
# HANGAR_GROUP_KEEP=1 keeps the work folder.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
reports=${HANGAR_GROUP_REPORTS:-$here/target/reports}
mkdir -p "$reports"
rm -f "$reports/TEST-cache-group.xml"
work=$(mktemp -d /var/tmp/hangar-group.XXXXXX)
/usr/bin/python3 "$here/group_suite.py" "$work" "$reports"
rc=$?
for m in "$work"/mnt-*; do
  if grep -qs " $m " /proc/mounts; then fusermount3 -uz "$m" 2>/dev/null; fi
done
if [ "${HANGAR_GROUP_KEEP:-}" = 1 ] || [ $rc != 0 ]; then
  echo "cache-group: work folder kept: $work (home-*/ hold each runtime's log)"
  rm -rf "$work"/cache-* 2>/dev/null
else
  rm -rf "$work"
fi
exit $rc
