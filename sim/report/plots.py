"""``training.png``: what a run learnt, written with every run.

Two panels over the iterations (simulated time on the top axis): the training loss, and
the test accuracy on [0, 1] with the chance level. Iterations whose update was corrupted
or that failed to decode are marked red; a run that diverged ends in a red cross on both
panels, with the iteration where it stopped. The title names the run (what the command
line changed), the line under it the scenario, the next one its outcome.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.runs.records import IterationRecord

BAD = "#d62728"
PLAIN = FuncFormatter(lambda v, _: f"{v:g}")  # 2.3, not 2.3×10⁰


def training_curves(
    rows: Sequence[IterationRecord],
    path: Path,
    title: str = "",
    outcome: str = "",
    classes: int | None = None,
    diverged: bool = False,
    scenario: str = "",
) -> None:
    """Draw ``rows`` into ``path``; ``title`` names the run, ``scenario`` says what it
    was, ``outcome`` sums it up."""
    it = np.array([r.iteration for r in rows], dtype=float)
    t = np.array([r.sim_time_s for r in rows])
    loss = np.array([r.loss for r in rows])
    ev = [r for r in rows if not math.isnan(r.accuracy)]
    fig = Figure(figsize=(10, 4.6))
    ax_loss, ax_acc = fig.subplots(1, 2, sharex=True)
    finite = loss[np.isfinite(loss) & (loss > 0)]
    ax_loss.plot(it, loss, lw=1.2, color="#3b75af")
    if finite.size and finite.max() / finite.min() > 50:
        ax_loss.set_yscale("log")
        ax_loss.yaxis.set_major_formatter(PLAIN)
        ax_loss.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax_loss.set_ylabel("training loss (this iteration's batch)")
    ax_acc.plot([r.iteration for r in ev], [r.accuracy for r in ev], marker="o", ms=3,
                color="#3b75af", label="test accuracy")  # fmt: skip
    ax_acc.set_ylim(0, 1)
    ax_acc.set_ylabel("test accuracy")
    if classes:
        ax_acc.axhline(1 / classes, color="grey", ls="--", lw=1, label=f"chance (1/{classes})")
    bad = [r.iteration for r in rows if r.corrupted_updates or r.decode_failures]
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.25)
        if bad:
            lo, hi = ax.get_ylim()
            ax.vlines(bad, lo, hi, color=BAD, alpha=0.18, lw=1,
                      label="corrupted update or decode failure")  # fmt: skip
            ax.set_ylim(lo, hi)
        if len(it) > 1 and t[-1] > t[0]:
            top = ax.secondary_xaxis("top", functions=(_mapping(it, t), _mapping(t, it)))
            top.set_xlabel("simulated time (s)", fontsize=8)
            top.tick_params(labelsize=7)
    if diverged and len(it):
        top_loss = float(np.nanmax(finite)) if finite.size else 1.0
        ax_loss.plot(it[-1:], [loss[-1] if np.isfinite(loss[-1]) else top_loss],
                     marker="X", ms=10, color=BAD, ls="")  # fmt: skip
        said = f"diverged at iteration {int(it[-1])}: the run stopped"
        ax_loss.annotate(said, (it[-1], top_loss), color=BAD, ha="right", va="top",
                         xytext=(-12, 0), textcoords="offset points", fontsize=8)  # fmt: skip
        last = ev[-1].accuracy if ev else 1 / (classes or 10)
        ax_acc.plot([it[-1]], [last], marker="X", ms=10, color=BAD, ls="",
                    label=f"{said} (no accuracy after it)")  # fmt: skip
    ax_acc.legend(fontsize=7, loc="upper left")
    fig.text(0.01, 0.965, title or "draco-sim run", fontsize=10, va="top")
    if scenario:
        fig.text(0.01, 0.905, scenario, fontsize=8, va="top")
    if outcome:
        fig.text(0.01, 0.85, outcome, fontsize=8, color="#444", va="top")
    fig.subplots_adjust(left=0.085, right=0.985, bottom=0.12, top=0.70, wspace=0.25)
    fig.savefig(path, dpi=100)


def _mapping(xp: np.ndarray, fp: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Piecewise-linear ``xp -> fp`` that goes on at the mean slope beyond both ends
    (clamping would pile the top axis's outer ticks onto the last point)."""
    slope = (fp[-1] - fp[0]) / (xp[-1] - xp[0])

    def f(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        inside = np.interp(x, xp, fp)
        below = fp[0] + (x - xp[0]) * slope
        above = fp[-1] + (x - xp[-1]) * slope
        return np.where(x < xp[0], below, np.where(x > xp[-1], above, inside))

    return f
