"""Comparison figures over many runs (a multirun dir, or any tree of run dirs).

Every figure's title names the runs (the settings they share, then the ones they vary)
and states what they show (:func:`sim.report.groups.findings`). Runs that differ only in
the seed are drawn as one mean with a min-max band; a run that trained the same model bit
for bit as an earlier one is drawn as hollow markers on top of it and labelled
"identical"; adversary-free runs next to attacked ones are black dashed reference lines;
accuracy stays on [0, 1] with the chance level; a run that never reached the target has
no bar, but a red cross and the words "never reached".
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.report.groups import (
    Comparison,
    Group,
    compare,
    final_accuracy,
    findings,
    time_to_target,
    values,
)
from sim.runs.store import Result

BAD = "#d62728"
REFERENCE = "#222222"
PLAIN = FuncFormatter(lambda v, _: f"{v:g}")
COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]  # fmt: skip (tab10 without red and without near-black)


def _heading(fig: Figure, c: Comparison, what: str, counts: bool = True) -> float:
    """Title lines at the top of ``fig`` (wrapped to its width); returns the fraction of
    the height they take."""
    width = fig.get_figwidth()
    lines = textwrap.wrap(c.title, int(11.5 * width))[:2]
    said = findings(c, counts)
    notes = textwrap.wrap("; ".join(said), int(15.5 * width)) if said else []
    if len(notes) > 3:
        notes = [*notes[:2], notes[2] + " …"]
    height_in = fig.get_figheight()
    y = 1 - 0.12 / height_in
    for line in lines:
        fig.text(0.01, y, line, fontsize=10, va="top", weight="bold")
        y -= 0.2 / height_in
    fig.text(0.01, y, what, fontsize=9, va="top")
    y -= 0.19 / height_in
    for note in notes:
        fig.text(0.01, y, note, fontsize=8, va="top", color="#8a1c1c")
        y -= 0.17 / height_in
    return 1 - y + 0.1 / height_in


def _colors(c: Comparison) -> dict[int, str]:
    """A colour per group: black for the reference, the identical twin's own colour."""
    out: dict[int, str] = {}
    k = 0
    for g in c.groups:
        if g.reference:
            out[id(g)] = REFERENCE
        else:
            out[id(g)] = COLORS[k % len(COLORS)]
            k += 1
    return out


def accuracy_vs_time(runs: list[Result], path: Path, title: str = "") -> None:
    """Test accuracy against simulated time, one line (or mean and band) per group."""
    c = compare(runs, title)
    color = _colors(c)
    fig = Figure(figsize=(9, 6))
    ax = fig.subplots()
    for g in c.groups:
        points = g.points()
        if not points:
            continue
        t = [p[1] for p in points]
        mean = [p[2] for p in points]
        col = color[id(g)]
        label = g.name() + (" — no adversary (reference)" if g.reference else "")
        if g.same_as is not None:
            label = f"{g.name()} — identical to {g.same_as.label}"
            ax.plot(t, mean, ls="", marker="o", ms=9, mfc="none", mec=col, mew=1.6,
                    label=label, zorder=4)  # fmt: skip
        else:
            ax.plot(t, mean, color=col, marker=".", lw=2.2 if g.reference else 1.6,
                    ls="--" if g.reference else "-", label=label, zorder=3)  # fmt: skip
            if g.seeds > 1:
                ax.fill_between(t, [p[3] for p in points], [p[4] for p in points],
                                color=col, alpha=0.18, lw=0)  # fmt: skip
        if g.ended:
            ax.plot(t[-1:], mean[-1:], marker="X", ms=12, color=BAD, ls="", zorder=5)
            stopped = [r.summary.iterations - 1 for r in g.runs if r.summary]
            at = f" at iteration {stopped[0]}" if len(set(stopped)) == 1 else ""
            ax.annotate(f"{g.label}: {g.ended}{at}", (t[-1], mean[-1]), xytext=(8, 8),
                        textcoords="offset points", color=BAD, fontsize=8)  # fmt: skip
    if any(g.seeds > 1 for g in c.groups):
        ax.fill_between([], [], [], color="grey", alpha=0.18, label="min–max over the seeds")
    for g in c.groups:
        twin = g.same_as
        if twin is not None and g.points():
            _, t_end, a_end, _, _ = g.points()[-1]
            ax.annotate(f"identical: {g.label} = {twin.label}", (t_end, a_end), xytext=(-10, 18),
                        textcoords="offset points", ha="right", fontsize=8,
                        arrowprops=dict(arrowstyle="->", lw=0.8))  # fmt: skip
    if c.chance is not None:
        ax.axhline(c.chance, color="grey", ls=":", lw=1.2, label=f"chance (1/{c.classes})")
    ax.set_ylim(0, 1)
    ax.set_xlim(left=0)
    ax.xaxis.set_major_formatter(PLAIN)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    if len(c.groups) <= 16 and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left")
    top = _heading(fig, c, "Test accuracy against simulated time")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.09, top=1 - top)
    fig.savefig(path, dpi=100)


def time_to_target_bars(runs: list[Result], target: float, path: Path, title: str = "") -> None:
    """Simulated time until test accuracy first reaches ``target``, one bar per group
    (the mean over seeds that reached it, a min-max error bar)."""
    c = compare(runs, title)
    color = _colors(c)
    rows = []
    for g in c.groups:
        times = [time_to_target(r, target) for r in g.runs]
        rows.append((g, [t for t in times if math.isfinite(t)], len(times)))
    reached = [t for _, ts, _ in rows for t in ts]
    cap = max(reached, default=1.0)
    fig = Figure(figsize=(9, 0.5 * len(rows) + 2.6))
    ax = fig.subplots()
    for i, (g, ts, n) in enumerate(rows):
        if not ts:  # a marked absence: no bar at all
            ax.plot([0], [i], marker="X", ms=11, color=BAD, ls="", clip_on=False)
            best = max((final_accuracy(r) for r in g.runs), default=math.nan)
            why = f"{g.ended}, " if g.ended else ""
            ax.text(0.02 * cap, i, f"  never reached ({why}best final accuracy {best:.2f})",
                    va="center", color=BAD, fontsize=9)  # fmt: skip
            continue
        mean = sum(ts) / len(ts)
        err = [[mean - min(ts)], [max(ts) - mean]] if len(ts) > 1 else None
        ax.barh(i, mean, color=color[id(g)], alpha=0.85, xerr=err, capsize=4,
                hatch="//" if g.reference else None, edgecolor="white")  # fmt: skip
        text = f" {mean:.2f} s" + (f" (mean; {len(ts)} of {n} seeds got there)" if n > 1 else "")
        if g.same_as is not None:
            text += f"\n identical to {g.same_as.label}"
        ax.text(mean if err is None else max(ts), i, text, va="center", fontsize=8)
    names = [g.name() + ("\n(no adversary)" if g.reference else "") for g, _, _ in rows]
    ax.set_yticks(range(len(rows)), names, fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first group on top; a row without a bar kept
    ax.set_xlim(0, cap * 2.0)
    ax.xaxis.set_major_formatter(PLAIN)
    ax.set_xlabel(f"simulated seconds until the test accuracy first reaches {target:g}")
    ax.grid(axis="x", alpha=0.3)
    top = _heading(fig, c, f"Time to reach {target:.0%} test accuracy (shorter is better)")
    longest = max((len(line) for n in names for line in n.splitlines()), default=10)
    left = min(0.45, 0.025 + longest * 7.0 / (100 * fig.get_figwidth()))
    fig.subplots_adjust(left=left, right=0.98, bottom=0.65 / fig.get_figheight(), top=1 - top)
    fig.savefig(path, dpi=100)


def accuracy_heatmap(runs: list[Result], path: Path, title: str = "") -> bool:
    """Final accuracy (and simulated time per iteration, where it differs) over the two
    sweep dimensions, rows and columns in the order of the sweep's tables; the mean over
    seeds, or the seeds across when only one other setting varies. False (nothing
    written) if the sweep is not two-dimensional."""
    c = compare(runs, title)
    keys = list(c.keys)
    if len(keys) == 1 and len({r.overrides.get("seed") for r in runs}) > 1:
        keys.append("seed")
    if len(keys) != 2:
        return False
    row_key, col_key = keys
    rows, cols = values(runs, row_key), values(runs, col_key)

    def grid(metric: Any) -> list[list[float]]:
        cells: dict[tuple[str, str], list[float]] = {}
        for r in runs:
            v = metric(r)
            if not math.isnan(v):
                key = (r.overrides.get(row_key, "-"), r.overrides.get(col_key, "-"))
                cells.setdefault(key, []).append(v)
        return [[_mean(cells.get((a, b), [])) for b in cols] for a in rows]

    def per_iteration(r: Result) -> float:
        return math.nan if r.summary is None else r.summary.mean_iteration_time_s

    acc, speed = grid(final_accuracy), grid(per_iteration)
    extra = {cell: _cell_notes(members) for cell, members in _cells(runs, row_key, col_key).items()}
    flat = _spread(acc) == 0
    panels = [] if flat else [("final test accuracy", acc, "viridis", "{:.3f}")]
    if _spread(speed) > 0.01 or flat:
        panels.append(("simulated seconds per iteration", speed, "cividis_r", "{:.3g}"))
    width = (0.95 * len(cols) + 2.2) * len(panels) + 1.0
    fig = Figure(figsize=(max(width, 8.5), 0.7 * len(rows) + 3.6))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for k, (ax, (name, data, cmap, fmt)) in enumerate(zip(axes, panels, strict=True)):
        finite = [v for line in data for v in line if not math.isnan(v)]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if hi - lo < 1e-12:
            lo, hi = lo - 0.05, hi + 0.05
        im = ax.imshow(data, cmap=cmap, vmin=lo, vmax=hi, aspect="auto")
        for i, line in enumerate(data):
            for j, v in enumerate(line):
                notes = extra.get((rows[i], cols[j]), []) if k == 0 else []
                text = "\n".join(["—" if math.isnan(v) else fmt.format(v), *notes])
                bright = not math.isnan(v) and (v - lo) / (hi - lo) > 0.55
                dark = bright if cmap == "cividis_r" else not bright
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")  # fmt: skip
        ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
        ax.set_yticks(range(len(rows)), rows)
        ax.set_xlabel(col_key)
        ax.set_ylabel(row_key)
        label = name
        if name.startswith("final") and c.chance is not None:
            label += f"\n(chance {c.chance:g}: the red line)" if lo <= c.chance <= hi else ""
        bar = fig.colorbar(im, ax=ax, label=label, format=PLAIN)
        if name.startswith("final") and c.chance is not None and lo <= c.chance <= hi:
            bar.ax.axhline(c.chance, color="red", lw=2)
        ax.set_title(name, fontsize=9)
    what = f"{row_key} down, {col_key} across (as in table.md); colours span each panel's range"
    if flat and acc and not math.isnan(acc[0][0]):
        what += f"; final test accuracy {acc[0][0]:.3f} in every cell"
    top = _heading(fig, c, what, counts=False)
    longest = max((len(str(x)) for x in rows), default=4)
    left = min(0.3, (0.45 + longest * 0.085) / fig.get_figwidth())
    fig.subplots_adjust(left=left, right=0.96, bottom=0.85 / fig.get_figheight(),
                        top=1 - top - 0.3 / fig.get_figheight(), wspace=0.35)  # fmt: skip
    fig.savefig(path, dpi=100)
    return True


def _cells(runs: list[Result], row_key: str, col_key: str) -> dict[tuple[str, str], list[Result]]:
    cells: dict[tuple[str, str], list[Result]] = {}
    for r in runs:
        key = (r.overrides.get(row_key, "-"), r.overrides.get(col_key, "-"))
        cells.setdefault(key, []).append(r)
    return cells


def _cell_notes(runs: list[Result]) -> list[str]:
    """What a heatmap cell says under its number: how its runs ended, failures, lies."""
    done = [r.summary for r in runs if r.summary is not None]
    notes = []
    ended = Counter(str(s.status) for s in done if s.status != "completed")
    for status, k in ended.items():
        notes.append(status if len(runs) == 1 else f"{k}/{len(runs)} {status}")
    each = " each" if len(done) > 1 else ""
    for name, counts in (("decode failures", [s.decode_failures for s in done]),
                         ("corrupted", [s.corrupted_updates for s in done])):  # fmt: skip
        if any(counts):
            same = len(set(counts)) == 1
            notes.append(
                f"{counts[0]:g} {name}{each}" if same else f"{min(counts):g}–{max(counts):g} {name}"
            )
    return notes[:2]


def _spread(grid: Sequence[Sequence[float]]) -> float:
    """(max - min) / max of the finite cells (0 if fewer than two)."""
    finite = [v for line in grid for v in line if not math.isnan(v)]
    if len(finite) < 2 or max(finite) == 0:
        return 0.0
    return (max(finite) - min(finite)) / abs(max(finite))


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


__all__ = ["Group", "accuracy_heatmap", "accuracy_vs_time", "time_to_target_bars"]
