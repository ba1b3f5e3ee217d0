"""Crossover map: where DRACO stops winning, and where DETOX wins instead (timing only).

    python docs/paper/crossover.py [--iterations 20] [--geomed-steps 5.4] [--out docs/figures]

Every point is a ``workload=timing_only`` run of the paper's cluster (n=45, fc_mnist's
d = 1,033,510; ``ps.flops``, the compute overhead and the per-share compute time as
``experiment=paper_fc`` sets them), with shifted-exponential stragglers (shift = the
calibrated share time, mean tail ``scale``) and a star of the given bandwidth. Methods:
DRACO (repetition r, mean), DETOX (repetition r=3, coordinate median over the group
winners), the authors' geometric median and the coordinate median over all n
gradients. The geometric median is charged ``--geomed-steps`` Weiszfeld steps (what
the authors' baseline took on real gradients, adversary-free): its time is the plain
mean's run (the mean is its starting point) plus ``3 k d T / ps.flops``, its cost model
(``sim/aggregators/geomed.py``), since a timing-only run has no vectors to take
Weiszfeld steps on.

Panel 1: bandwidth x straggler scale at f=1 adversary (DRACO r=3): colour = which method
is fastest per iteration, text = its speedup over the geometric median.
Panel 2: adversary count f (DRACO needs r = 2f+1 against a worst-case placement, n the
nearest multiple of r to 45; DETOX keeps r=3 and its median tolerates about half the
groups) at 1 Gb/s, for two straggler tails.
Writes ``crossover.png`` and ``crossover.md``.
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
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from sim import api  # noqa: E402

D = 1_033_510  # fc_mnist's parameters
PAPER = api.compose(["experiment=paper_fc"])  # the calibrated constants, from one place
FLOPS = float(PAPER.ps.flops)
SHARE_S = float(PAPER.latency.seconds)
OVERHEAD_S = float(PAPER.latency.overhead_s)
BANDWIDTHS = [1e8, 3e8, 1e9, 3e9, 1e10, 3e10]
SCALES = [0.0, 0.004, 0.015, 0.05, 0.15, 0.5]  # mean straggler tail, seconds per share
METHODS = ["DRACO", "DETOX", "geomed", "median"]


def setup(method: str, r: int) -> list[str]:
    return {
        "DRACO": ["code=repetition", f"code.r={r}", "aggregator=mean"],
        "DETOX": ["code=repetition", "code.r=3", "aggregator=median"],
        "geomed": ["code=none", "aggregator=mean"],  # plus its Weiszfeld steps, see run()
        "median": ["code=none", "aggregator=median"],
    }[method]


def iteration_time(overrides: list[str], out: Path) -> float:
    """Mean simulated seconds per iteration of one timing-only run."""
    api.run(overrides, out_dir=out)
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    return sum(float(r["iteration_time_s"]) for r in rows) / len(rows)


def world(args: argparse.Namespace, n: int, bw: float, scale: float) -> list[str]:
    return [
        "model=fc_mnist",
        f"timing.d={D}",  # fc_mnist on 784 features (the default data has 40)
        f"ps.flops={FLOPS}",  # as experiment=paper_fc (which also fixes latency=constant)
        f"latency.overhead_s={OVERHEAD_S}",
        "network.latency_s=1e-4",
        "progress=false",
        "workload=timing_only",
        "adversary=none",
        "trace.iterations=0",
        f"train.iterations={args.iterations}",
        f"cluster.workers={n}",
        "latency=shifted_exp",
        f"latency.shift_s={SHARE_S}",
        f"latency.scale_s={scale}",
        f"network.bandwidth_bps={bw}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--geomed-steps", type=float, default=5.4)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    k = 0

    def run(method: str, n: int, r: int, bw: float, scale: float) -> float:
        nonlocal k
        k += 1
        time = iteration_time([*world(args, n, bw, scale), *setup(method, r)], tmp / str(k))
        if method == "geomed":  # the mean (its start) plus the Weiszfeld steps
            time += 3 * n * D * args.geomed_steps / FLOPS
        return time

    best = np.zeros((len(SCALES), len(BANDWIDTHS)), dtype=int)
    speed = np.zeros_like(best, dtype=float)
    md = ["| bandwidth (b/s) | tail scale (s) | " + " | ".join(METHODS) + " | fastest |"]
    md.append("|---|---|" + "---|" * (len(METHODS) + 1))
    for i, scale in enumerate(SCALES):
        for j, bw in enumerate(BANDWIDTHS):
            t = [run(m, 45, 3, bw, scale) for m in METHODS]
            b = int(np.argmin(t))
            best[i, j], speed[i, j] = b, t[METHODS.index("geomed")] / t[b]
            cells = " | ".join(f"{x:.3f}" for x in t)
            md.append(f"| {bw:.0e} | {scale} | {cells} | {METHODS[b]} |")
            print(md[-1], flush=True)

    fs = [1, 2, 3, 4, 5, 7]
    tails = [0.0, 0.15]
    lines: dict[tuple[str, float], list[float]] = {}
    md += [
        "",
        "| f | tail scale (s) | DRACO r=2f+1 | DETOX r=3 | geomed |",
        "|---|---|---|---|---|",
    ]
    for scale in tails:
        for f in fs:
            r = 2 * f + 1
            n = max(r, r * round(45 / r))
            t = (run("DRACO", n, r, 1e9, scale), run("DETOX", 45, 3, 1e9, scale),
                 run("geomed", 45, 3, 1e9, scale))  # fmt: skip
            for name, x in zip(("DRACO", "DETOX", "geomed"), t, strict=True):
                lines.setdefault((name, scale), []).append(x)
            md.append(f"| {f} | {scale} | {t[0]:.3f} (n={n}) | {t[1]:.3f} | {t[2]:.3f} |")
            print(md[-1], flush=True)

    colors = ["tab:blue", "tab:green", "tab:red", "tab:orange"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    ax.imshow(best, cmap=ListedColormap(colors), vmin=0, vmax=len(METHODS) - 1, origin="lower",
              aspect="auto")  # fmt: skip
    for i in range(len(SCALES)):
        for j in range(len(BANDWIDTHS)):
            ax.text(j, i, f"{METHODS[best[i, j]]}\n{speed[i, j]:.1f}x", ha="center",
                    va="center", fontsize=7, color="white")  # fmt: skip
    ax.set_xticks(range(len(BANDWIDTHS)), [f"{b / 1e9:g}" for b in BANDWIDTHS])
    ax.set_yticks(range(len(SCALES)), [f"{s:g}" for s in SCALES])
    ax.set_xlabel("bandwidth (Gb/s)")
    ax.set_ylabel("straggler tail: mean of Exp (s per share)")
    ax.set_title("fastest method per iteration, speedup over geomed (n=45, f=1)", fontsize=9)
    for (name, scale), ys in lines.items():
        style = "-" if scale == 0 else "--"
        ax2.plot(fs, ys, style, marker="o", ms=3, color=colors[METHODS.index(name)],
                 label=f"{name}, tail {scale:g} s")  # fmt: skip
    ax2.set_xlabel("adversaries f (DRACO: r = 2f+1)")
    ax2.set_ylabel("simulated seconds per iteration")
    ax2.set_yscale("log")
    ax2.set_title("1 Gb/s: DRACO's r grows with f, DETOX's does not", fontsize=9)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / "crossover.png", dpi=120)
    (args.out / "crossover.md").write_text("\n".join(md) + "\n")
    print(f"wrote {args.out / 'crossover.png'}")


if __name__ == "__main__":
    main()
