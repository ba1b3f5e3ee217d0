"""Multi-Krum (Blanchard et al., NeurIPS 2017; El Mhamdi et al., ICML 2018).

Krum scores (``k - f - 2`` nearest other vectors) computed once; the output is the
mean of the ``m`` candidates with the lowest scores (ties as in Krum).
``m`` defaults to ``k - f``. Needs ``k >= 2f + 3`` and ``1 <= m <= k``. ``kept`` is 1
for the ``m`` selected candidates.
"""

from __future__ import annotations

import torch

from sim.aggregators.base import Report, check_inputs
from sim.aggregators.distances import pairwise_sq_dists
from sim.aggregators.krum import krum_invalid, krum_ops, krum_ranking
from sim.config.ranges import AtLeastOne, Count


class MultiKrum:
    name = "multikrum"

    def __init__(self, f: Count = 0, m: AtLeastOne | None = None) -> None:
        self.f, self.m = f, m

    def selected(self, k: int) -> int:
        return k - self.f if self.m is None else self.m

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        k = x.shape[0]
        chosen = krum_ranking(pairwise_sq_dists(x), self.f)[: self.selected(k)]  # (m,)
        kept = torch.zeros(k, dtype=torch.float64, device=x.device)
        kept[chosen] = 1.0
        self.report = Report(kept)
        return x[chosen].mean(0)

    def invalid(self, k: int) -> str | None:
        if why := krum_invalid(k, self.f):
            return why
        if self.selected(k) > k:
            return f"averages aggregator.m={self.m} candidates: needs k >= m"
        return None

    def ops(self, k: int, d: int) -> float:
        return krum_ops(k, d) + float(self.selected(k) * d)
