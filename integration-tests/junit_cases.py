"""Test cases of the Python suites (integration-tests/s3, integration-tests/repo) and their JUnit report.

The report is rewritten after every case, and while a case runs it holds a failing "(unfinished)" case
naming it: a suite killed midway (its time limit, a crash, a hang) leaves a report that counts as failed.
"""
import os
import time
import traceback
import xml.sax.saxutils


class Cases:
    def __init__(self, path, suite):
        """path: the TEST-*.xml to write; suite: the testsuite and classname in it."""
        self.path = path
        self.suite = suite
        self.done = []  # (name, seconds, traceback or None)

    def failed(self):
        return sum(1 for c in self.done if c[2] is not None)

    def write(self, running=None):
        rows = list(self.done)
        if running is not None:
            rows.append(("(unfinished)", 0.0, "the suite stopped while running %s: killed (time limit) or "
                                              "crashed; the cases after it did not run" % running))
        failed = sum(1 for r in rows if r[2] is not None)
        esc = xml.sax.saxutils.escape
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<testsuite name="%s" tests="%d" failures="%d" errors="0" skipped="0">'
                 % (esc(self.suite), len(rows), failed)]
        for name, secs, err in rows:
            lines.append('  <testcase classname="%s" name="%s" time="%.3f">' % (esc(self.suite), esc(name), secs))
            if err is not None:
                lines.append('    <failure message="%s">%s</failure>'
                             % (esc(err.strip().splitlines()[-1] if err.strip() else "failed", {'"': "&quot;"}),
                                esc(err)))
            lines.append("  </testcase>")
        lines.append("</testsuite>")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path + ".tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(self.path + ".tmp", self.path)

    def run(self, fn):
        """Runs one case (a function named for the behaviour it asserts); True if it passed."""
        self.write(running=fn.__name__)
        start = time.time()
        err = None
        try:
            fn()
            print("  ok   %s" % fn.__name__, flush=True)
        except Exception:  # noqa: BLE001 - every failure is a failed case
            err = traceback.format_exc()
            print("  FAIL %s\n%s" % (fn.__name__, err), flush=True)
        self.done.append((fn.__name__, time.time() - start, err))
        self.write()
        return err is None
