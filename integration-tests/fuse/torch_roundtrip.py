#!/usr/bin/python3
"""Checkpoint round trip: torch.save of a model state dict of a few hundred MiB into the mount, then
torch.load in another process, which must find every tensor equal. Needs Debian's python3-torch (run with
/usr/bin/python3). Without torch the test fails, saying so (a missing part is never a skip).

    torch_roundtrip.py DIR-IN-MOUNT [REPORT-DIR] [--mib N]
"""
import argparse
import os
import subprocess
import sys

import fusetest
from fusetest import check, eq

SEED = 20240611


def state_dict(mib):
    """A transformer-like state dict of about `mib` MiB, reproducible from SEED."""
    import torch
    g = torch.Generator().manual_seed(SEED)
    sd = {}
    layer = 0
    total = 0
    while total < mib << 20:
        for name, shape, dtype in [("attn.qkv.weight", (3072, 1024), torch.float32),
                                   ("attn.qkv.bias", (3072,), torch.float32),
                                   ("mlp.fc.weight", (4096, 1024), torch.float16),
                                   ("mlp.proj.weight", (1024, 4096), torch.bfloat16),
                                   ("norm.weight", (1024,), torch.float32),
                                   ("steps", (1,), torch.int64)]:
            t = torch.randn(shape, generator=g).to(dtype) if dtype.is_floating_point else \
                torch.randint(0, 1 << 40, shape, generator=g, dtype=dtype)
            sd[f"layers.{layer}.{name}"] = t
            total += t.numel() * t.element_size()
        layer += 1
    return sd


def save(path, mib):
    import torch
    sd = state_dict(mib)
    torch.save({"model": sd, "epoch": 7, "optimizer": {"lr": 3e-4}}, path)
    return sum(t.numel() * t.element_size() for t in sd.values())


def load_and_compare(path, mib):
    """Runs in a fresh process: loads the checkpoint and compares it with a regenerated state dict."""
    import torch
    ck = torch.load(path, map_location="cpu")
    want = state_dict(mib)
    got = ck["model"]
    if set(got) != set(want):
        return f"keys differ: {sorted(set(got) ^ set(want))[:5]}"
    for k, t in want.items():
        if got[k].dtype != t.dtype or not torch.equal(got[k], t):
            return f"tensor {k} differs"
    if ck["epoch"] != 7 or ck["optimizer"] != {"lr": 3e-4}:
        return "metadata differs"
    return "equal"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("report", nargs="?")
    ap.add_argument("--mib", type=int, default=320)
    ap.add_argument("--load", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.load:
        print(load_and_compare(a.load, a.mib))
        return
    if fusetest.hangar_mount_of(a.dir) is None:
        print(f"{a.dir} is not on a Hangar FUSE mount", file=sys.stderr)
        sys.exit(2)
    def checkpoint_round_trip(d):
        try:
            import torch  # noqa: F401
        except ImportError as e:
            raise AssertionError(f"python3-torch is not installed for {sys.executable} ({e}): "
                                 f"apt-get install python3-torch (scripts/install-deps.sh does)") from e
        path = os.path.join(d, "checkpoint.pt")
        n = save(path, a.mib)
        check(os.stat(path).st_size >= n, f"checkpoint of {os.stat(path).st_size} bytes holds {n} tensor bytes")
        out = subprocess.run([sys.executable, os.path.abspath(__file__), d, "--mib", str(a.mib), "--load", path],
                             capture_output=True, text=True, timeout=1800)
        eq(out.returncode, 0, f"loader exit ({out.stderr[-2000:]})")
        eq(out.stdout.strip().splitlines()[-1], "equal", "the other process loads an equal state dict")
        print(f"torch: saved and loaded {n >> 20} MiB of tensors ({os.stat(path).st_size} bytes)", flush=True)

    sys.exit(1 if fusetest.run("torch", a.dir, [checkpoint_round_trip], a.report) else 0)


if __name__ == "__main__":
    main()
