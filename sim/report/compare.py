"""Comparison figures over many runs (a multirun dir, or any tree of run dirs)."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from sim.sweep.summary import parse_overrides  # noqa: E402


@dataclass
class RunResult:
    path: Path
    overrides: dict[str, str]
    summary: dict[str, Any]
    curve: list[tuple[float, float, float]] = field(default_factory=list)  # (it, time, acc)

    def label(self, keys: list[str]) -> str:
        return ", ".join(f"{k}={self.overrides.get(k, '-')}" for k in keys) or self.path.name


def _overrides(run_dir: Path) -> dict[str, str]:
    f = run_dir / ".hydra" / "overrides.yaml"
    if not f.exists():
        return {}
    return parse_overrides(yaml.safe_load(f.read_text()) or [])


def _curve(run_dir: Path) -> list[tuple[float, float, float]]:
    f = run_dir / "metrics.csv"
    if not f.exists():
        return []
    with f.open() as fh:
        return [
            (float(r["iteration"]), float(r["sim_time_s"]), float(r["accuracy"]))
            for r in csv.DictReader(fh)
            if r.get("accuracy")
        ]


def load_runs(root: Path) -> list[RunResult]:
    """Every run dir (one holding ``summary.json``) under ``root``, in path order."""
    runs = []
    found = (p for p in root.rglob("summary.json") if not _hidden(p.relative_to(root)))
    for s in sorted(found, key=lambda p: [_natural(x) for x in p.parts]):
        d = s.parent
        runs.append(RunResult(d, _overrides(d), json.loads(s.read_text()), _curve(d)))
    return runs


def _hidden(rel: Path) -> bool:
    """Under a dot-folder (a sweep's ``.stash`` of superseded results): not a run here."""
    return any(part.startswith(".") for part in rel.parts[:-1])


def _natural(part: str) -> tuple[int, str]:
    return (int(part), "") if part.isdigit() else (-1, part)


def varying_keys(runs: list[RunResult]) -> list[str]:
    """Override keys whose value differs between runs (the sweep's dimensions)."""
    keys = sorted({k for r in runs for k in r.overrides})
    return [k for k in keys if len({r.overrides.get(k) for r in runs}) > 1]


def time_to_target(run: RunResult, target: float) -> float:
    """Simulated seconds until test accuracy first reaches ``target`` (inf if never)."""
    return next((t for _, t, acc in run.curve if acc >= target), math.inf)


def accuracy_vs_time(runs: list[RunResult], path: Path) -> None:
    keys = varying_keys(runs)
    fig, ax = plt.subplots(figsize=(8, 5))
    for r in runs:
        if r.curve:
            status = r.summary.get("status", "completed")
            label = r.label(keys) + ("" if status == "completed" else f" ({status})")
            line = ax.plot([t for _, t, _ in r.curve], [a for _, _, a in r.curve], marker=".",
                           label=label)[0]  # fmt: skip
            if status != "completed":  # where the run stopped
                _, t, a = r.curve[-1]
                ax.plot([t], [a], marker="X", ms=10, color=line.get_color())
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("test accuracy")
    ax.set_title("accuracy against simulated time")
    ax.grid(alpha=0.3)
    if len(runs) <= 16 and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def time_to_target_bars(runs: list[RunResult], target: float, path: Path) -> None:
    keys = varying_keys(runs)
    times = [time_to_target(r, target) for r in runs]
    finite = [t for t in times if math.isfinite(t)]
    cap = 1.1 * max(finite) if finite else 1.0
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(runs) + 1.5))
    y = range(len(runs))
    ax.barh(list(y), [t if math.isfinite(t) else cap for t in times],
            color=["tab:blue" if math.isfinite(t) else "lightgray" for t in times])  # fmt: skip
    for i, t in enumerate(times):
        ax.text(min(t, cap), i, f" {t:.2f}s" if math.isfinite(t) else " never reached",
                va="center", fontsize=8)  # fmt: skip
    ax.set_yticks(list(y), [r.label(keys) for r in runs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"simulated time to {target:.0%} test accuracy (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def accuracy_heatmap(runs: list[RunResult], path: Path) -> bool:
    """Final accuracy over the two sweep dimensions (mean over seeds, or seeds across
    when only one other setting varies); False if the sweep is not 2-D."""
    keys = [k for k in varying_keys(runs) if k != "seed"]
    if len(keys) == 1 and "seed" in varying_keys(runs):
        keys.append("seed")
    if len(keys) != 2:
        return False
    row_key, col_key = keys
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in runs:
        acc = r.summary.get("final_accuracy")
        if isinstance(acc, int | float):
            cells[r.overrides.get(row_key, "-"), r.overrides.get(col_key, "-")].append(acc)
    rows = sorted({a for a, _ in cells}, key=_natural)
    cols = sorted({b for _, b in cells}, key=_natural)
    grid = [[_mean(cells.get((a, b), [])) for b in cols] for a in rows]
    fig, ax = plt.subplots(figsize=(1.3 * len(cols) + 3, 0.6 * len(rows) + 2))
    im = ax.imshow(grid, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    for i, line in enumerate(grid):
        for j, v in enumerate(line):
            ax.text(j, i, "—" if math.isnan(v) else f"{v:.2f}", ha="center", va="center",
                    color="white" if v < 0.6 else "black", fontsize=9)  # fmt: skip
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel(col_key)
    ax.set_ylabel(row_key)
    fig.colorbar(im, label="final test accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan
