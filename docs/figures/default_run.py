"""The README's picture: the default run's ``training.png`` and ``timeline.png``.

Runs ``python -m sim`` (the default scenario, as ``make run`` does) in a scratch folder
and copies its two figures here as ``default_training.png`` and ``default_timeline.png``.

    python docs/figures/default_run.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        subprocess.run([sys.executable, "-m", "sim", f"hydra.run.dir={run}"], check=True)
        for name in ("training", "timeline"):
            shutil.copyfile(run / f"{name}.png", HERE / f"default_{name}.png")
            print(f"wrote {HERE / f'default_{name}.png'}", file=sys.stderr)


if __name__ == "__main__":
    main()
