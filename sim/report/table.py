"""Sweep tables: one row per job of a Hydra multirun, and pivots of one summary value.

A multirun directory holds one folder per job, each with ``.hydra/overrides.yaml``
(the swept ``key=value`` overrides) and ``summary.json``. :func:`collect` reads them
into rows; :func:`write` saves ``table.csv`` (every job, every override, the summary
numbers) and ``table.md`` (pivots: the first swept key down, the others across).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sim.runs.records import Status
from sim.runs.store import load_sweep

SUMMARY = ("status", "final_accuracy", "final_loss", "corrupted_updates", "decode_failures")
PIVOTS = (("final_accuracy", "final test accuracy"), ("corrupted_updates", "corrupted updates"))

Row = dict[str, Any]


def collect(sweep: Path) -> tuple[list[Row], list[str]]:
    """(rows, swept keys in override order). A row: overrides + summary numbers + job."""
    rows: list[Row] = []
    keys: list[str] = []
    for run in load_sweep(sweep):
        if run.summary is None:
            continue  # not finished: nothing to tabulate
        row: Row = dict(run.overrides)
        keys += [k for k in row if k not in keys]
        values = run.summary.plain()
        row.update({k: values.get(k) for k in SUMMARY})
        row["job"] = run.name
        rows.append(row)
    swept = [k for k in keys if len({r.get(k) for r in rows}) > 1] or keys[:1]
    return rows, swept


def _cell(row: Row | None, value: str) -> str:
    if row is None:
        return ""
    v = row.get(value)
    text = "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
    return f"{text} (diverged)" if row.get("status") == Status.diverged else text


def pivot(rows: list[Row], down: str, across: list[str], value: str) -> str:
    """Markdown table of ``value``: one line per value of ``down``, one column per rest."""
    col = lambda r: " ".join(str(r.get(k)) for k in across) or value  # noqa: E731
    lines = list(dict.fromkeys(str(r.get(down)) for r in rows))
    cols = list(dict.fromkeys(col(r) for r in rows))
    cell = {(str(r.get(down)), col(r)): r for r in rows}
    out = [f"| {down} | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for line in lines:
        out.append(
            f"| {line} | " + " | ".join(_cell(cell.get((line, c)), value) for c in cols) + " |"
        )
    return "\n".join(out)


def write(sweep: Path, out: Path | None = None) -> tuple[Path, Path]:
    """Write ``table.csv`` and ``table.md`` for the multirun at ``sweep``; return both paths."""
    rows, swept = collect(sweep)
    if not rows:
        raise FileNotFoundError(f"{sweep}: no job folder with a summary.json")
    out = out or sweep
    columns = list(dict.fromkeys(k for r in rows for k in r))
    csv_path, md_path = out / "table.csv", out / "table.md"
    with csv_path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    down, across = swept[0], swept[1:]
    parts = [f"# Sweep {sweep}\n"]
    for value, title in PIVOTS:
        parts.append(f"## {title}\n\n{pivot(rows, down, across, value)}\n")
    md_path.write_text("\n".join(parts))
    return csv_path, md_path
