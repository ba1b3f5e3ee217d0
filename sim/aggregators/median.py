"""Coordinate-wise median (Yin et al., ICML 2018: "Byzantine-robust distributed learning").

``out[j] = median_i x[i, j]``; for even ``k`` the mean of the two middle values. The
values are sorted per coordinate (NaN sorts last, so fewer than half NaN candidates
cannot reach the output). ``kept[i]`` = fraction of coordinates whose middle value(s)
came from candidate ``i`` (each of the two middle values counts 1/2 for even ``k``).
"""

from __future__ import annotations

import math

import torch

from sim.aggregators.base import Report, check_inputs
from sim.config.ranges import Count


def sort_ops(k: int, d: int) -> float:
    """A comparison sort of ``k`` values in each of ``d`` coordinates."""
    return float(k * max(1, math.ceil(math.log2(k))) * d) if k > 1 else float(d)


def coordinate_median(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(k, d) -> (median (d,), kept (k,) float64)."""
    k, d = x.shape
    values, index = x.sort(0)  # (k, d) each
    mid = index[(k - 1) // 2 : k // 2 + 1]  # (1 or 2, d): where the middle values came from
    kept = torch.bincount(mid.reshape(-1), minlength=k).double() / (mid.shape[0] * d)
    return values[(k - 1) // 2 : k // 2 + 1].mean(0), kept


class Median:
    name = "median"

    def __init__(self, f: Count = 0) -> None:
        self.f = f  # not used by the rule itself; pre-aggregators may use it

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        out, kept = coordinate_median(x)
        self.report = Report(kept)
        return out

    def invalid(self, k: int) -> str | None:
        return None if k >= 1 else "needs at least one candidate"

    def ops(self, k: int, d: int) -> float:
        return sort_ops(k, d) + 2.0 * d
