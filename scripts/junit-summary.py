#!/usr/bin/env python3
"""Sums the JUnit XML reports of one test run and prints one closing line: N passed, N failed.

    junit-summary.py [--since STAMP] [--maven TOP] [--expect REPORT]... ROOT...

Every TEST-*.xml below each ROOT is counted. A run cannot go green by not running something, so each of
these counts as a failed test, with a line saying what it was:

* a failed or erroneous test case;
* a skipped test case (a skip hides a missing part: its message says which);
* a report that cannot be read, holds no test case, or declares more failures than its cases show;
* with --since STAMP: a report older than STAMP (the file test.sh touches when the run starts), i.e. left
  over from an earlier run; its cases are not counted;
* with --maven TOP: every test class of every module of TOP's Maven reactor (a non-abstract class in
  src/test/java named as surefire runs them, *Test, Test*, *Tests, *TestCase, holding tests or
  extending a kit) without a test case in a report from this run under the module's target/ (the
  module's tests did not run, or their JVM died before reporting the class);
* with --expect REPORT (repeatable): REPORT missing (a suite outside the JVM did not run or wrote nothing);
* nothing counted at all.

The exit status is 1 when anything failed.
"""
import argparse
import os
import re
import sys
import xml.etree.ElementTree as ET

SUREFIRE_NAMES = re.compile(r"^(Test\w*|\w*Test|\w*Tests|\w*TestCase)\.java$")
HAS_TESTS = re.compile(r"@(Test|ParameterizedTest|RepeatedTest|TestFactory|TestTemplate)\b|\bextends\s+\w+")
SKIP_DIRS = {".git", "node_modules", "src"}


def reports_below(root):
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
        for f in files:
            if f.startswith("TEST-") and f.endswith(".xml"):
                yield os.path.abspath(os.path.join(d, f))


def local(tag):
    return tag.rsplit("}", 1)[-1]


def maven_modules(top):
    """Module directories of the reactor at top (recursively through aggregator modules)."""
    pom = os.path.join(top, "pom.xml")
    if not os.path.isfile(pom):
        return []
    out = []
    for el in ET.parse(pom).getroot().iter():
        if local(el.tag) == "module" and el.text and el.text.strip():
            d = os.path.normpath(os.path.join(top, el.text.strip()))
            out.append(d)
            out.extend(maven_modules(d))
    return out


def test_classes(module):
    """The test classes surefire (or bnd-testing) must report for this module."""
    src = os.path.join(module, "src", "test", "java")
    found = []
    for d, _, files in os.walk(src):
        for f in sorted(files):
            if not SUREFIRE_NAMES.match(f):
                continue
            name = f[:-5]
            text = open(os.path.join(d, f), encoding="utf-8", errors="replace").read()
            if re.search(r"\babstract\s+(?:\w+\s+)*class\s+" + re.escape(name) + r"\b", text):
                continue
            if not HAS_TESTS.search(text):
                continue
            pkg = re.search(r"^\s*package\s+([\w.]+)\s*;", text, re.M)
            found.append((pkg.group(1) + "." if pkg else "") + name)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--since", help="file whose modification time is the start of this run")
    ap.add_argument("--maven", help="root of the Maven reactor whose test classes must all have reported")
    ap.add_argument("--expect", action="append", default=[], help="a report that must exist (repeatable)")
    ap.add_argument("roots", nargs="+")
    a = ap.parse_args()

    since = os.stat(a.since).st_mtime_ns if a.since else None
    passed = failed = 0
    problems = []

    def fail(line, n=1):
        nonlocal failed
        failed += n
        problems.append(line)

    paths = set()
    for root in a.roots:
        if not os.path.isdir(root):
            fail(f"MISSING: {root}: no such folder to read reports from")
            continue
        paths.update(reports_below(root))
    for e in a.expect:
        if os.path.isfile(e):
            paths.add(os.path.abspath(e))
        else:
            fail(f"MISSING: {e}: the suite did not run or wrote no report")

    classnames = {}  # report path -> set of class names its cases and suites name
    for path in sorted(paths):
        if since is not None and os.stat(path).st_mtime_ns < since:
            fail(f"STALE: {path}: written before this run started (an earlier run's report; not counted)")
            continue
        try:
            tree = ET.parse(path)
        except ET.ParseError as e:
            fail(f"FAILED: {path}: unreadable report ({e})")
            continue
        names = set()
        cases = 0
        for suite in tree.getroot().iter():
            if local(suite.tag) != "testsuite":
                continue
            if suite.get("name"):
                names.add(suite.get("name"))
            own = [c for c in suite if local(c.tag) == "testcase"]
            observed = 0
            for case in own:
                cases += 1
                cn = case.get("classname") or ""
                names.add(cn)
                name = f"{cn}.{case.get('name')}"
                bad = [c for c in case if local(c.tag) in ("failure", "error")]
                skipped = [c for c in case if local(c.tag) == "skipped"]
                if bad:
                    observed += 1
                    msg = (bad[0].get("message") or "").strip().splitlines()
                    fail(f"FAILED: {name}" + (f": {msg[0][:300]}" if msg else ""))
                elif skipped:
                    msg = (skipped[0].get("message") or "no reason given").strip().splitlines()
                    fail(f"SKIPPED (counts as failed, a skip hides a missing part): {name}: "
                         f"{msg[0][:300] if msg else 'no reason given'}")
                else:
                    passed += 1
            try:
                declared = int(suite.get("failures") or 0) + int(suite.get("errors") or 0)
            except ValueError:
                declared = 0
            if own and declared > observed:
                fail(f"FAILED: {path}: suite {suite.get('name')} declares {declared} failures, its cases "
                     f"show {observed}", declared - observed)
        if cases == 0:
            fail(f"FAILED: {path}: the report holds no test case")
        classnames[path] = names

    if a.maven:
        top = os.path.abspath(a.maven)
        for module in maven_modules(top):
            expected = test_classes(module)
            if not expected:
                continue
            target = os.path.join(os.path.abspath(module), "target") + os.sep
            seen = set()
            for path, names in classnames.items():
                if os.path.abspath(path).startswith(target):
                    seen |= names
            rel = os.path.relpath(module, top)
            for cls in expected:
                if not any(n == cls or n.startswith(cls + "$") or n.startswith(cls + ".") for n in seen):
                    fail(f"MISSING: {rel}: no report of {cls} from this run (its tests did not run, "
                         f"or their JVM died before reporting it)")

    if passed == 0 and failed == 0:
        fail("FAILED: no test ran at all")
    for p in problems:
        print(p)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
