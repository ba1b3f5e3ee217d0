"""What a user waits for: whole commands, start-up and outputs included, side by side.

In one run, interleaved over ``--repeats`` rounds (medians reported):

- a bare ``python -c "import torch"`` (the floor: every run needs torch);
- ``python -m sim --help``;
- the default scenario end to end (``python -m sim``, its data set already cached, every
  output file written), next to its own ``wall_time_s`` (the simulation itself);
- an 8-job sweep of short runs (``-m seed=0..7 train.iterations=5``), sequential and with
  ``hydra/launcher=joblib hydra.launcher.n_jobs=2``.

Every command runs from an empty directory, as a new user would. The last lines are the
ratios the targets are stated in.

    python benchmarks/startup.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWEEP = ["-m", "seed=0,1,2,3,4,5,6,7", "train.iterations=5", "progress=false"]


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    py = sys.executable
    times: dict[str, list[float]] = {}
    own: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warm = root / "warm"
        warm.mkdir()
        timed([py, "-m", "sim", "train.iterations=1", f"hydra.run.dir={warm}"], warm)
        for r in range(args.repeats):
            cwd = root / f"round{r}"
            cwd.mkdir()
            cases = {
                "import torch": [py, "-c", "import torch"],
                "--help": [py, "-m", "sim", "--help"],
                "default run": [py, "-m", "sim", "progress=false", f"hydra.run.dir={cwd}/run"],
                "sweep, sequential": [py, "-m", "sim", *SWEEP, f"hydra.sweep.dir={cwd}/seq"],
                "sweep, joblib x2": [
                    py,
                    "-m",
                    "sim",
                    *SWEEP,
                    "hydra/launcher=joblib",
                    "hydra.launcher.n_jobs=2",
                    f"hydra.sweep.dir={cwd}/par",
                ],  # fmt: skip
            }
            for name, cmd in cases.items():
                times.setdefault(name, []).append(timed(cmd, cwd))
            own.append(json.loads((cwd / "run" / "summary.json").read_text())["wall_time_s"])
    med = {k: statistics.median(v) for k, v in times.items()}
    torch_s, wall_s = med["import torch"], statistics.median(own)
    for name, seconds in med.items():
        print(f"{name:20s} {seconds:7.2f} s   (all: {', '.join(f'{s:.2f}' for s in times[name])})")
    print(f"{'its wall_time_s':20s} {wall_s:7.2f} s")
    overhead = (med["default run"] - wall_s) / torch_s
    print(f"(default run - its wall_time_s) / import torch = {overhead:.2f}  (target <= 1.6)")
    print(f"--help / import torch = {med['--help'] / torch_s:.2f}  (target <= 2)")
    parallel = med["sweep, joblib x2"] / med["sweep, sequential"]
    print(f"joblib x2 / sequential sweep = {parallel:.2f}  (target < 1)")


if __name__ == "__main__":
    main()
