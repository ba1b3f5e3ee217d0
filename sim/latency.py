"""Compute-time models: seconds one data part takes on each worker, drawn per iteration.

A worker's compute time is ``load x draw x speed_factor``: ``load`` is the number of
data parts it computes (redundancy costs time), the draw comes from the latency stream
in worker order (so event order never changes what is drawn), and speed factors are
persistent per-worker multipliers. Every ``draw`` is one vectorized call: ``(n,)``
seconds for the ``n`` workers of one iteration.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sim.errors import ConfigError

Seconds = float


def _positive(value: float, key: str, allow_zero: bool = False) -> None:
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"latency.{key}={value} must be a finite number {bound}")


class LatencyModel:
    def __init__(self, speed_factors: list[float] | None = None) -> None:
        self.speed_factors = list(speed_factors or [])
        if any(not np.isfinite(s) or s <= 0 for s in self.speed_factors):
            raise ConfigError(f"latency.speed_factors={self.speed_factors}: need positive numbers")

    def speeds(self, n: int) -> np.ndarray:
        if not self.speed_factors:
            return np.ones(n)
        if len(self.speed_factors) != n:
            raise ConfigError(
                f"latency.speed_factors has {len(self.speed_factors)} entries, "
                f"cluster.workers={n}: give one factor per worker or none"
            )
        return np.asarray(self.speed_factors, dtype=float)

    def check(self, n: int) -> None:
        """Fail before the run if this model cannot serve ``n`` workers."""
        self.speeds(n)

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        """Per-part compute seconds of each of ``n`` workers for one iteration."""
        raise NotImplementedError


class Constant(LatencyModel):
    def __init__(self, seconds: Seconds = 0.05, speed_factors: list[float] | None = None) -> None:
        super().__init__(speed_factors)
        _positive(seconds, "seconds", allow_zero=True)
        self.seconds = seconds

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        return np.full(n, self.seconds)


class ShiftedExp(LatencyModel):
    """``shift_s + Exp(mean=scale_s)``: the classic straggler model.

    The slowest of ``n`` draws has mean ``shift_s + scale_s * H_n`` (``H_n`` the n-th
    harmonic number); the k-th fastest has mean ``shift_s + scale_s * (H_n - H_{n-k})``.
    """

    def __init__(
        self,
        shift_s: Seconds = 0.05,
        scale_s: Seconds = 0.01,
        speed_factors: list[float] | None = None,
    ) -> None:
        super().__init__(speed_factors)
        _positive(shift_s, "shift_s", allow_zero=True)
        _positive(scale_s, "scale_s", allow_zero=True)
        self.shift_s, self.scale_s = shift_s, scale_s

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        return self.shift_s + rng.exponential(self.scale_s, n)


class Pareto(LatencyModel):
    """Pareto type I: ``xm_s * (1 + Lomax(alpha))``, support ``[xm_s, inf)``.

    numpy's ``pareto`` draws the Lomax (Pareto II) variable, which starts at 0; adding
    1 and scaling by ``xm_s`` gives Pareto I, with mean ``alpha * xm_s / (alpha - 1)``
    for ``alpha > 1`` and infinite variance for ``alpha <= 2``: heavy-tailed stragglers.
    """

    def __init__(
        self, xm_s: Seconds = 0.05, alpha: float = 3.0, speed_factors: list[float] | None = None
    ) -> None:
        super().__init__(speed_factors)
        _positive(xm_s, "xm_s")
        _positive(alpha, "alpha")
        self.xm_s, self.alpha = xm_s, alpha

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        return self.xm_s * (1.0 + rng.pareto(self.alpha, n))


class LogNormal(LatencyModel):
    """``median_s * exp(sigma * N(0, 1))``: the median is ``median_s``, the log-spread ``sigma``."""

    def __init__(
        self, median_s: Seconds = 0.05, sigma: float = 0.5, speed_factors: list[float] | None = None
    ) -> None:
        super().__init__(speed_factors)
        _positive(median_s, "median_s")
        _positive(sigma, "sigma", allow_zero=True)
        self.median_s, self.sigma = median_s, sigma

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        return self.median_s * np.exp(self.sigma * rng.standard_normal(n))


class Bimodal(LatencyModel):
    """``seconds``, or ``slow_factor * seconds`` with probability ``p_slow`` (each worker,
    each iteration, independently): a cluster with occasional slow nodes."""

    def __init__(
        self,
        seconds: Seconds = 0.05,
        p_slow: float = 0.1,
        slow_factor: float = 10.0,
        speed_factors: list[float] | None = None,
    ) -> None:
        super().__init__(speed_factors)
        _positive(seconds, "seconds", allow_zero=True)
        if not 0.0 <= p_slow <= 1.0:
            raise ConfigError(f"latency.p_slow={p_slow} must be a probability in [0, 1]")
        _positive(slow_factor, "slow_factor")
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

    def __init__(self, path: str = "", speed_factors: list[float] | None = None) -> None:
        super().__init__(speed_factors)
        self.path = path
        self.numbered = read_times(path)  # [(line number, row)]
        self.rows = [row for _, row in self.numbered]

    def check(self, n: int) -> None:
        super().check(n)
        for lineno, row in self.numbered:
            if len(row) not in (1, n):
                raise ConfigError(
                    f"latency.path={self.path} line {lineno}: {len(row)} values, but a row "
                    f"needs 1 (every worker) or cluster.workers={n} (one per worker)"
                )

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        row = self.rows[iteration % len(self.rows)]
        return np.full(n, row[0]) if len(row) == 1 else row


def read_times(path: str) -> list[tuple[int, np.ndarray]]:
    """Parse a time-trace CSV into (line number, row) pairs; a bad file fails naming the
    line and what is wrong with it."""
    if not path:
        raise ConfigError("latency.path is empty: give a CSV file of per-part seconds")
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"latency.path={path}: no such file")
    rows: list[tuple[int, np.ndarray]] = []
    for lineno, line in enumerate(file.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = [f.strip() for f in text.split(",")]
        values = [_number(f) for f in fields]
        if not rows and all(v is None for v in values) and all(fields):
            continue  # a header of column names
        if None in values:
            col = values.index(None)
            raise ConfigError(
                f"latency.path={path} line {lineno} column {col + 1}: {fields[col]!r} "
                f"is not a number"
            )
        arr = np.asarray(values, dtype=float)
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ConfigError(
                f"latency.path={path} line {lineno}: times must be finite numbers >= 0"
            )
        rows.append((lineno, arr))
    if not rows:
        raise ConfigError(f"latency.path={path}: no rows of times in the file")
    return rows


def _number(field: str) -> float | None:
    try:
        return float(field)
    except ValueError:
        return None
