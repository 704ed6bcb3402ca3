#!/usr/bin/env python3
"""Sums every JUnit XML report below the given folders and prints one closing line: N passed, N failed."""
import glob
import os
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
failures = []
for root in sys.argv[1:]:
    for path in glob.glob(os.path.join(root, "**", "TEST-*.xml"), recursive=True):
        try:
            tree = ET.parse(path)
        except ET.ParseError as e:
            failed += 1
            failures.append(f"{path}: unreadable report ({e})")
            continue
        for case in tree.iter("testcase"):
            name = f"{case.get('classname')}.{case.get('name')}"
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                failures.append(name)
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
for f in failures:
    print(f"FAILED: {f}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
