"""Everything written for a group of runs: the tables and the comparison figures."""

from __future__ import annotations

import logging
import math
from pathlib import Path

from sim.report.groups import final_accuracy
from sim.report.painter import HEATMAP, PROGRESS, TO_TARGET, Painter, Request
from sim.report.summary import write_summary
from sim.report.table import write as write_pivots
from sim.runs.store import load_runs

log = logging.getLogger(__name__)


def default_target(best_accuracy: float) -> float:
    """80% of the best final accuracy, rounded down to 0.05: reachable, yet discriminating."""
    return max(0.05, math.floor(0.8 * best_accuracy * 20) / 20)


def write_sweep_report(
    root: Path, target: float | None = None, drawer: Painter | None = None
) -> list[Path]:
    """Tables (CSV, Markdown) and figures for every run under ``root``; returns the files.

    ``drawer`` draws the figures (a sweep's painter process, which imported matplotlib
    while the jobs ran); by default they are drawn here.
    """
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
    for r in runs:  # read here, sent along: the drawing process need not read them again
        _ = r.records, r.config
    request: Request = {
        "accuracy_vs_time.png": (PROGRESS, dict(runs=runs)),
        "time_to_target.png": (TO_TARGET, dict(runs=runs, target=goal)),
        "accuracy_heatmap.png": (HEATMAP, dict(runs=runs)),
    }
    errors = (drawer or Painter(spawn=False)).paint(root, request)
    for name, error in errors.items():
        if error is not None:
            log.warning("could not draw %s: %s", name, error)
        elif (root / name).is_file():
            written.append(root / name)
    return written
