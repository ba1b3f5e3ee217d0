"""Regenerate every table and figure of docs/paper_study.md with one command.

    python docs/paper/make_study.py [--out outputs/paper_study]

In order (each step is an ordinary resumable sweep: rerunning reuses finished jobs):

1. ``paper_fc_small`` (30 iterations, every method, adversary-free and reverse attack):
   the report tool's figures and tables, the time breakdown, and the calibration check
   against the authors' measurements (``calibrate.py``, from its adversary-free jobs);
2. ``paper_fc_study`` at 9, 17 and 22 adversaries of 45, reverse and constant attack:
   both geometric-median baselines, and DRACO with the smallest repetition ``r`` whose
   groups each hold fewer than ``r/2`` of the evenly spread adversaries; then the
   speedup table with the Weiszfeld steps per setting (``speedups.py``);
3. the crossover map (``crossover.py``, timing only), with the geometric median charged
   the steps the authors' baseline took adversary-free in step 1.

Tables and figures land in ``docs/figures/``.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "docs" / "figures"
COPIES = {  # sweep-dir file -> docs/figures name
    "accuracy_vs_time.png": "paper_accuracy_vs_time.png",
    "time_to_target.png": "paper_time_to_target.png",
    "table.md": "paper_table.md",
    "summary.md": "paper_summary.md",
}
N = 45
COUNTS = (9, 17, 22)


def run(*args: str) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True)


def spread(count: int) -> list[int]:
    """``count`` ranks spread evenly over the 45 workers."""
    return [i * N // count for i in range(count)]


def smallest_r(ids: list[int]) -> int:
    """The smallest repetition ``r`` (a divisor of 45) whose groups of ``r`` consecutive
    ranks each hold fewer than ``r / 2`` of ``ids``: DRACO within its bound."""
    for r in (3, 5, 9, 15, 45):
        per_group = [sum(i // r == g for i in ids) for g in range(N // r)]
        if max(per_group) <= (r - 1) // 2:
            return r
    raise ValueError(f"no repetition code of 45 workers holds {len(ids)} adversaries")


def geomed_steps(sweep: Path) -> float:
    """Mean Weiszfeld steps of the authors' baseline in the sweep's adversary-free job."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from breakdown import load_job

    for p in sorted(sweep.iterdir()):
        if (p / "metrics.csv").is_file() and (p / ".hydra").is_dir():
            job = load_job(p, 0.9)
            if (job.defense, job.adversary) == ("geomed_paper", "none"):
                with open(p / "metrics.csv") as f:
                    steps = [float(r["geomed_iterations"]) for r in csv.DictReader(f)]
                return sum(steps) / len(steps)
    raise FileNotFoundError(f"no adversary-free geomed_paper job under {sweep}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="outputs/paper_study")
    out = Path(parser.parse_args().out)
    small = out / "paper_fc_small"
    run("-m", "sim", "-m", "experiment=paper_fc_small", f"hydra.sweep.dir={small}")
    run("-m", "sim.report", str(small), "--target", "0.9")
    run("docs/paper/breakdown.py", str(small))
    for src, dst in COPIES.items():
        shutil.copyfile(ROOT / small / src, FIGURES / dst)
        print(f"copied {small}/{src} -> docs/figures/{dst}")
    calibrated = subprocess.run([sys.executable, "docs/paper/calibrate.py", str(small)], cwd=ROOT)
    for count in COUNTS:
        ids = spread(count)
        where = [f"adversary.count={count}", f"adversary.ids=[{','.join(map(str, ids))}]"]
        study = ["-m", "sim", "-m", "experiment=paper_fc_study", *where]
        run(*study, f"hydra.sweep.dir={out}/study/f{count}/geomed")
        r = smallest_r(ids)
        draco = [*study, "defense=draco", f"code.r={r}"]
        run(*draco, f"hydra.sweep.dir={out}/study/f{count}/draco")
    run("docs/paper/speedups.py", str(out / "study"), str(small))
    run("docs/paper/crossover.py", "--geomed-steps", f"{geomed_steps(small):.2f}")
    if calibrated.returncode != 0:
        sys.exit("the calibration check failed: see docs/figures/paper_calibration.md")


if __name__ == "__main__":
    main()
