#!/usr/bin/env bash
# The model repository end to end (integration-tests/repo/repo_suite.py), as root (the runtimes mount FUSE):
#   run.sh [embedded]   on `./hangar up` with a fresh data folder (SQLite, file store): TEST-repo.xml
#   run.sh redis-rados  on a redis-server it starts and the Ceph test cluster of HANGAR_CEPH_ENV (a RADOS
#                       namespace of its own), through `hangar gateway -d` and `hangar mount -d`:
#                       TEST-repo-redis-rados.xml
# Reports go to integration-tests/repo/target/reports/. Nothing is skipped: no root, no /dev/fuse, no boto3
# or redis-server (scripts/install-deps.sh installs them), no Ceph cluster, or a runtime that does not start
# is a failed case. test.sh runs each under a time limit (900 s); here each takes about a minute.
# HANGAR_REPO_KEEP=1 keeps the work folder.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
reports=${HANGAR_REPO_REPORTS:-$here/target/reports}
backend=${1:-embedded}
suite=repo
[ "$backend" = embedded ] || suite=repo-$backend
mkdir -p "$reports"
rm -f "$reports/TEST-$suite.xml"
work=$(mktemp -d /tmp/hangar-repo.XXXXXX)
/usr/bin/python3 "$here/repo_suite.py" "$work" "$reports" "$backend"
rc=$?
for m in "$work/data/mnt" "$work/mnt" "$work/pod1" "$work/pod2"; do
  if grep -qs " $m " /proc/mounts; then fusermount3 -uz "$m" 2>/dev/null; fi
done
if [ "${HANGAR_REPO_KEEP:-}" = 1 ] || [ $rc != 0 ]; then
  echo "$suite: work folder kept: $work (up.log or gw/runtime.log hold the runtime's output)"
  # Only the logs: the volume's blocks are not worth the disk.
  rm -rf "$work/data/chunks" "$work/model" "$work"/*pull* 2>/dev/null
else
  rm -rf "$work"
fi
exit $rc
