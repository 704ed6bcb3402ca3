#!/usr/bin/env bash
# The model repository end to end (integration-tests/repo/repo_suite.py) on a runtime started by the suite
# with `./hangar up` on a fresh data folder (as root: the runtime mounts FUSE). Writes
# integration-tests/repo/target/reports/TEST-repo.xml. Nothing is skipped: no root, no /dev/fuse, no boto3
# (scripts/install-deps.sh installs it) or a runtime that does not start is a failed case. test.sh runs it
# under a time limit (900 s); here it takes about a minute. HANGAR_REPO_KEEP=1 keeps the work folder.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
reports=${HANGAR_REPO_REPORTS:-$here/target/reports}
mkdir -p "$reports"
rm -f "$reports"/TEST-*.xml
work=$(mktemp -d /tmp/hangar-repo.XXXXXX)
/usr/bin/python3 "$here/repo_suite.py" "$work" "$reports"
rc=$?
if grep -qs " $work/data/mnt " /proc/mounts; then fusermount3 -uz "$work/data/mnt" 2>/dev/null; fi
if [ "${HANGAR_REPO_KEEP:-}" = 1 ] || [ $rc != 0 ]; then
  echo "repo: work folder kept: $work (up.log holds the runtime's output)"
  # Only the logs: the volume's blocks are not worth the disk.
  rm -rf "$work/data/chunks" "$work/model" "$work"/*pull* 2>/dev/null
else
  rm -rf "$work"
fi
exit $rc
