"""Everything written for a group of runs: the tables and the comparison figures."""

from __future__ import annotations

import math
from pathlib import Path

from sim.report.compare import (
    accuracy_heatmap,
    accuracy_vs_time,
    final_accuracy,
    time_to_target_bars,
)
from sim.report.summary import write_summary
from sim.report.table import write as write_pivots
from sim.runs.store import load_runs


def default_target(best_accuracy: float) -> float:
    """80% of the best final accuracy, rounded down to 0.05: reachable, yet discriminating."""
    return max(0.05, math.floor(0.8 * best_accuracy * 20) / 20)


def write_sweep_report(root: Path, target: float | None = None) -> list[Path]:
    """Tables (CSV, Markdown) and figures for every run under ``root``; returns the files."""
    runs = load_runs(root)
    if not runs:
        return []
    written: list[Path] = []
    if any((p / ".hydra" / "overrides.yaml").is_file() for p in root.iterdir() if p.is_dir()):
        written += write_summary(root)
        written += list(write_pivots(root))
    accs = [final_accuracy(r) for r in runs]
    best = max((a for a in accs if math.isfinite(a)), default=0.0)
    goal = target if target is not None else default_target(best)
    accuracy_vs_time(runs, root / "accuracy_vs_time.png")
    time_to_target_bars(runs, goal, root / "time_to_target.png")
    written += [root / "accuracy_vs_time.png", root / "time_to_target.png"]
    if accuracy_heatmap(runs, root / "accuracy_heatmap.png"):
        written.append(root / "accuracy_heatmap.png")
    return written
