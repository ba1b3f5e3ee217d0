"""Simulated time per iteration of DRACO (r=3, 5), mean and geometric median as n grows.

Timing-only runs (no gradients): shifted-exponential stragglers, the star network, the
PS's cost model.

    python docs/figures/time_vs_n.py [--iterations 100] [--out docs/figures/time_vs_n.png]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim import api  # noqa: E402

GRID = [5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
WORLD = [
    "workload=timing_only",
    "timing.d=1000000",  # a 1M-parameter model: 4 MB per message
    "latency=shifted_exp",
    "latency.shift_s=0.05",  # per uncoded share of the batch
    "latency.scale_s=0.05",
    "network=star",
    "network.bandwidth_bps=1e10",
    "network.latency_s=5e-5",
    "ps.flops=1e10",
    "ps.wait=all",
    "adversary=none",
    "progress=false",
    "trace.iterations=0",
]
SETUPS = {  # label: (overrides, multiple of n it needs)
    "DRACO r=3 (repetition + mean)": (["code=repetition", "code.r=3", "aggregator=mean"], 3),
    "DRACO r=5 (repetition + mean)": (["code=repetition", "code.r=5", "aggregator=mean"], 5),
    "mean (no defence)": (["code=none", "aggregator=mean"], 1),
    "geometric median": (["code=none", "aggregator=geomed"], 1),
}


def nearest_multiple(n: int, r: int) -> int:
    return max(r, r * round(n / r))


def measure(overrides: list[str], out: Path) -> tuple[float, float]:
    """(mean simulated seconds per iteration, of which the PS's decode + aggregate)."""
    api.run(overrides, out_dir=out)
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    total = sum(float(r["iteration_time_s"]) for r in rows) / len(rows)
    ps = sum(float(r["decode_s"]) + float(r["aggregate_s"]) for r in rows) / len(rows)
    return total, ps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".png"))
    args = parser.parse_args()
    fig, (ax, ax_ps) = plt.subplots(1, 2, figsize=(11, 4.2))
    with tempfile.TemporaryDirectory() as tmp:
        for k, (label, (setup, r)) in enumerate(SETUPS.items()):
            ns = sorted({nearest_multiple(n, r) for n in GRID})
            points = []
            for n in ns:
                run = [
                    *WORLD,
                    *setup,
                    f"cluster.workers={n}",
                    f"train.iterations={args.iterations}",
                ]
                points.append(measure(run, Path(tmp) / f"{k}-{n}"))
                print(f"{label:32s} n={n:3d}: {points[-1][0] * 1e3:8.1f} ms per iteration")
            ax.plot(ns, [p[0] for p in points], marker="o", ms=3, label=label)
            ax_ps.plot(ns, [p[1] * 1e3 for p in points], marker="o", ms=3, label=label)
    ax.set_xlabel("workers n")
    ax.set_ylabel("simulated time per iteration (s)")
    ax.set_title("iteration time (all waits)", fontsize=10)
    ax.legend(fontsize=8)
    ax_ps.set_xlabel("workers n")
    ax_ps.set_ylabel("PS decode + aggregate per iteration (ms)")
    ax_ps.set_yscale("log")
    ax_ps.set_title("of which the PS's own time", fontsize=10)
    fig.suptitle(
        "d = 10^6 parameters, stragglers 0.05 s + Exp(mean 0.05 s) per share, "
        "10 Gb/s star, PS at 10^10 ops/s",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
