"""Calibrate ``experiment=paper_fc`` to the DRACO authors' own measurements, and check it.

    python docs/paper/calibrate.py SWEEP_DIR [--out docs/figures]

The authors measured their cluster (45 EC2 m4.2xlarge workers, FC 784-800-500-10 on
MNIST, no adversary, about 10,000 iterations; the analysis notebooks in their DRACO
repository's history): seconds per iteration for plain averaging, the repetition
code's majority vote and their geometric median, and the mean worker compute time per
iteration for every group size. The simulator's cost model has four constants
(``sim/scenarios/experiment/paper_fc.yaml``):

- worker compute = ``latency.overhead_s + r x latency.seconds`` (``r`` shares of the
  batch): a least-squares fit, in relative terms, to the five compute times;
- communication = ``48 x 32 d / bandwidth + 4 x latency`` (45 model copies leave the
  PS one after another over its link, the last gradient comes back: the star's closed
  form) and PS time = ``ops / ps.flops``: both from the three iteration times, by least
  squares in relative terms, with ``ops`` what the simulator charges each method in the
  adversary-free jobs of ``SWEEP_DIR`` (so the geometric median's ops are those of the
  Weiszfeld steps the authors' baseline, ``geomed_paper``, actually took there).

Writes ``paper_calibration.md``: every measured number next to what the calibrated
simulator gives (its runs for the iteration times, its compute model for the worker
times), the fit and its residuals, the constants the scenario uses, and the two
simpler fits that do not hold. Exits 1 when the scenario's constants are more than 1%
from this sweep's fit.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from breakdown import Job, load_job  # noqa: E402

# The authors' measurements (seconds); compute: group size r -> mean worker time
COMPUTE = {45: 0.586, 15: 0.241, 9: 0.173, 5: 0.125, 3: 0.101}
GROUPS = {45: "1 group x 45", 15: "3 x 15", 9: "5 x 9", 5: "9 x 5", 3: "15 x 3"}
TOTALS = {"mean": 1.53, "draco": 1.70, "geomed_paper": 4.04}
TOTAL_NAMES = {
    "mean": "iteration, plain averaging",
    "draco": "iteration, majority vote (repetition, r=3)",
    "geomed_paper": "iteration, geometric median (authors' baseline)",
}
N = 45


@dataclass
class Fit:
    overhead_s: float
    share_s: float
    bandwidth_bps: float
    flops: float


def fit_compute() -> tuple[float, float]:
    """(overhead, per share) minimizing the relative residuals of ``a + r b``."""
    r = np.array(list(COMPUTE), dtype=float)
    t = np.array(list(COMPUTE.values()))
    a = np.stack([np.ones_like(r), r], 1) / t[:, None]
    (overhead, share), *_ = np.linalg.lstsq(a, np.ones_like(t), rcond=None)
    return float(overhead), float(share)


@dataclass
class Reference:
    """What an adversary-free job of the sweep tells the fit."""

    path: Path
    job: Job
    ops: float  # the PS's operations per iteration (decode + aggregate)
    wire_bits: float  # bits per iteration that cross the PS's link serially (48 x 32 d)
    latency_s: float  # the link latency (4 crossings per iteration)


def reference(path: Path, target: float) -> Reference:
    cfg = yaml.safe_load((path / "config.yaml").read_text())
    job = load_job(path, target)
    d = int(json.loads((path / "summary.json").read_text())["parameters"])
    return Reference(
        path=path,
        job=job,
        ops=job.ps_s * job.flops,
        wire_bits=(N + 3) * 32 * d,
        latency_s=float(cfg["network"]["latency_s"]),
    )


def fit_totals(refs: dict[str, Reference], overhead: float, share: float) -> tuple[float, float]:
    """(bandwidth, ps.flops) minimizing the relative residuals of the three totals."""
    rows, rhs = [], []
    for name, measured in TOTALS.items():
        ref = refs[name]
        compute = overhead + ref.job.r * share
        rows.append([ref.wire_bits / measured, ref.ops / measured])
        rhs.append((measured - compute - 4 * ref.latency_s) / measured)
    (inv_bw, inv_flops), *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    return 1.0 / float(inv_bw), 1.0 / float(inv_flops)


def predict(ref: Reference, fit: Fit) -> float:
    compute = fit.overhead_s + ref.job.r * fit.share_s
    return ref.wire_bits / fit.bandwidth_bps + 4 * ref.latency_s + compute + ref.ops / fit.flops


def pct(x: float, y: float) -> str:
    return f"{100 * (x / y - 1):+.1f}%"


def report(refs: dict[str, Reference], scenario: Fit) -> tuple[str, bool]:
    overhead, share = fit_compute()
    bandwidth, flops = fit_totals(refs, overhead, share)
    fit = Fit(overhead, share, bandwidth, flops)
    steps = refs["geomed_paper"].job.geomed_steps or float("nan")
    md = [
        "| measured (authors) | seconds | calibrated simulator | residual |",
        "|---|---|---|---|",
    ]
    for r, t in COMPUTE.items():
        sim = scenario.overhead_s + r * scenario.share_s
        md.append(f"| worker compute, {GROUPS[r]} (r={r}) | {t:.3f} | {sim:.3f} | {pct(sim, t)} |")
    for name, t in TOTALS.items():
        sim = refs[name].job.iteration_s
        md.append(f"| {TOTAL_NAMES[name]} | {t:.2f} | {sim:.3f} | {pct(sim, t)} |")
    worst = max(
        [abs(scenario.overhead_s / t + r * scenario.share_s / t - 1) for r, t in COMPUTE.items()]
        + [abs(refs[n].job.iteration_s / t - 1) for n, t in TOTALS.items()]
    )
    md += [
        "",
        f"Largest residual: {100 * worst:.1f}%. The authors' geometric median took "
        f"{steps:.1f} Weiszfeld steps per iteration here (size-weighted over the 6 "
        "parameter tensors, adversary-free, measured on this sweep's real gradients).",
        "",
        "| constant | this sweep's fit | the scenario uses |",
        "|---|---|---|",
        f"| `latency.overhead_s` | {fit.overhead_s:.4f} s | {scenario.overhead_s:.4f} s |",
        f"| `latency.seconds` (per share) | {fit.share_s:.5f} s | {scenario.share_s:.5f} s |",
        f"| `network.bandwidth_bps` | {fit.bandwidth_bps:.4g} | {scenario.bandwidth_bps:.4g} |",
        f"| `ps.flops` | {fit.flops:.4g} | {scenario.flops:.4g} |",
        "",
        "Residuals of the fit itself: compute "
        + ", ".join(f"r={r} {pct(fit.overhead_s + r * fit.share_s, t)}" for r, t in COMPUTE.items())
        + "; iterations "
        + ", ".join(f"{n} {pct(predict(refs[n], fit), t)}" for n, t in TOTALS.items())
        + ".",
    ]
    # the two simpler fits, and why they are not used
    linear = COMPUTE[3] / 3
    two = two_point(refs, overhead, share)
    geo_two = predict(refs["geomed_paper"], two)
    md += [
        "",
        f"Not used: compute in proportion to the load, {linear:.4f} s per share from the "
        "15 x 3 number alone, misses the others by "
        + ", ".join(f"{pct(r * linear, t)} (r={r})" for r, t in COMPUTE.items() if r != 3)
        + f". Bandwidth and PS rate from the averaging and majority-vote times alone "
        f"({two.bandwidth_bps:.3g} b/s, {two.flops:.3g} ops/s) put the geometric median at "
        f"{geo_two:.2f} s ({pct(geo_two, TOTALS['geomed_paper'])}):"
        " the 0.17 s between those two totals is too small a difference to pin the PS rate.",
    ]
    drift = max(
        abs(getattr(fit, k) / getattr(scenario, k) - 1)
        for k in ("overhead_s", "share_s", "bandwidth_bps", "flops")
    )
    return "\n".join(md) + "\n", drift <= 0.01 and worst <= 0.10


def two_point(refs: dict[str, Reference], overhead: float, share: float) -> Fit:
    rows, rhs = [], []
    for name in ("mean", "draco"):
        ref = refs[name]
        rows.append([ref.wire_bits, ref.ops])
        rhs.append(TOTALS[name] - overhead - ref.job.r * share - 4 * ref.latency_s)
    inv_bw, inv_flops = np.linalg.solve(np.array(rows), np.array(rhs))
    return Fit(overhead, share, 1.0 / float(inv_bw), 1.0 / float(inv_flops))


def scenario_constants(path: Path) -> Fit:
    cfg = yaml.safe_load((path / "config.yaml").read_text())
    return Fit(
        overhead_s=float(cfg["latency"].get("overhead_s", 0.0)),
        share_s=float(cfg["latency"]["seconds"]),
        bandwidth_bps=float(cfg["network"]["bandwidth_bps"]),
        flops=float(cfg["ps"]["flops"]),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/figures"))
    args = parser.parse_args(argv)
    refs: dict[str, Reference] = {}
    for p in sorted(args.sweep.iterdir()):
        if not (p / "summary.json").is_file() or not (p / ".hydra").is_dir():
            continue
        ref = reference(p, 0.9)
        if ref.job.adversary == "none" and ref.job.defense in TOTALS:
            refs[ref.job.defense] = ref
    missing = sorted(set(TOTALS) - set(refs))
    if missing:
        print(f"error: no adversary-free job for {', '.join(missing)} under {args.sweep}")
        return 2
    md, ok = report(refs, scenario_constants(refs["mean"].path))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "paper_calibration.md").write_text(md)
    print(md, end="")
    if not ok:
        print("the scenario's constants are off this sweep's fit: update paper_fc.yaml")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
