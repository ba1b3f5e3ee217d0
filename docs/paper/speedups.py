"""DRACO's speedup over both geometric-median baselines, per attack and adversary count.

    python docs/paper/speedups.py STUDY_DIR [REFERENCE_SWEEP] [--out docs/figures]

Reads every finished job under ``STUDY_DIR`` (the ``experiment=paper_fc_study`` sweeps,
one folder per adversary count) and the adversary-free jobs of ``REFERENCE_SWEEP`` (a
``paper_fc`` sweep), and writes ``paper_speedups.md``: per setting, DRACO's seconds per
iteration (with the ``r`` its placement needs), and for the authors' geometric median
(``geomed_paper``) and ours (``geomed``) the Weiszfeld steps they took per iteration
(size-weighted over the parameter tensors for the authors'), their PS time, their
seconds per iteration and DRACO's speedup over them (per iteration).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from breakdown import Job, load_job  # noqa: E402

BASELINES = {"geomed_paper": "authors' geomed", "geomed": "our geomed"}


def jobs_under(root: Path) -> list[Job]:
    return [
        load_job(p.parent, 0.9)
        for p in sorted(root.rglob("summary.json"))
        if (p.parent / ".hydra" / "overrides.yaml").is_file()
    ]


def table(jobs: list[Job]) -> str:
    settings = sorted({(j.count, j.adversary) for j in jobs}, key=lambda s: (s[0], s[1]))
    head = "| adversaries | attack | DRACO: r | s/iter |"
    rule = "|---|---|---|---|"
    for label in BASELINES.values():
        head += f" {label}: Weiszfeld steps | PS s | s/iter | DRACO's speedup |"
        rule += "---|---|---|---|"
    out = [head, rule]
    for count, attack in settings:
        here = [j for j in jobs if (j.count, j.adversary) == (count, attack)]
        draco = [j for j in here if j.defense.startswith("draco")]
        if not draco:
            continue
        dr = min(draco, key=lambda j: j.r)  # the smallest r that holds the placement
        row = f"| {count} of 45 | {attack} | {dr.r} | {dr.iteration_s:.3f} |"
        for name in BASELINES:
            g = next((j for j in here if j.defense == name), None)
            if g is None:
                row += " - | - | - | - |"
                continue
            steps = g.geomed_steps if g.geomed_steps is not None else math.nan
            row += (
                f" {steps:.1f} | {g.ps_s:.3f} | {g.iteration_s:.3f} "
                f"| **{g.iteration_s / dr.iteration_s:.1f}x** |"
            )
        out.append(row)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("reference", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, default=Path("docs/figures"))
    args = parser.parse_args(argv)
    jobs = jobs_under(args.study)
    if args.reference is not None:
        jobs += [j for j in jobs_under(args.reference) if j.adversary == "none"]
    if not jobs:
        print(f"error: no finished job under {args.study}", file=sys.stderr)
        return 2
    md = table(jobs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "paper_speedups.md").write_text(md)
    print(md, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
