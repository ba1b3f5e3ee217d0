"""Coordinate-wise trimmed mean (Yin et al., ICML 2018).

Per coordinate, drop the ``b`` smallest and the ``b`` largest values and average the
``k - 2b`` left; needs ``k > 2b``. NaN sorts
last, so up to ``b`` NaN candidates are trimmed away. ``kept[i]`` = fraction of
coordinates where candidate ``i``'s value is among the averaged ones.
"""

from __future__ import annotations

import torch

from sim.aggregators.base import Report, check_inputs
from sim.aggregators.median import sort_ops
from sim.config.ranges import Count


class TrimmedMean:
    name = "trimmed_mean"

    def __init__(self, f: Count = 0, b: Count = 1) -> None:
        self.f, self.b = f, b

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        k, d = x.shape
        values, index = x.sort(0)  # (k, d)
        middle = slice(self.b, k - self.b)
        kept = torch.bincount(index[middle].reshape(-1), minlength=k).double() / d
        self.report = Report(kept)
        return values[middle].mean(0)

    def invalid(self, k: int) -> str | None:
        if k > 2 * self.b:
            return None
        return f"needs k > 2b = {2 * self.b} candidates with aggregator.b={self.b}"

    def ops(self, k: int, d: int) -> float:
        return sort_ops(k, d) + float((k - 2 * self.b) * d)
