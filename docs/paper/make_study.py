"""Regenerate every table and figure of docs/paper_study.md with one command.

    python docs/paper/make_study.py [--sweep-dir outputs/paper_fc_small]

Runs (or, when its results are already there, reuses) the ``paper_fc_small`` sweep, then
the report tool, the time breakdown and the crossover map, and copies the sweep's
figures and tables into ``docs/figures/`` under the names the study uses.
"""

from __future__ import annotations

import argparse
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


def run(*args: str) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep-dir", default="outputs/paper_fc_small")
    sweep = parser.parse_args().sweep_dir
    run("-m", "sim", "-m", "experiment=paper_fc_small", f"hydra.sweep.dir={sweep}")
    run("-m", "sim.report", sweep, "--target", "0.9")
    run("docs/paper/breakdown.py", sweep)
    run("docs/paper/crossover.py")
    for src, dst in COPIES.items():
        shutil.copyfile(ROOT / sweep / src, FIGURES / dst)
        print(f"copied {sweep}/{src} -> docs/figures/{dst}")


if __name__ == "__main__":
    main()
