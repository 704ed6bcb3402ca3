#!/usr/bin/env bash
# The cost of counting: one volume (SQLite metadata, file store, on the local disk) mounted with metrics on
# (the default: every meter published to the runtime's Prometheus registry, /metrics served) and with
# --metrics off (no registry: every meter counts into nothing), alternately, ROUNDS times each, with
# `./hangar bench MOUNT` run through every mount. Prints each bench row's median with metrics on and off
# and on/off in percent (100% = no cost; the run-to-run spread of the same mode is printed beside it, so a
# difference smaller than the spread is noise). Never run by the tests; needs root and ./hangar built.
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
    ./hangar mount "$meta" "$DIR/mnt" -d "${opt[@]}" >/dev/null
    echo "metrics-overhead: round $r, metrics $mode" >&2
    ./hangar bench "$DIR/mnt" --big-file-size "$SIZE" --small-files "$SMALL" --dd-dir "$DIR/dd" \
      >"$DIR/out/$mode-$r.txt" </dev/null
    ./hangar umount "$DIR/mnt" >/dev/null
  done
done
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
PY
