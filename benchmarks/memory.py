"""Peak resident memory of a 1000-worker run against the size of its distinct gradients.

With ``code=repetition code.r=5 cluster.workers=1000`` an iteration has 200 distinct
data parts; each worker's honest message is a reference to its part's gradient, not a
copy. Every case runs in a fresh subprocess (so peaks do not mix) and reports
``ru_maxrss`` after setup (Python, torch, data, model, world) and after the run.
The reference size is ``parts x d x 4`` bytes (every distinct gradient once) plus the
model and the data; the last line is the ratio for the 1000-worker run with every
distinct gradient materialized (``train.oracle=batched``, what a nonlinear rule needs).

    python benchmarks/memory.py [--iterations 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MiB = 2**20
COMMON = ["model=fc_mnist", "data=mnist_synthetic", "progress=false", "device=cpu"]
CASES = {
    "n=1000 r=5 (fast: honest sums symbolic)": ["cluster.workers=1000", "code.r=5"],
    "n=200 r=1 (fast, same 200 parts, 5x fewer workers)": ["cluster.workers=200", "code.r=1"],
    "n=1000 r=5 batched (all 200 gradients materialized)": [
        "cluster.workers=1000",
        "code.r=5",
        "train.oracle=batched",
    ],
}


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(overrides: list[str]) -> None:
    import tempfile

    from benchmarks.common import make_cfg
    from sim.build import build
    from sim.runs.session import Session

    cfg = make_cfg(*overrides)
    world = build(cfg)
    learning: Any = world.math
    with tempfile.TemporaryDirectory() as out:
        session = Session(world, Path(out), None)
        setup = peak_mib()
        session.run()
        summary = session.summary()
    data = learning.data
    data_bytes = sum(t.numel() * t.element_size() for t in (data.x_train, data.y_train))
    data_bytes += sum(t.numel() * t.element_size() for t in (data.x_test, data.y_test))
    print(
        json.dumps(
            {
                "setup_mib": setup,
                "peak_mib": peak_mib(),
                "parts": learning.code.parts,
                "d": learning.oracle.d,
                "data_mib": data_bytes / MiB,
                "iterations": summary.iterations,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--child", nargs="*")
    args = ap.parse_args()
    if args.child is not None:
        child(args.child)
        return
    base = [*COMMON, "code=repetition", f"train.iterations={args.iterations}"]
    base.append(f"train.batch_size={args.batch}")
    print(f"FC 784-800-500-10 on MNIST-shaped data, global batch {args.batch}, peak RSS:")
    ratios = []
    for name, extra in CASES.items():
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *base, *extra]
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        grads = res["parts"] * res["d"] * 4 / MiB
        reference = grads + res["d"] * 4 / MiB + res["data_mib"]
        ratio = res["peak_mib"] / reference
        ratios.append(ratio)
        print(
            f"  {name}: peak {res['peak_mib']:.0f} MiB (after setup {res['setup_mib']:.0f}, "
            f"run adds {res['peak_mib'] - res['setup_mib']:.0f}); distinct gradients "
            f"{grads:.0f} MiB + model {res['d'] * 4 / MiB:.1f} + data {res['data_mib']:.1f} "
            f"= {reference:.0f} MiB; peak / that = {ratio:.2f}"
        )
    n_copies = 1000 * 1_033_510 * 4 / MiB
    print(f"one gradient per worker (n x d x 4 bytes) would be {n_copies:.0f} MiB")
    print(f"peak / (distinct gradients + model + data), n=1000 r=5 = {ratios[0]:.2f}")
    print(f"peak / (distinct gradients + model + data), n=1000 r=5 batched = {ratios[2]:.2f}")


if __name__ == "__main__":
    main()
