"""``timeline.png``: a Gantt chart of the first iterations, drawn from the trace.

One row per worker (the first ``workers`` of them) under rows for the PS and the links
that touch it. A worker's row shows its model download, its compute and its upload;
whatever the PS stopped waiting for is hatched red (cancelled), a message that arrived
but was not used is grey, a message held back on purpose is magenta. The PS row shows
the wait, then decode and aggregate time, with their durations written on it. A black
triangle marks the arrival that ended the PS's wait (the straggler it waited
for). An adversarial worker's row is shaded red in the iterations it lies, its compute
and upload are drawn red, and its label says "adversary".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.network import PS
from sim.runs.records import IterationRecord
from sim.runs.trace import Trace

COLORS = {
    "downlink": "#b8c4d6",
    "compute": "#3b75af",
    "uplink": "#52a35a",
    "wait": "#f2e3b3",
    "decode": "#e08a2c",
    "aggregate": "#8a5fb0",
    "link": "#7f8c99",
    "unused": "#c9c9c9",
    "held": "#e377c2",
    "lie": "#d62728",
}
ADVERSARY = "#d62728"


def _row_spans(trace: Trace, last_it: int, workers: int) -> dict[str, list[dict[str, Any]]]:
    """X events of iterations ``<= last_it`` by row label, each with its lane: the PS, the
    links that touch it and the first ``workers`` workers."""
    wanted = {PS, "network", *(f"w{i}" for i in range(workers))}
    node_of = {pid: node for node, pid in trace.pids.items() if node in wanted}
    lane_of = {(pid, tid): lane for (pid, lane), tid in trace.tids.items() if pid in node_of}
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ev in trace.events:
        node = node_of.get(ev["pid"])
        if node is None or ev["args"]["iteration"] > last_it:
            continue
        lane = lane_of[ev["pid"], ev["tid"]]
        if node == "network" and PS not in lane.split("->"):
            continue
        rows[lane if node == "network" else node].append({**ev, "lane": lane})
    return rows


def timeline(
    trace: Trace,
    rows: Sequence[IterationRecord],
    path: Path,
    iterations: int = 3,
    workers: int = 40,
    title: str = "",
) -> None:
    """Draw the first ``iterations`` traced iterations into ``path`` (nothing if none)."""
    shown = min(iterations, trace.limit, len(rows))
    if shown < 1:
        return
    spans = _row_spans(trace, shown - 1, workers)
    n = trace.total or sum(1 for node in trace.pids if node.startswith("w"))
    ranks = list(range(min(workers, n, trace.workers or n)))  # drawn: traced, asked for
    links = sorted(r for r in spans if "->" in r)
    labels = [PS, *links, *(f"w{i}" for i in ranks)]
    y = {label: k for k, label in enumerate(labels)}
    end_s = rows[shown - 1].sim_time_s
    scale, unit = (1e3, "ms") if end_s < 1 else (1.0, "s")

    fig = Figure()
    ax = fig.subplots()
    starts = [0.0, *(r.sim_time_s for r in rows[: shown - 1])]
    lying = [{f"w{x}" for x in rec.adversary_ranks.split(";") if x} for rec in rows[:shown]]
    for it, (a, rec) in enumerate(zip(starts, rows[:shown], strict=True)):
        ax.axvline(a * scale, color="k", lw=0.6, ls=":")
        ax.text(a * scale, -0.6, f" iteration {it}", fontsize=8, va="bottom")
        for label in lying[it] & y.keys():
            ax.barh(y[label], (rec.sim_time_s - a) * scale, left=a * scale, height=1.0,
                    color=ADVERSARY, alpha=0.22, lw=0)  # fmt: skip
    bars: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for label, evs in spans.items():
        if label not in y:
            continue
        for ev in evs:
            lane, name = ev["lane"], ev["name"]
            style = "link" if "->" in lane else lane
            if "unused" in name:
                style = "unused"
            if name.startswith("hold"):
                style = "held"
            if style in ("compute", "uplink") and label in lying[ev["args"]["iteration"]]:
                style = "lie"
            if "cancelled" in name:
                style = "cancelled"
            bars[label, style].append((ev["ts"] / 1e6 * scale, ev["dur"] / 1e6 * scale))
            if lane == "wait" and label == PS:
                rec = rows[ev["args"]["iteration"]]
                ax.text(
                    (ev["ts"] + ev["dur"] / 2) / 1e6 * scale,
                    y[PS],
                    f"wait for {rec.received} msgs, then decode {_short(rec.decode_s)}"
                    f" + aggregate {_short(rec.aggregate_s)}",
                    ha="center",
                    va="center",
                    fontsize=7,
                )
    for (label, style), xs in bars.items():
        h = 0.4 if style == "link" else 0.7
        cancelled = style == "cancelled"
        ax.broken_barh(
            xs,
            (y[label] - h / 2, h),
            facecolors="white" if cancelled else COLORS[style],
            edgecolors=ADVERSARY if cancelled else "none",
            hatch="////" if cancelled else None,
            linewidth=0.5,
        )
    _mark_last_arrivals(ax, spans, y, scale)
    adversaries = set().union(*lying)
    names = [f"adversary {x}" if x in adversaries else x for x in labels]
    ax.set_yticks(range(len(labels)), names, fontsize=7)
    for tick, label in zip(ax.get_yticklabels(), labels, strict=True):
        if label in adversaries:
            tick.set_color(ADVERSARY)
            tick.set_fontweight("bold")
    ax.set_ylim(len(labels) - 0.4, -1.5)
    ax.set_xlim(0, end_s * scale * 1.01)
    ax.set_xlabel(f"simulated time ({unit})")
    more = f" (first {len(ranks)} of {n} workers)" if len(ranks) < n else ""
    liars = f"; {len(adversaries)} adversar{'y' if len(adversaries) == 1 else 'ies'} (red)"
    head = f"{title}: " if title else ""
    ax.set_title(f"{head}first {shown} iterations{more}{liars if adversaries else ''}",
                 fontsize=10)  # fmt: skip
    height = 2.2 + 0.24 * len(labels)
    fig.set_size_inches(12, height)
    fig.legend(
        handles=[
            Patch(color=COLORS["downlink"], label="receive model"),
            Patch(color=COLORS["compute"], label="compute"),
            Patch(color=COLORS["uplink"], label="send message"),
            Patch(color=COLORS["unused"], label="arrived, not used"),
            Patch(color=COLORS["held"], label="held back (delay attack)"),
            Patch(facecolor="white", edgecolor=ADVERSARY, hatch="////", label="cancelled"),
            Patch(color=COLORS["wait"], label="PS waits"),
            Patch(color=COLORS["decode"], label="PS decodes"),
            Patch(color=COLORS["aggregate"], label="PS aggregates"),
            Patch(color=COLORS["link"], label="link busy"),
            Patch(color=COLORS["lie"], label="adversary: its compute and its message"),
            Line2D([], [], color="k", marker="<", ls="", label="arrival that ended the wait"),
        ],
        loc="lower center",
        ncol=6,
        fontsize=7,
        frameon=False,
    )
    # fixed margins (a layout engine would draw the figure twice): room for the row
    # labels on the left and the legend below
    fig.subplots_adjust(left=0.09, right=0.99, top=1 - 0.35 / height, bottom=0.95 / height)
    fig.savefig(path, dpi=110)


def _short(seconds: float) -> str:
    if seconds == 0:
        return "0"
    for factor, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= factor:
            return f"{seconds / factor:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def _mark_last_arrivals(
    ax: Any, spans: dict[str, list[dict[str, Any]]], y: dict[str, int], scale: float
) -> None:
    """A triangle where the wait of each iteration ended, on the row of that message."""
    waits = {
        ev["args"]["iteration"]: ev["ts"] + ev["dur"]
        for ev in spans.get(PS, [])
        if ev["lane"] == "wait"
    }
    for label, evs in spans.items():
        if label not in y or not label.startswith("w"):
            continue
        for ev in evs:
            if ev["lane"] != "uplink" or "cancelled" in ev["name"] or "unused" in ev["name"]:
                continue
            end = ev["ts"] + ev["dur"]
            if abs(end - waits.get(ev["args"]["iteration"], -1.0)) < 1e-3:
                ax.plot(end / 1e6 * scale, y[label], marker="<", color="k", ms=5)
