"""Nearest-neighbour mixing, a pre-aggregator (Allouah et al., AISTATS 2023: "Fixing by
mixing: a recipe for optimal Byzantine ML under heterogeneity").

Each candidate is replaced by the mean of its ``k - f`` nearest candidates, itself
included: ``y_i = mean of x_j over j in N_i``. Needs ``k > f``. Returns the mixed
vectors and the (k, k) mixing matrix ``M`` (``y = M x``).
"""

from __future__ import annotations

import torch

from sim.aggregators.base import check_inputs
from sim.aggregators.distances import pairwise_sq_dists, pairwise_sq_dists_ops


class NNM:
    name = "nnm"

    def __init__(self, f: int) -> None:
        self.f = f

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_inputs(self, x)
        k = x.shape[0]
        near = pairwise_sq_dists(x).topk(k - self.f, dim=1, largest=False).indices  # (k, k-f)
        mix = torch.zeros(k, k, dtype=torch.float64, device=x.device)
        mix.scatter_(1, near, 1.0 / (k - self.f))
        return mix.to(x.dtype) @ x, mix

    def out(self, k: int) -> int:
        return k

    def invalid(self, k: int) -> str | None:
        return None if k > self.f else f"needs k > f = {self.f} candidates with aggregator.f"

    def ops(self, k: int, d: int) -> float:
        return pairwise_sq_dists_ops(k, d) + float(k * (k - self.f) * d)
