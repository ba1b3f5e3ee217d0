"""``training.png``: what a run learnt, written with every run.

Two panels over the iterations (simulated time on the top axis): the training loss, and
the test accuracy on [0, 1] with the chance level. Iterations whose update was corrupted
or that failed to decode are marked red; a run that diverged ends in a red cross. The
title names the scenario (what the command line changed) and its outcome.
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
) -> None:
    """Draw ``rows`` into ``path``; ``title`` names the run, ``outcome`` sums it up."""
    it = np.array([r.iteration for r in rows], dtype=float)
    t = np.array([r.sim_time_s for r in rows])
    loss = np.array([r.loss for r in rows])
    ev = [r for r in rows if not math.isnan(r.accuracy)]
    fig = Figure(figsize=(10, 4.2))
    ax_loss, ax_acc = fig.subplots(1, 2)
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
        ax_loss.plot(it[-1:], loss[-1:] if np.isfinite(loss[-1]) else [np.nanmax(loss)],
                     marker="X", ms=10, color=BAD)  # fmt: skip
        ax_loss.annotate("diverged", (it[-1], np.nanmax(finite) if finite.size else 1),
                         color=BAD, ha="right", va="top")  # fmt: skip
    ax_acc.legend(fontsize=7, loc="best")
    fig.suptitle(title or "draco-sim run", fontsize=10, x=0.01, ha="left")
    if outcome:
        fig.text(0.01, 0.905, outcome, fontsize=8, color="#444")
    fig.subplots_adjust(left=0.085, right=0.985, bottom=0.12, top=0.76, wspace=0.25)
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
