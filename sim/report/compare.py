"""Comparison figures over many runs (a multirun dir, or any tree of run dirs)."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from matplotlib.figure import Figure

from sim.runs.records import Status
from sim.runs.store import Result, natural

Curve = list[tuple[float, float, float]]  # (iteration, simulated time, test accuracy)


def curve(run: Result) -> Curve:
    """The evaluated iterations of a run."""
    return [
        (float(r.iteration), r.sim_time_s, r.accuracy)
        for r in run.records
        if not math.isnan(r.accuracy)
    ]


def status(run: Result) -> Status | None:
    return None if run.summary is None else run.summary.status


def final_accuracy(run: Result) -> float:
    return math.nan if run.summary is None else run.summary.final_accuracy


def varying_keys(runs: list[Result]) -> list[str]:
    """Override keys whose value differs between runs (the sweep's dimensions)."""
    keys = sorted({k for r in runs for k in r.overrides})
    return [k for k in keys if len({r.overrides.get(k) for r in runs}) > 1]


def time_to_target(run: Result, target: float) -> float:
    """Simulated seconds until test accuracy first reaches ``target`` (inf if never)."""
    return next((t for _, t, acc in curve(run) if acc >= target), math.inf)


def accuracy_vs_time(runs: list[Result], path: Path) -> None:
    keys = varying_keys(runs)
    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    for r in runs:
        points = curve(r)
        if points:
            ended = status(r)
            done = ended in (None, Status.completed)
            label = r.label(keys) + ("" if done else f" ({ended})")
            line = ax.plot([t for _, t, _ in points], [a for _, _, a in points], marker=".",
                           label=label)[0]  # fmt: skip
            if not done:  # where the run stopped
                _, t, a = points[-1]
                ax.plot([t], [a], marker="X", ms=10, color=line.get_color())
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("test accuracy")
    ax.set_title("accuracy against simulated time")
    ax.grid(alpha=0.3)
    if len(runs) <= 16 and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def time_to_target_bars(runs: list[Result], target: float, path: Path) -> None:
    keys = varying_keys(runs)
    times = [time_to_target(r, target) for r in runs]
    finite = [t for t in times if math.isfinite(t)]
    cap = 1.1 * max(finite) if finite else 1.0
    fig = Figure(figsize=(8, 0.4 * len(runs) + 1.5))
    ax = fig.subplots()
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


def accuracy_heatmap(runs: list[Result], path: Path) -> bool:
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
        acc = final_accuracy(r)
        if not math.isnan(acc):
            cells[r.overrides.get(row_key, "-"), r.overrides.get(col_key, "-")].append(acc)
    rows = sorted({a for a, _ in cells}, key=natural)
    cols = sorted({b for _, b in cells}, key=natural)
    grid = [[_mean(cells.get((a, b), [])) for b in cols] for a in rows]
    fig = Figure(figsize=(1.3 * len(cols) + 3, 0.6 * len(rows) + 2))
    ax = fig.subplots()
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
    return True


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan
