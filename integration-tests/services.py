"""Services the Python suites outside the JVM start for themselves (integration-tests/repo, cache-group)."""
import os
import shutil
import socket
import subprocess
import time


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ceph_env():
    """The Ceph test cluster's env lines (HANGAR_CEPH_ENV, which test.sh sets), as a dict."""
    env_file = os.environ.get("HANGAR_CEPH_ENV")
    if not env_file or not os.path.exists(env_file):
        raise AssertionError("no Ceph test cluster: HANGAR_CEPH_ENV (%s) names no env file; test.sh starts one "
                             "(scripts/ceph-test-cluster.sh up DIR)" % env_file)
    return dict(line.strip().split("=", 1) for line in open(env_file) if "=" in line)


def start_redis(data_dir, appendonly=False):
    """A redis-server of the suite's own on a free loopback port; returns (process, port) once it answers."""
    redis = shutil.which("redis-server")
    if redis is None:
        raise AssertionError("redis-server is missing (scripts/install-deps.sh installs it)")
    port = free_port()
    os.makedirs(data_dir)
    args = [redis, "--port", str(port), "--bind", "127.0.0.1", "--dir", data_dir, "--save", ""]
    if appendonly:
        args += ["--appendonly", "yes"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0:
            return proc, port
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("redis-server on port %d did not answer within 10 s" % port)


def file_digest(path, algorithm="sha256"):
    """The hex digest of a file, read 1 MiB at a time."""
    import hashlib
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def tree_digests(root, algorithm="sha256"):
    """{path relative to root: hex digest} of every file below root."""
    out = {}
    for d, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = file_digest(p, algorithm)
    return out


def stop_process(pid, seconds=60):
    """SIGTERM to pid, then waits up to seconds for it to exit (a runtime's orderly stop)."""
    import signal
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(int(seconds * 10)):
            os.kill(pid, 0)
            time.sleep(0.1)
    except ProcessLookupError:
        pass
