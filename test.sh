#!/usr/bin/env bash
# Runs every Hangar test on a fresh Debian machine with Java 17 and Maven (as root): installs the packages
# the tests need, builds every bundle, runs unit tests, the conformance kits on every engine and store, the
# integration tests on the plain class path and inside a real Felix framework, then the suites that need
# a running Hangar (FUSE mounts on SQLite and on Redis, the runtime). Services (redis-server, FUSE mounts)
# are started by the tests themselves and stopped by pid, but for one Ceph cluster started here around the
# Maven run (scripts/ceph-test-cluster.sh, about 20 s). Ends with one line: "N passed, N failed".
#
# Nothing is skipped: a missing prerequisite, a suite that did not run or did not report, a report left
# over from an earlier run, a skipped test case, a suite past its time limit: each counts as failed
# (scripts/junit-summary.py). Time limits (seconds; TERM, then KILL 120 s later): the Maven build with
# every JVM test 2700, integration-tests/fuse/run.sh 2400 (each of its suites has its own, see there),
# integration-tests/s3/run.sh 900 (likewise), cnf/smoke-up.sh 600, integration-tests/repo/run.sh 900,
# integration-tests/cache-group/run.sh 900, integration-tests/sync/run.sh 900: each ends a hang well inside CI's 90
# minutes. Here Maven takes 11-15 minutes, the FUSE suites 9-20 (with the crash rounds), the S3 client
# suites about 2 and smoke-up about 25 s.
set -uo pipefail
cd "$(dirname "$0")"
top=$(pwd)
# shellcheck source=scripts/junit.sh
. "$top/scripts/junit.sh"
run_dir="$top/target/test-run"
status=0

# This run starts now: no report of an earlier one may be counted. Every report is removed, and the
# summary refuses any report older than the stamp.
rm -rf "$run_dir"
mkdir -p "$run_dir"
find "$top" -path "$top/.git" -prune -o -type f -name 'TEST-*.xml' -path '*/target/*' -exec rm -f {} +
touch "$run_dir/started"

current=""
# run_limited SECONDS COMMAND...: in the background, so that a TERM to this script stops COMMAND at once.
run_limited() {
  local limit=$1 rc
  shift
  timeout -k 120 "$limit" "$@" &
  current=$!
  wait "$current"
  rc=$?
  current=""
  return $rc
}
trap '[ -n "$current" ] && kill -TERM "$current" 2>/dev/null && wait "$current"; exit 143' TERM INT HUP

if ! ./scripts/install-deps.sh; then
  echo "test.sh: cannot install test dependencies" >&2
  junit_failure "$run_dir/TEST-install-deps.xml" test.install-deps install-deps \
    "scripts/install-deps.sh failed: the suites that need its packages fail too"
  status=1
fi

# One real Ceph cluster (mon, mgr, bluestore OSD, radosgw on loopback) for the whole run: the RADOS, S3
# and OSS store tests find it through HANGAR_CEPH_ENV. A cluster that does not come up fails (its tests
# then fail too, naming the missing env file); it is stopped by pid after Maven, and on any exit.
ceph_dir="$top/target/ceph-test"
export HANGAR_CEPH_ENV="$ceph_dir/env"
ceph_down() { [ -e "$ceph_dir/.ceph-test-cluster" ] && timeout 120 ./scripts/ceph-test-cluster.sh down "$ceph_dir" || true; }
trap ceph_down EXIT
echo "== Ceph test cluster (scripts/ceph-test-cluster.sh up, time limit 600s)"
rm -f "$HANGAR_CEPH_ENV"
if ! run_limited 600 ./scripts/ceph-test-cluster.sh up "$ceph_dir" >/dev/null; then
  junit_failure "$run_dir/TEST-ceph-test-cluster.xml" test.ceph-test-cluster up \
    "scripts/ceph-test-cluster.sh up $ceph_dir failed: the RADOS, S3 and OSS store tests fail too" \
    "$(tail -n 40 "$ceph_dir"/log/*.log 2>/dev/null)"
  status=1
fi

echo "== build and JVM tests (unit, TCKs, integration, in-framework; time limit 2700s)"
# Test failures do not stop the reactor: every module builds and runs its tests, and the summary below
# counts every failure (and every test class that did not report) and sets the exit status.
run_limited 2700 mvn -B -ntp install -Dmaven.test.failure.ignore=true
rc=$?
if [ $rc = 124 ] || [ $rc = 137 ]; then
  junit_failure "$run_dir/TEST-maven-time-limit.xml" test.maven "(time limit)" \
    "mvn install was killed after its time limit of 2700s"
fi
[ $rc = 0 ] || status=1

# The model repository on Redis and this Ceph cluster, while it is up (the embedded run comes below).
echo "== integration-tests/repo/run.sh redis-rados (time limit 900s)"
run_limited 900 bash integration-tests/repo/run.sh redis-rados
rc=$?
if [ $rc = 124 ] || [ $rc = 137 ]; then
  junit_failure "$run_dir/TEST-repo-redis-rados-time-limit.xml" test.repo-redis-rados "(time limit)" \
    "integration-tests/repo/run.sh redis-rados was killed after its time limit of 900s"
fi
[ $rc = 0 ] || status=1
# The cache group (three mounts of one volume sharing their caches) on Redis and this Ceph cluster.
echo "== integration-tests/cache-group/run.sh (time limit 900s)"
run_limited 900 bash integration-tests/cache-group/run.sh
rc=$?
if [ $rc = 124 ] || [ $rc = 137 ]; then
  junit_failure "$run_dir/TEST-cache-group-time-limit.xml" test.cache-group "(time limit)" \
    "integration-tests/cache-group/run.sh was killed after its time limit of 900s"
fi
[ $rc = 0 ] || status=1
# Sync between two sites (two Redis servers, two pools of this Ceph cluster), while it is up.
echo "== integration-tests/sync/run.sh (time limit 900s)"
run_limited 900 bash integration-tests/sync/run.sh
rc=$?
if [ $rc = 124 ] || [ $rc = 137 ]; then
  junit_failure "$run_dir/TEST-sync-time-limit.xml" test.sync "(time limit)" \
    "integration-tests/sync/run.sh was killed after its time limit of 900s"
fi
[ $rc = 0 ] || status=1
ceph_down

# Suites that drive a real mount or the runtime from outside the JVM; each writes JUnit XML to its
# folder. NAME SCRIPT LIMIT REPORT-FOLDER
suites=(
  "fuse integration-tests/fuse/run.sh 2400 integration-tests/fuse/target/reports"
  "s3 integration-tests/s3/run.sh 900 integration-tests/s3/target/reports"
  "smoke-up cnf/smoke-up.sh 600 cnf/target/smoke-reports"
  "repo integration-tests/repo/run.sh 900 integration-tests/repo/target/reports"
)
for s in "${suites[@]}"; do
  read -r name script limit reports <<<"$s"
  echo "== $script (time limit ${limit}s)"
  run_limited "$limit" bash "$script"
  rc=$?
  if [ $rc = 124 ] || [ $rc = 137 ]; then
    junit_failure "$run_dir/TEST-$name-time-limit.xml" "test.$name" "(time limit)" \
      "$script was killed after its time limit of ${limit}s"
  elif [ $rc != 0 ]; then
    shopt -s nullglob
    written=("$reports"/TEST-*.xml)
    shopt -u nullglob
    failing=0
    for r in "${written[@]}"; do junit_has_failure "$r" && failing=1; done
    if [ $failing = 0 ]; then
      junit_failure "$run_dir/TEST-$name-exit.xml" "test.$name" "(exit status)" \
        "$script exited with status $rc and none of its reports shows a failure"
    fi
  fi
  [ $rc = 0 ] || status=1
done

# The reports every run must have besides the Maven modules' (which the summary finds from the reactor):
# each FUSE suite on each engine (the list in integration-tests/fuse/run.sh) and smoke-up.
expect=(--expect cnf/target/smoke-reports/TEST-cnf.smoke-up.xml --expect integration-tests/repo/target/reports/TEST-repo.xml
  --expect integration-tests/repo/target/reports/TEST-repo-redis-rados.xml
  --expect integration-tests/cache-group/target/reports/TEST-cache-group.xml
  --expect integration-tests/sync/target/reports/TEST-sync.xml)
for engine in sqlite redis; do
  for s in posix integrity torch metrics twomounts readonly subdir integrity-remount integrity-disk-cache crash; do
    expect+=(--expect "integration-tests/fuse/target/reports/TEST-fuse-$engine-$s.xml")
  done
done

# Each S3 client suite (the list in integration-tests/s3/run.sh).
for s in awscli s3cmd boto3 negative fuse twogateways; do
  expect+=(--expect "integration-tests/s3/target/reports/TEST-s3-$s.xml")
done

echo "== summary"
python3 scripts/junit-summary.py --since "$run_dir/started" --maven "$top" "${expect[@]}" "$top" || status=1
exit $status
