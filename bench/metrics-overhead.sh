#!/usr/bin/env bash
# The cost of counting: one volume (SQLite metadata, file store, on the local disk) mounted with metrics on
# (the default: every meter published to the runtime's Prometheus registry, /metrics served) and with
# --metrics off (no registry: every meter counts into nothing), alternately, ROUNDS times each, with
# `./hangar bench MOUNT` run through every mount. Prints each bench row's median with metrics on and off
# and on/off in percent (100% = no cost; the run-to-run spread of the same mode is printed beside it, so a
# difference smaller than the spread is noise), and the CPU time the mount's runtime spent on the same
# workload (user+system, from /proc/PID/stat at the end of the bench): less noisy than throughput on a
# shared disk, and what counting really costs. Last, bench/MeterCost.java times the meters one FUSE request
# touches (on 2 threads, published to a Prometheus registry and not) and sets that next to the time one
# request took in this run (a 1 MiB cached read, a stat): the share of a request that counting takes.
# Never run by the tests; needs root and ./hangar built.
# Usage: bench/metrics-overhead.sh [ROUNDS=3] [SIZE=1G] [SMALL_FILES=1000] [DIR=/var/tmp/hangar-metrics-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SIZE=${2:-1G}
SMALL=${3:-1000}
DIR=${4:-/var/tmp/hangar-metrics-bench}
[ "$(id -u)" = 0 ] || { echo "metrics-overhead: needs root (FUSE mounts, drop_caches)" >&2; exit 1; }
rm -rf "$DIR"
mkdir -p "$DIR/mnt" "$DIR/out" "$DIR/dd"
meta="sqlite://$DIR/meta.db"
./hangar format "$meta" bench --storage "file://$DIR/chunks" >/dev/null
cleanup() { mountpoint -q "$DIR/mnt" && ./hangar umount "$DIR/mnt" >/dev/null 2>&1 || true; }
trap cleanup EXIT
for ((r = 1; r <= ROUNDS; r++)); do
  # Alternate which mode goes first, so drift over the run (page cache, disk state) hits both alike.
  if ((r % 2)); then modes="on off"; else modes="off on"; fi
  for mode in $modes; do
    if [ "$mode" = on ]; then opt=(); else opt=(--metrics off); fi
    pid=$(./hangar mount "$meta" "$DIR/mnt" -d "${opt[@]}" | sed -n 's/.*(runtime pid \([0-9]*\),.*/\1/p')
    echo "metrics-overhead: round $r, metrics $mode (runtime pid $pid)" >&2
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    ./hangar bench "$DIR/mnt" --big-file-size "$SIZE" --small-files "$SMALL" --dd-dir "$DIR/dd" \
      >"$DIR/out/$mode-$r.txt" </dev/null
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    echo "$(( (after - before) ))" >"$DIR/out/$mode-$r.cpu"
    ./hangar umount "$DIR/mnt" >/dev/null
  done
done
mvn -o -q -B dependency:build-classpath -pl metrics-prometheus -Dmdep.includeScope=compile \
  -Dmdep.outputFile="$DIR/out/classpath" >/dev/null
cp=$(cat "$DIR/out/classpath")
java -cp "$cp:platform-core/target/classes" bench/MeterCost.java 2 >"$DIR/out/meter-cost.log"
python3 - "$DIR/out" <<'PY'
import glob, os, re, statistics, sys
rows = {}
order = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.txt"))):
    mode = os.path.basename(path).split("-")[0]
    for line in open(path):
        m = re.match(r"^(.{40}) +(-?[0-9.]+) (\S+)", line)
        if not m:
            continue
        what = m.group(1).strip()
        if what not in order:
            order.append(what)
        rows.setdefault(what, {}).setdefault(mode, []).append(float(m.group(2)))
        rows[what]["unit"] = m.group(3)
print(f"{'bench row':40} {'on':>10} {'off':>10} {'on/off':>8}  {'spread on':>9} {'spread off':>10}")
for what in order:
    r = rows[what]
    on, off = r.get("on", []), r.get("off", [])
    if not on or not off:
        continue
    mon, moff = statistics.median(on), statistics.median(off)
    spread = lambda v: (max(v) - min(v)) / statistics.median(v) * 100 if statistics.median(v) else 0
    print(f"{what:40} {mon:10.1f} {moff:10.1f} {100 * mon / moff if moff else 0:7.1f}%  {spread(on):8.1f}% {spread(off):9.1f}%"
          f"  {r['unit']}")
tick = os.sysconf("SC_CLK_TCK")
cpu = {m: [int(open(p).read()) / tick for p in sorted(glob.glob(os.path.join(sys.argv[1], m + "-*.cpu")))]
       for m in ("on", "off")}
con, coff = statistics.median(cpu["on"]), statistics.median(cpu["off"])
print(f"{'mount runtime CPU for the bench (s)':40} {con:10.1f} {coff:10.1f} {100 * con / coff:7.1f}%"
      f"  {(max(cpu['on']) - min(cpu['on'])) / con * 100:8.1f}% {(max(cpu['off']) - min(cpu['off'])) / coff * 100:9.1f}%"
      f"  (runs on: {', '.join(f'{c:.1f}' for c in cpu['on'])}; off: {', '.join(f'{c:.1f}' for c in cpu['off'])})")
cost = [float(l.split()[2]) for l in open(os.path.join(sys.argv[1], "meter-cost.log")) if "unpublished" not in l]
ns = max(cost)
print(open(os.path.join(sys.argv[1], "meter-cost.log")).read().rstrip())
for what, per_request_ns in (("1 MiB cached read", 1e9 / statistics.median(rows["seq read 1 thread (cached)"]["on"])),
                             ("stat of a small file", 1e9 / statistics.median(rows["small files stat"]["on"]))):
    print(f"counting, {ns:.0f} ns at most, is {100 * ns / per_request_ns:.2f}% of a {what} "
          f"({per_request_ns / 1000:.0f} us in this run)")
PY
