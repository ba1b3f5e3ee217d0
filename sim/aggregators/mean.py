"""The arithmetic mean: DRACO's rule once the code has removed the adversaries.

``out = (1/k) sum_i x_i``. Linear (:class:`~sim.aggregators.base.Linear`), so honest
inputs stay symbolic; it keeps every candidate whole (``kept = 1``).
"""

from __future__ import annotations

from sim.aggregators.base import Linear
from sim.config.ranges import Count


class Mean(Linear):
    name = "mean"

    def __init__(self, f: Count = 0) -> None:
        self.f = f  # not used by the rule itself; pre-aggregators may use it

    def weights(self, k: int) -> list[float]:
        return [1.0 / k] * k
