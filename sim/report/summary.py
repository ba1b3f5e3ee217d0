"""The table of a sweep: one row per job, and mean and spread over seeds.

Each job directory holds Hydra's ``.hydra/overrides.yaml`` (what the job changed) and the
run's ``summary.json``. ``summarize`` reads them into rows; ``aggregate`` groups rows that
differ only in ``seed`` and reports mean, std (sample, ddof=1), min and max of the final
accuracy, loss and simulated time. ``write_summary`` writes ``summary.csv``,
``summary_seeds.csv`` and ``summary.md`` (both tables) into the sweep directory.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.runs.records import Status
from sim.runs.store import load_sweep

Row = dict[str, Any]
FINISHED = {s.value for s in Status if s.finished}

METRICS = (
    "status",
    "final_accuracy",
    "final_loss",
    "sim_time_s",
    "wall_time_s",
    "corrupted_updates",
    "decode_failures",
    "model_digest",
)
SPREAD = ("final_accuracy", "final_loss", "sim_time_s")
STATS = ("mean", "std", "min", "max")


def summarize(sweep_dir: Path) -> list[Row]:
    """One row per job: ``job``, its overrides (one column each), then ``METRICS``."""
    rows = []
    for run in load_sweep(Path(sweep_dir)):
        if run.summary is None:
            values: dict[str, Any] = {"status": "unfinished"}
        else:
            values = run.summary.to_dict()
        rows.append({"job": run.name, **run.overrides, **{m: values.get(m) for m in METRICS}})
    return rows


def override_keys(rows: Sequence[Row]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update((k, None) for k in row if k != "job" and k not in METRICS)
    return list(keys)


def varying(rows: Sequence[Row], keys: Sequence[str]) -> list[str]:
    """The override keys whose value is not the same in every row."""
    return [k for k in keys if len({row.get(k) for row in rows}) > 1]


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return dict.fromkeys(STATS, math.nan)
    std = statistics.stdev(values) if len(values) > 1 else math.nan
    return {"mean": statistics.fmean(values), "std": std, "min": min(values), "max": max(values)}


def aggregate(rows: Sequence[Row]) -> list[Row]:
    """Rows that differ only in ``seed``, grouped: counts, seeds, mean and spread of SPREAD.

    Only finished runs enter the statistics; ``runs`` counts all, ``finished`` those.
    """
    keys = [k for k in override_keys(rows) if k != "seed"]
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in keys), []).append(row)
    out = []
    for group_key, members in groups.items():
        done = [r for r in members if r["status"] in FINISHED]
        agg: Row = dict(zip(keys, group_key, strict=True))
        agg["runs"], agg["finished"] = len(members), len(done)
        agg["seeds"] = " ".join(str(r["seed"]) for r in members if r.get("seed") is not None)
        for metric in SPREAD:
            values = [float(r[metric]) for r in done if r[metric] is not None]
            finite = [v for v in values if math.isfinite(v)]
            for stat, value in _stats(finite).items():
                agg[f"{metric}_{stat}"] = value
        out.append(agg)
    return out


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def markdown(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table (digests shortened to 12 hex digits)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [_cell(row.get(c)) for c in columns]
        cells = [
            c[:12] if col == "model_digest" else c for c, col in zip(cells, columns, strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _write_csv(path: Path, rows: Sequence[Row], columns: Sequence[str]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _csv_cell(row.get(c)) for c in columns})


def _csv_cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return "" if value is None else value


def write_summary(sweep_dir: Path) -> list[Path]:
    """Write the per-job and per-seed-group tables into ``sweep_dir``; return the paths."""
    sweep_dir = Path(sweep_dir)
    rows = summarize(sweep_dir)
    keys = override_keys(rows)
    swept = varying(rows, keys)
    fixed = [f"{k}={rows[0].get(k)}" for k in keys if k not in swept] if rows else []
    groups = aggregate(rows)
    group_cols = [k for k in swept if k != "seed"] + ["runs", "finished", "seeds"]
    spread_cols = [f"{m}_{s}" for m in SPREAD for s in STATS]
    _write_csv(sweep_dir / "summary.csv", rows, ["job", *keys, *METRICS])
    _write_csv(sweep_dir / "summary_seeds.csv", groups, [*group_cols, *spread_cols])
    md = [f"# Sweep summary: {len(rows)} jobs\n"]
    if fixed:
        md.append("Same in every job: `" + " ".join(fixed) + "`\n")
    md += ["## Runs\n", markdown(rows, ["job", *swept, *METRICS])]
    md += ["## Over seeds (mean, std, min, max of finished runs)\n"]
    md.append(markdown(groups, [*group_cols, *spread_cols]))
    (sweep_dir / "summary.md").write_text("\n".join(md))
    return [sweep_dir / n for n in ("summary.csv", "summary_seeds.csv", "summary.md")]
