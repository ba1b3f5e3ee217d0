"""``python -m sim.report MULTIRUN_DIR``: write table.csv and table.md of a sweep."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.report.table import write


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sim.report MULTIRUN_DIR", file=sys.stderr)
        return 2
    try:
        csv_path, md_path = write(Path(args[0]))
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {csv_path} and {md_path}")
    print(md_path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
