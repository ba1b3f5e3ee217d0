"""Compute-time models: seconds one data part takes on each worker, drawn per iteration.

A worker's compute time is ``(overhead_s + load x draw) x speed_factor``: ``load`` is
the number of data parts it computes (redundancy costs time), the draw comes from the
latency stream in worker order (so event order never changes what is drawn),
``overhead_s`` is a fixed time per iteration whatever the load (a framework's own cost:
setting up the step, loading the model) and speed factors are persistent per-worker
multipliers (both in :class:`Speeds`, settings every model has). Every ``draw`` is one
vectorized call: ``(n,)`` seconds for the ``n`` workers of one iteration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import numpy as np

from sim.config.errors import InputFileError
from sim.config.inputs import read_text
from sim.config.ranges import POSITIVE, NonNegative, Positive, Probability, Seconds


@dataclass
class Speeds:
    """Settings every compute-time model has: per-worker speed factors, multiplied into
    every compute time (empty: all 1), and a fixed overhead per iteration."""

    speed_factors: Annotated[list[float], POSITIVE] = field(default_factory=list)
    overhead_s: Seconds = 0.0  # per iteration, whatever the load (compute = overhead + load x draw)

    def of(self, n: int) -> np.ndarray:
        return np.asarray(self.speed_factors, dtype=float) if self.speed_factors else np.ones(n)


class LatencyModel:
    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        """Per-part compute seconds of each of ``n`` workers for one iteration."""
        raise NotImplementedError

    def invalid(self, n: int) -> str | None:
        """Why this model cannot serve ``n`` workers; None when it can."""
        return None


class Constant(LatencyModel):
    def __init__(self, seconds: Seconds = 0.05) -> None:
        """``seconds``: compute time of one data part."""
        self.seconds = seconds

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        return np.full(n, self.seconds)


class ShiftedExp(LatencyModel):
    """``shift_s + Exp(mean=scale_s)``: the classic straggler model.

    The slowest of ``n`` draws has mean ``shift_s + scale_s * H_n`` (``H_n`` the n-th
    harmonic number); the k-th fastest has mean ``shift_s + scale_s * (H_n - H_{n-k})``.
    """

    def __init__(self, shift_s: Seconds = 0.05, scale_s: Seconds = 0.01) -> None:
        """``shift_s``: minimum compute time of one part; ``scale_s``: mean of the tail."""
        self.shift_s, self.scale_s = shift_s, scale_s

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        return self.shift_s + rng.exponential(self.scale_s, n)


class Pareto(LatencyModel):
    """Pareto type I: ``xm_s * (1 + Lomax(alpha))``, support ``[xm_s, inf)``.

    numpy's ``pareto`` draws the Lomax (Pareto II) variable, which starts at 0; adding
    1 and scaling by ``xm_s`` gives Pareto I, with mean ``alpha * xm_s / (alpha - 1)``
    for ``alpha > 1`` and infinite variance for ``alpha <= 2``: heavy-tailed stragglers.
    """

    def __init__(self, xm_s: Annotated[float, POSITIVE] = 0.05, alpha: Positive = 3.0) -> None:
        """``xm_s``: the minimum (scale); ``alpha``: the tail index (smaller: heavier)."""
        self.xm_s, self.alpha = xm_s, alpha

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        return self.xm_s * (1.0 + rng.pareto(self.alpha, n))


class LogNormal(LatencyModel):
    """``median_s * exp(sigma * N(0, 1))``: the median is ``median_s``, the log-spread ``sigma``."""

    def __init__(
        self, median_s: Annotated[float, POSITIVE] = 0.05, sigma: NonNegative = 0.5
    ) -> None:
        self.median_s, self.sigma = median_s, sigma

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        return self.median_s * np.exp(self.sigma * rng.standard_normal(n))


class Bimodal(LatencyModel):
    """``seconds``, or ``slow_factor * seconds`` with probability ``p_slow`` (each worker,
    each iteration, independently): a cluster with occasional slow nodes."""

    def __init__(
        self, seconds: Seconds = 0.05, p_slow: Probability = 0.1, slow_factor: Positive = 10.0
    ) -> None:
        self.seconds, self.p_slow, self.slow_factor = seconds, p_slow, slow_factor

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        slow = rng.random(n) < self.p_slow
        return self.seconds * np.where(slow, self.slow_factor, 1.0)


class TraceFile(LatencyModel):
    """Per-part seconds replayed from a CSV file, one row per iteration.

    Every row holds either one number (all workers take that long this iteration) or
    one number per worker (``cluster.workers`` columns). Lines starting with ``#`` and
    blank lines are skipped; a first row of column names is allowed. Iterations past
    the last row start again at the first. No random numbers are drawn.
    """

    def __init__(self, path: str) -> None:
        """``path``: the CSV file (read now, checked completely before the run)."""
        self.path = path
        self.numbered = read_times(path)  # [(line number, row)]
        self.rows = [row for _, row in self.numbered]

    def invalid(self, n: int) -> str | None:
        for lineno, row in self.numbered:
            if len(row) not in (1, n):
                return (
                    f"latency.path={self.path} line {lineno}: {len(row)} values, but a row "
                    f"needs 1 (every worker) or cluster.workers={n} (one per worker)"
                )
        return None

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        row = self.rows[iteration % len(self.rows)]
        return np.full(n, row[0]) if len(row) == 1 else row


def read_times(path: str) -> list[tuple[int, np.ndarray]]:
    """Parse a time-trace CSV into (line number, row) pairs; a bad file fails naming the
    line and what is wrong with it."""
    key = "latency.path"
    rows: list[tuple[int, np.ndarray]] = []
    for lineno, line in enumerate(read_text(key, path).splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = [f.strip() for f in text.split(",")]
        values = [_number(f) for f in fields]
        if not rows and all(v is None for v in values) and all(fields):
            continue  # a header of column names
        if None in values:
            col = values.index(None)
            raise InputFileError(
                key, path, f"column {col + 1}: {fields[col][:40]!r} is not a number", lineno
            )
        arr = np.asarray(values, dtype=float)
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise InputFileError(key, path, "times must be finite numbers >= 0", lineno)
        rows.append((lineno, arr))
    if not rows:
        raise InputFileError(key, path, "no rows of times in the file")
    return rows


def _number(field: str) -> float | None:
    try:
        return float(field)
    except ValueError:
        return None
