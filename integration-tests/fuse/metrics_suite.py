#!/usr/bin/python3
"""The metrics of a live mount (run.sh mounts it with ./hangar mount, whose runtime serves /metrics):

    metrics_suite.py DIR [REPORT-DIR]
        DIR is a writable directory in the mount.

Each test scrapes the mount's /metrics before and after a workload and asserts that the counters moved by
what the workload did (bytes written equal the bytes written, read equal read, handles opened show in the
gauge), that every meter docs/metrics.md lists is served, that `hangar stats` shows a live mount's traffic,
and that every query of the Grafana dashboard (docs/grafana-dashboard.json) answers with data from a real
Prometheus (Debian's prometheus, started here) that scrapes the mount.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import fusetest
from fusetest import check, eq

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
HANGAR = os.path.join(TOP, "hangar")
DASHBOARD = os.path.join(TOP, "docs", "grafana-dashboard.json")
MIB = 1 << 20
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

# Every meter docs/metrics.md lists that exists without an error having happened (the *_errors_total
# series appear with their first error, labelled by its kind; MeteredChunkStoreTest covers those).
ALWAYS = """
hangar_fuse_op_duration_seconds_bucket hangar_fuse_op_duration_seconds_count hangar_fuse_op_duration_seconds_sum
hangar_fuse_read_bytes_total hangar_fuse_written_bytes_total hangar_fuse_open_handles
hangar_vfs_buffer_used_bytes hangar_vfs_buffer_limit_bytes hangar_vfs_buffer_waits_total
hangar_vfs_buffer_wait_seconds_count hangar_vfs_readahead_hits_total hangar_vfs_readahead_fetched_bytes_total
hangar_vfs_readahead_wasted_bytes_total hangar_vfs_readahead_held_bytes hangar_vfs_block_memory_bytes
hangar_blockcache_hits_total hangar_blockcache_miss_total hangar_blockcache_evictions_total
hangar_blockcache_blocks hangar_blockcache_bytes hangar_vfs_compactions_total hangar_vfs_compaction_failures_total
hangar_vfs_slices_committed_total hangar_vfs_slice_size_bytes_count hangar_vfs_blocks_reaped_total
hangar_used_space_bytes hangar_used_inodes
hangar_object_request_duration_seconds_bucket hangar_object_request_duration_seconds_count
hangar_object_request_data_bytes_total hangar_object_request_retries_total
hangar_meta_op_duration_seconds_bucket hangar_meta_op_duration_seconds_count hangar_meta_op_errors_total
hangar_meta_retries_total hangar_meta_conflicts_total
jvm_memory_used_bytes jvm_buffer_memory_used_bytes jvm_gc_pause_seconds_count jvm_threads_live_threads
process_cpu_usage process_files_open_files process_uptime_seconds
""".split()


def metrics_url(path):
    """The /metrics URL the runtime serving path's mount announced in <hangar.home>/run/metrics.url."""
    mp = fusetest.hangar_mount_of(path)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if f"-Dhangar.mountpoint={mp}" in args:
            home = next(a.split("=", 1)[1] for a in args if a.startswith("-Dhangar.home="))
            with open(os.path.join(home, "run", "metrics.url")) as f:
                return f.read().strip()
    raise AssertionError(f"no hangar mount runtime serves {mp} (mounted by the harness, not ./hangar mount?)")


class Scrape:
    def __init__(self, url):
        with urllib.request.urlopen(url, timeout=10) as r:
            eq(r.status, 200, "HTTP status of " + url)
            check(r.headers.get("Content-Type", "").startswith("text/plain"), "Prometheus text format")
            self.text = r.read().decode("utf-8")
        self.samples = []
        for line in self.text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            check(m is not None, f"a sample line the text format allows: {line!r}")
            labels = dict((k, v) for k, v in LABEL.findall(m.group(3) or ""))
            self.samples.append((m.group(1), labels, float(m.group(4))))

    def names(self):
        return {n for n, _, _ in self.samples}

    def value(self, name, **where):
        """The sum of the samples of name whose labels include where."""
        return sum(v for n, l, v in self.samples if n == name and all(l.get(k) == w for k, w in where.items()))


def settle(url, name, expect, **where):
    """Counters move before the request is replied; gauges may lag a moment. Scrape until equal or 10 s."""
    deadline = time.time() + 10
    while True:
        s = Scrape(url)
        if s.value(name, **where) == expect or time.time() > deadline:
            return s
        time.sleep(0.2)


def tests(root):
    url = metrics_url(root)
    volume = None

    def vol():
        nonlocal volume
        if volume is None:
            s = Scrape(url)
            vols = {l["volume"] for n, l, _ in s.samples if n == "hangar_fuse_written_bytes_total"}
            eq(len(vols), 1, "volumes this mount's runtime serves")
            volume = vols.pop()
        return volume

    def every_listed_meter_is_served(d):
        # Some traffic first, so that series created on first use (a FUSE op kind, an engine method) exist.
        fusetest.write(os.path.join(d, "f"), b"x" * 1000)
        fusetest.read(os.path.join(d, "f"))
        try:
            os.stat(os.path.join(d, "missing"))
        except FileNotFoundError:
            pass
        s = Scrape(url)
        missing = [n for n in ALWAYS if n not in s.names()]
        eq(missing, [], "meters /metrics does not serve")
        for n, l, _ in s.samples:
            if n.startswith("hangar_") and not n.startswith("hangar_meta_retries") \
                    and not n.startswith("hangar_meta_conflicts") and not n.startswith("hangar_meta_backend"):
                check(l.get("volume") == vol(), f"{n} is labelled with the volume: {l}")
            if n.startswith("hangar_fuse_"):
                check(l.get("mountpoint") == fusetest.hangar_mount_of(d), f"{n} names the mount point: {l}")
        check(s.value("hangar_meta_op_errors_total", volume=vol(), method="lookup", errno="ENOENT") >= 1,
              "the lookup of a missing name counted as ENOENT")

    def bytes_written_are_counted_exactly(d):
        n = 9 * MIB + 12345  # three blocks, the last one partial
        before = Scrape(url)
        data = os.urandom(n)
        fd = os.open(os.path.join(d, "w"), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view[:MIB]):]
            os.fsync(fd)
        finally:
            os.close(fd)
        after = Scrape(url)
        d_written = after.value("hangar_fuse_written_bytes_total", volume=vol()) \
            - before.value("hangar_fuse_written_bytes_total", volume=vol())
        eq(d_written, float(n), "hangar_fuse_written_bytes_total moved by the bytes written")
        d_writes = after.value("hangar_fuse_op_duration_seconds_count", method="write") \
            - before.value("hangar_fuse_op_duration_seconds_count", method="write")
        check(d_writes >= n / MIB, f"at least one write request per MiB written, got {d_writes}")
        d_put = after.value("hangar_object_request_data_bytes_total", volume=vol(), method="PUT") \
            - before.value("hangar_object_request_data_bytes_total", volume=vol(), method="PUT")
        check(d_put >= n, f"the store received at least the bytes written ({d_put} < {n})")
        d_slices = after.value("hangar_vfs_slices_committed_total", volume=vol()) \
            - before.value("hangar_vfs_slices_committed_total", volume=vol())
        check(d_slices >= 1, "fsync committed a slice")
        d_commit_bytes = after.value("hangar_vfs_slice_size_bytes_sum", volume=vol()) \
            - before.value("hangar_vfs_slice_size_bytes_sum", volume=vol())
        check(d_commit_bytes >= n, f"committed slices hold the bytes written ({d_commit_bytes} < {n})")

    def bytes_read_are_counted_exactly(d):
        n = 6 * MIB + 777
        path = os.path.join(d, "r")
        data = os.urandom(n)
        fusetest.write(path, data)
        fd = os.open(path, os.O_RDONLY)
        try:
            # The kernel's page cache would answer without asking the mount: drop this file's pages.
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            before = Scrape(url)
            got = bytearray()
            while True:
                b = os.read(fd, MIB)
                if not b:
                    break
                got += b
        finally:
            os.close(fd)
        after = Scrape(url)
        eq(bytes(got), data, "the bytes read back")
        d_read = after.value("hangar_fuse_read_bytes_total", volume=vol()) \
            - before.value("hangar_fuse_read_bytes_total", volume=vol())
        eq(d_read, float(n), "hangar_fuse_read_bytes_total moved by the bytes read")
        lookups = sum(after.value(m, volume=vol()) - before.value(m, volume=vol())
                      for m in ("hangar_blockcache_hits_total", "hangar_blockcache_miss_total",
                                "hangar_vfs_readahead_hits_total"))
        check(lookups >= 2, f"the two blocks were looked up in the cache or the read-ahead ({lookups})")

    def open_handles_follow_opens_and_closes(d):
        base = settle(url, "hangar_fuse_open_handles", 0.0, volume=vol()).value("hangar_fuse_open_handles",
                                                                                volume=vol())
        fds = []
        try:
            for i in range(3):
                fds.append(os.open(os.path.join(d, f"h{i}"), os.O_CREAT | os.O_RDWR, 0o644))
            s = settle(url, "hangar_fuse_open_handles", base + 3, volume=vol())
            eq(s.value("hangar_fuse_open_handles", volume=vol()), base + 3, "open handles with 3 more open")
        finally:
            for fd in fds:
                os.close(fd)
        # release reaches the mount asynchronously after close(2).
        s = settle(url, "hangar_fuse_open_handles", base, volume=vol())
        eq(s.value("hangar_fuse_open_handles", volume=vol()), base, "open handles once they are closed")

    def latency_histograms_are_cumulative(d):
        fusetest.write(os.path.join(d, "lat"), b"y" * 100_000)
        s = Scrape(url)
        for family in ("hangar_fuse_op_duration_seconds", "hangar_meta_op_duration_seconds",
                       "hangar_object_request_duration_seconds"):
            series = {}
            for n, l, v in s.samples:
                if n == family + "_bucket":
                    key = tuple(sorted((k, x) for k, x in l.items() if k != "le"))
                    series.setdefault(key, []).append((float(l["le"]), v))
            check(series, f"{family} has buckets")
            for key, buckets in series.items():
                buckets.sort()
                counts = [v for _, v in buckets]
                eq(counts, sorted(counts), f"{family}{dict(key)} buckets are cumulative")
                eq(buckets[-1][0], float("inf"), f"{family}{dict(key)} ends with +Inf")
                count = s.value(family + "_count", **dict(key))
                eq(buckets[-1][1], count, f"{family}{dict(key)} +Inf bucket equals the count")

    def stats_shows_a_live_mount(d):
        path = os.path.join(d, "busy")
        stop = time.time() + 6
        writer = subprocess.Popen([sys.executable, "-c", f"""
import os, time
fd = os.open({path!r}, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
block = os.urandom(1 << 20)
while time.time() < {stop}:
    # About 50 MiB/s over a 32 MiB region: enough to show, and a bounded amount of data left behind.
    if os.lseek(fd, 0, os.SEEK_CUR) >= (32 << 20):
        os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, block)
    time.sleep(0.02)
os.close(fd)
"""])
        try:
            out = subprocess.run([HANGAR, "stats", fusetest.hangar_mount_of(d), "--interval", "1s", "--count", "3"],
                                 capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        finally:
            writer.wait(timeout=60)
        eq(out.returncode, 0, f"hangar stats exit status (stderr: {out.stderr.strip()})")
        lines = out.stdout.strip().splitlines()
        eq(len(lines), 4, f"a header and one line per interval when stdout is not a terminal: {lines}")
        check(lines[0].startswith("fuse:"), f"the header names the columns: {lines[0]}")
        writes = [float(line.split()[3]) for line in lines[1:]]
        check(max(writes) > 0, f"the write MiB/s column shows the writer: {lines}")

    def stats_fails_in_one_line_without_a_runtime(d):
        out = subprocess.run([HANGAR, "stats", "/", "--count", "1"], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
        eq(out.returncode, 3, "exit status for a path no runtime serves")
        eq(len(out.stderr.strip().splitlines()), 1, f"one line on stderr: {out.stderr!r}")
        eq(out.stdout, "", "nothing on stdout")

    def dashboard_queries_answer_on_a_real_prometheus(d):
        prom = shutil.which("prometheus")
        check(prom, "Debian's prometheus is installed (scripts/install-deps.sh installs it)")
        with open(DASHBOARD) as f:
            board = json.load(f)
        exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
        check(len(exprs) >= 10, f"the dashboard has its panels ({len(exprs)} queries)")
        target = urllib.parse.urlparse(url)
        work = tempfile.mkdtemp(prefix="hangar-prom-")
        port = free_port()
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: hangar
    metrics_path: {target.path}
    static_configs:
      - targets: ['{target.netloc}']
""")
        p = subprocess.Popen([prom, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
                              f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(work, "prometheus.log"), "w"))
        api = f"http://127.0.0.1:{port}/api/v1/"
        try:
            wait_for(lambda: query(api, 'up{job="hangar"}') == [1.0], 60, "Prometheus scrapes the mount")
            # Traffic over several scrapes, so that every rate() has two points that differ.
            end = time.time() + 8
            i = 0
            while time.time() < end:
                name = os.path.join(d, f"p{i % 4}")
                fusetest.write(name, os.urandom(2 * MIB))
                fd = os.open(name, os.O_RDONLY)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                while os.read(fd, MIB):
                    pass
                os.close(fd)
                i += 1
            time.sleep(3)
            for e in exprs:
                expr = e.replace("$volume", vol()).replace("$__rate_interval", "5s")
                vals = query(api, expr)
                check(vals, f"the dashboard query {expr!r} returns data")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
            shutil.rmtree(work, ignore_errors=True)

    return [every_listed_meter_is_served, bytes_written_are_counted_exactly, bytes_read_are_counted_exactly,
            open_handles_follow_opens_and_closes, latency_histograms_are_cumulative, stats_shows_a_live_mount,
            stats_fails_in_one_line_without_a_runtime, dashboard_queries_answer_on_a_real_prometheus]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def query(api, expr):
    """The values of an instant query (an error is a failure, with Prometheus's message)."""
    u = api + "query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(u, timeout=10) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        raise AssertionError(f"Prometheus refused {expr!r}: {e.read().decode()}")
    except OSError:
        return None
    eq(body.get("status"), "success", f"query {expr!r}")
    return [float(x["value"][1]) for x in body["data"]["result"]]


def wait_for(cond, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if cond():
                return
        except AssertionError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {seconds} s")


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    root = sys.argv[1]
    report = sys.argv[2] if len(sys.argv) > 2 else None
    if fusetest.hangar_mount_of(root) is None:
        print(f"{root} is not on a Hangar FUSE mount", file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if fusetest.run("metrics", root, tests(root), report) else 0)


if __name__ == "__main__":
    main()
