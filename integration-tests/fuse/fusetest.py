"""A small test runner for the FUSE suites: registered test functions, errno assertions, running a step as
another user, and a JUnit XML report (so scripts/junit-summary.py counts them with everything else).
Standard library only: the suites run on Debian's /usr/bin/python3 as root."""
import ctypes
import errno
import os
import shutil
import sys
import time
import traceback
import xml.etree.ElementTree as ET

NOBODY = 65534
NOGROUP = 65534
# A second unprivileged identity, and a group only it belongs to, for ownership rules between users.
OTHER_UID = 4242
OTHER_GID = 4242
SHARED_GID = 4343

_tests = []
libc = ctypes.CDLL(None, use_errno=True)


def test(fn):
    _tests.append(fn)
    return fn


def name_of(code):
    return errno.errorcode.get(code, str(code))


def expect_errno(code, fn, *args, **kwargs):
    """Runs fn and requires it to fail with OSError errno `code` (one code or a tuple of accepted ones)."""
    codes = code if isinstance(code, tuple) else (code,)
    try:
        fn(*args, **kwargs)
    except OSError as e:
        if e.errno not in codes:
            raise AssertionError(f"{getattr(fn, '__name__', fn)}{args}: expected "
                                 f"{'/'.join(name_of(c) for c in codes)}, got {name_of(e.errno)} ({e})")
        return
    raise AssertionError(f"{getattr(fn, '__name__', fn)}{args}: expected "
                         f"{'/'.join(name_of(c) for c in codes)}, but it succeeded")


def write(path, data, mode=0o644):
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def eq(actual, expected, what=""):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}" if what
                             else f"expected {expected!r}, got {actual!r}")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def as_user(uid, gid, fn, groups=()):
    """Runs fn() in a forked child with the given credentials; re-raises its failure here."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            os.setgroups(list(groups))
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            fn()
        except BaseException:
            os.write(w, traceback.format_exc().encode())
            code = 1
        os._exit(code)
    os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise AssertionError(f"as uid {uid}: {out.decode(errors='replace')}")


def fresh_dir(root, name):
    d = os.path.join(root, name)
    if os.path.lexists(d):
        shutil.rmtree(d)
    os.mkdir(d)
    os.chmod(d, 0o755)
    return d


def report_names(suite):
    """(testsuite name, report file name) of a suite: fuse.<engine>.<suite> in TEST-fuse-<engine>-<suite>.xml
    when run.sh sets HANGAR_FUSE_ENGINE (the same suites run on every metadata engine, each with its own
    report), else fuse.<suite> in TEST-fuse-<suite>.xml."""
    engine = os.environ.get("HANGAR_FUSE_ENGINE", "")
    if engine:
        return f"fuse.{engine}.{suite}", f"TEST-fuse-{engine}-{suite}.xml"
    return f"fuse.{suite}", f"TEST-fuse-{suite}.xml"


def write_report(suite, report_dir, cases, running=None, broken=None):
    """Writes TEST-fuse-<engine>-<suite>.xml with the cases so far. While a test runs (`running`), the
    report also holds a failing case saying so: a suite killed midway (its time limit, a crash, a hung
    mount) leaves a report of what ran that counts as failed. `broken` is a failure of the suite itself."""
    name, filename = report_names(suite)
    rows = list(cases)
    if running is not None:
        rows.append(("(unfinished)", 0.0, f"the suite stopped while running {running}: killed (time limit) "
                                         f"or crashed; the tests after it did not run"))
    if broken is not None:
        rows.append(("(suite)", 0.0, broken))
    failures = sum(1 for _, _, outcome in rows if outcome)
    ts = ET.Element("testsuite", name=name, tests=str(len(rows)), failures=str(failures),
                    errors="0", skipped="0")
    for case, secs, outcome in rows:
        tc = ET.SubElement(ts, "testcase", classname=name, name=case, time=f"{secs:.3f}")
        if outcome:
            f = ET.SubElement(tc, "failure", message=outcome.strip().splitlines()[-1][:500])
            f.text = outcome
    os.makedirs(report_dir, exist_ok=True)
    path = os.path.join(report_dir, filename)
    tmp = path + ".tmp"
    ET.ElementTree(ts).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)


def run(suite, args_root, tests=None, report_dir=None):
    """Runs the registered tests (each gets a fresh directory under args_root), prints one line per test
    and a summary, writes TEST-fuse-<engine>-<suite>.xml into report_dir (rewritten before and after
    every test, so that a suite that dies midway still reports what ran); returns the number of failures."""
    selected = tests if tests is not None else list(_tests)
    cases = []
    failures = 0
    if not selected:
        # A suite that selects nothing has tested nothing: that is a failure, not a pass.
        if report_dir:
            write_report(suite, report_dir, cases, broken="no test selected")
        print(f"{suite}: no test selected", flush=True)
        return 1
    for fn in selected:
        if report_dir:
            write_report(suite, report_dir, cases, running=fn.__name__)
        start = time.time()
        try:
            d = fresh_dir(args_root, f"{suite}-{fn.__name__}")
            fn(d)
            outcome = None
            print(f"ok    {fn.__name__}", flush=True)
        except BaseException as e:  # noqa: B902 - a test's failure of any kind is reported, not fatal
            if isinstance(e, KeyboardInterrupt):
                raise
            failures += 1
            outcome = traceback.format_exc()
            print(f"FAIL  {fn.__name__}\n{outcome}", flush=True)
        cases.append((fn.__name__, time.time() - start, outcome))
    print(f"{suite}: {len(cases) - failures} passed, {failures} failed", flush=True)
    if report_dir:
        write_report(suite, report_dir, cases)
    return failures


def hangar_mount_of(path):
    """The mount point of the Hangar FUSE mount holding path, or None (a test on the local disk proves
    nothing, so every suite refuses to run there)."""
    path = os.path.realpath(path)
    best = None
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            mp = fields[1].replace("\\040", " ")
            if (path == mp or path.startswith(mp.rstrip("/") + "/")) and (best is None or len(mp) > len(best[0])):
                best = (mp, fields[2])
    return best[0] if best and best[1] == "fuse.hangar" else None


def main(suite, argv):
    """Usage: <suite>.py DIR [REPORT_DIR] [TEST ...]: DIR is a writable directory in the mount."""
    if len(argv) < 2:
        print(f"usage: {argv[0]} DIR-IN-MOUNT [REPORT-DIR] [TEST...]", file=sys.stderr)
        sys.exit(2)
    root = argv[1]
    if hangar_mount_of(root) is None:
        print(f"{root} is not on a Hangar FUSE mount", file=sys.stderr)
        sys.exit(2)
    report = argv[2] if len(argv) > 2 and argv[2] != "-" else None
    names = set(argv[3:])
    tests = [t for t in _tests if not names or t.__name__ in names]
    sys.exit(1 if run(suite, root, tests, report) else 0)
