"""Compute-time models: seconds one data part takes on each worker, drawn per iteration.

A worker's compute time is ``load x draw x speed_factor``: ``load`` is the number of
data parts it computes (redundancy costs time), the draw comes from the latency stream
in worker order (so event order never changes what is drawn), and speed factors are
persistent per-worker multipliers.
"""

from __future__ import annotations

import numpy as np

from sim.errors import ConfigError

Seconds = float


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

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        """Per-part compute seconds of each of ``n`` workers for one iteration."""
        raise NotImplementedError


class Constant(LatencyModel):
    def __init__(self, seconds: Seconds = 0.05, speed_factors: list[float] | None = None) -> None:
        super().__init__(speed_factors)
        if not np.isfinite(seconds) or seconds < 0:
            raise ConfigError(f"latency.seconds={seconds} must be a finite number >= 0")
        self.seconds = seconds

    def draw(self, rng: np.random.Generator, n: int, iteration: int) -> np.ndarray:
        return np.full(n, self.seconds)
