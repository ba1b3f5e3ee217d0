"""Per-iteration time breakdown, speedups and digest checks of a ``paper_fc`` sweep.

    python docs/paper/breakdown.py SWEEP_DIR [--target 0.9] [--out docs/figures]

Reads every job's ``config.yaml``, ``metrics.csv`` and ``summary.json``. With constant
compute times (the paper scenarios), a worker computes for ``latency.overhead_s + load x
latency.seconds`` (``load`` = ``code.r`` for the repetition code, 1 otherwise); the PS's
own time is
``decode_s + aggregate_s``; communication is what remains of the iteration. Writes
``paper_breakdown.png`` and ``paper_breakdown.md`` (the table, the speedups over the
geometric median and the digest check) into ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402


@dataclass
class Job:
    defense: str
    adversary: str
    count: int  # adversaries
    r: int  # the repetition code's r (1 without a code)
    flops: float  # the run's ps.flops
    iteration_s: float  # mean simulated seconds per iteration
    compute_s: float
    ps_s: float
    comm_s: float
    time_to_target: float
    final_accuracy: float | None
    digest: str | None
    corrupted: int | None
    geomed_steps: float | None


def _overrides(job: Path) -> dict[str, str]:
    lines = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text()) or []
    return dict(str(x).split("=", 1) for x in lines)


def load_job(job: Path, target: float) -> Job:
    """One job's time breakdown (means over its iterations) and its result."""
    cfg = yaml.safe_load((job / "config.yaml").read_text())
    summary = json.loads((job / "summary.json").read_text())
    with open(job / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    over = _overrides(job)
    load = int(cfg["code"].get("r", 1)) if "Repetition" in cfg["code"]["_target_"] else 1
    lat = cfg["latency"]
    compute = float(lat.get("overhead_s", 0.0)) + load * float(lat["seconds"])
    it = sum(float(r["iteration_time_s"]) for r in rows) / len(rows)
    ps = sum(float(r["decode_s"]) + float(r["aggregate_s"]) for r in rows) / len(rows)
    ttt = next(
        (float(r["sim_time_s"]) for r in rows if r["accuracy"] and float(r["accuracy"]) >= target),
        math.inf,
    )
    steps = [float(r["geomed_iterations"]) for r in rows if r.get("geomed_iterations")]
    adversary = over.get("adversary", "?")
    return Job(
        defense=over.get("defense", "?"),
        adversary=adversary,
        count=0 if adversary == "none" else int(cfg["adversary"]["count"]),
        r=load,
        flops=float(cfg["ps"]["flops"]),
        iteration_s=it,
        compute_s=compute,
        ps_s=ps,
        comm_s=it - compute - ps,
        time_to_target=ttt,
        final_accuracy=summary.get("final_accuracy"),
        digest=summary.get("model_digest"),
        corrupted=summary.get("corrupted_updates"),
        geomed_steps=sum(steps) / len(steps) if steps else None,
    )


LABELS = {
    "draco": "DRACO r=3",
    "draco5": "DRACO r=5",
    "mean": "mean",
    "geomed_paper": "geomed (authors')",
    "geomed": "geomed (ours)",
    "median": "coord. median",
    "krum": "Krum",
}


def _fmt(x: float) -> str:
    return "never" if not math.isfinite(x) else f"{x:.2f}"


def baseline(jobs: list[Job]) -> str:
    """The geometric median the speedups are measured against: the authors' if it ran."""
    return "geomed_paper" if any(j.defense == "geomed_paper" for j in jobs) else "geomed"


def table(jobs: list[Job], target: float) -> str:
    """Markdown: breakdown, time to target, speedup over geomed (same adversary), digest."""
    base = baseline(jobs)
    geo = {j.adversary: j for j in jobs if j.defense == base}
    free = {j.defense: j.digest for j in jobs if j.adversary == "none"}
    out = [
        f"| method | adversary | iteration (s) | compute | communication | PS decode+aggregate "
        f"| time to {target:.0%} (s) | speedup over {LABELS[base]} (per iteration / to target) "
        "| final accuracy | same digest as adversary-free |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for j in sorted(jobs, key=lambda j: (j.adversary, list(LABELS).index(j.defense))):
        g = geo.get(j.adversary)
        per = g.iteration_s / j.iteration_s if g else math.nan
        tt = (
            g.time_to_target / j.time_to_target
            if g and math.isfinite(j.time_to_target) and math.isfinite(g.time_to_target)
            else math.nan
        )
        same = (
            "-" if j.adversary == "none" else ("yes" if free.get(j.defense) == j.digest else "no")
        )
        acc = "-" if j.final_accuracy is None else f"{j.final_accuracy:.3f}"
        out.append(
            f"| {LABELS.get(j.defense, j.defense)} | {j.adversary} | {j.iteration_s:.3f} "
            f"| {j.compute_s:.4f} | {j.comm_s:.3f} | {j.ps_s:.4f} | {_fmt(j.time_to_target)} "
            f"| {per:.2f}x / {'-' if math.isnan(tt) else f'{tt:.2f}x'} | {acc} | {same} |"
        )
    out += ["", sensitivity(jobs)]
    for name, how in (("geomed_paper", " (per tensor, size-weighted)"), ("geomed", "")):
        steps = [j.geomed_steps for j in jobs if j.defense == name and j.geomed_steps is not None]
        if steps:
            out.append(
                f"\nWeiszfeld steps per iteration, {LABELS[name]}{how}: "
                f"{min(steps):.1f}-{max(steps):.1f}"
            )
    return "\n".join(out) + "\n"


FLOPS = (1e8, 3e8, 1e9, 3e9, 1e10)


def sensitivity(jobs: list[Job]) -> str:
    """Per-iteration speedup of each method over geomed if the PS sustained other rates.

    With ``ps.wait=all`` and constant compute times the PS's decode and aggregation run
    after the last arrival, so its time scales as ``1/ps.flops`` and nothing else moves.
    """
    out = ["| method (adversary) | " + " | ".join(f"ps.flops={f:.1e}" for f in FLOPS) + " |"]
    out.append("|---|" + "---|" * len(FLOPS))
    base = baseline(jobs)
    geo = {j.adversary: j for j in jobs if j.defense == base}

    def at(j: Job, f: float) -> float:
        return j.comm_s + j.compute_s + j.ps_s * j.flops / f

    for j in sorted(jobs, key=lambda j: (j.adversary, list(LABELS).index(j.defense))):
        g = geo.get(j.adversary)
        if g is None or j.defense == base:
            continue
        cells = " | ".join(f"{at(g, f) / at(j, f):.2f}x" for f in FLOPS)
        out.append(f"| {LABELS.get(j.defense, j.defense)} ({j.adversary}) | {cells} |")
    return "\n".join(out)


def figure(jobs: list[Job], path: Path) -> None:
    """Stacked bars: compute, communication, PS time per iteration, one bar per method."""
    attacked = [j for j in jobs if j.adversary != "none"] or jobs
    adv = attacked[0].adversary
    row = sorted(
        (j for j in attacked if j.adversary == adv), key=lambda j: list(LABELS).index(j.defense)
    )
    names = [LABELS.get(j.defense, j.defense) for j in row]
    fig, ax = plt.subplots(figsize=(8, 4))
    bottom = [0.0] * len(row)
    for part, color in (("compute_s", "tab:blue"), ("comm_s", "tab:gray"), ("ps_s", "tab:red")):
        vals = [getattr(j, part) for j in row]
        ax.bar(names, vals, bottom=bottom, color=color, label=part[:-2].replace("ps", "PS"))
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_ylabel("simulated seconds per iteration")
    ax.set_title(f"paper_fc: where an iteration's time goes (adversary={adv})", fontsize=10)
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelrotation=15)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--out", type=Path, default=Path("docs/figures"))
    args = parser.parse_args(argv)
    jobs = [
        load_job(p, args.target)
        for p in sorted(args.sweep.iterdir())
        if (p / "summary.json").is_file() and (p / ".hydra" / "overrides.yaml").is_file()
    ]
    if not jobs:
        print(f"error: no finished job under {args.sweep}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    md = table(jobs, args.target)
    (args.out / "paper_breakdown.md").write_text(md)
    figure(jobs, args.out / "paper_breakdown.png")
    print(md, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
