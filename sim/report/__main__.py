"""``python -m sim.report PATH [--target ACC]``: tables and comparison figures.

PATH is a multirun (sweep) dir, any folder holding run dirs, or one run dir (then its
``report.html`` is rebuilt).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.report.html import write_report
from sim.report.sweep import write_sweep_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.report", description=__doc__)
    parser.add_argument("path", type=Path, help="a run dir or a multirun dir")
    parser.add_argument(
        "--target", type=float, default=None,
        help="test accuracy for time-to-target (default: 80%% of the best run, to 0.05)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    path: Path = args.path
    if not path.is_dir():
        print(f"error: {path} is not a directory", file=sys.stderr)
        return 2
    if (path / "summary.json").is_file():
        print(write_report(path))
        return 0
    written = write_sweep_report(path, args.target)
    if not written:
        print(f"error: no run (no summary.json) under {path}", file=sys.stderr)
        return 2
    for p in written:
        print(p)
    md = path / "summary.md"
    if md.is_file():
        print(md.read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
