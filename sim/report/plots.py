"""Figures written with every run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.runs.records import IterationRecord  # noqa: E402


def training_curves(rows: Sequence[IterationRecord], path: Path) -> None:
    """Training loss and test accuracy against iteration and against simulated time."""
    it = [r.iteration for r in rows]
    t = [r.sim_time_s for r in rows]
    ev = [r for r in rows if not math.isnan(r.accuracy)]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6), sharey="row")
    for col, (x, xe, label) in enumerate(
        [
            (it, [r.iteration for r in ev], "iteration"),
            (t, [r.sim_time_s for r in ev], "simulated time (s)"),
        ]
    ):
        axes[0, col].plot(x, [r.loss for r in rows], lw=1)
        axes[0, col].set_yscale("log")
        axes[1, col].plot(xe, [r.accuracy for r in ev], marker="o", ms=3)
        bad = [r for r in rows if r.corrupted_updates or r.decode_failures]
        for r in bad:
            axes[0, col].axvline(
                r.iteration if col == 0 else r.sim_time_s, color="red", alpha=0.15, lw=1
            )
        axes[1, col].set_xlabel(label)
    axes[0, 0].set_ylabel("training loss")
    axes[1, 0].set_ylabel("test accuracy")
    fig.suptitle("red lines: iterations with a corrupted update or a decode failure", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
