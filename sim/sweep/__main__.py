"""``python -m sim.sweep SWEEP_DIR``: (re)write a sweep's summary tables and print them."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.report.summary import write_summary


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python -m sim.sweep SWEEP_DIR", file=sys.stderr)
        return 2
    paths = write_summary(Path(argv[0]))
    print(paths[-1].read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
