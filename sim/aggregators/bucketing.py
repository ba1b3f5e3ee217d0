"""Bucketing, a pre-aggregator (Karimireddy, He, Jaggi, ICLR 2022: "Byzantine-robust
learning on heterogeneous datasets via bucketing").

Shuffle the ``k`` candidates at random, cut them into ``ceil(k/s)`` buckets of ``s``
(the last one may be smaller) and hand the buckets' means to the rule. Returns the
bucket means and the (ceil(k/s), k) mixing matrix ``M`` (``y = M x``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from sim.aggregators.base import check_inputs


class Bucketing:
    name = "bucketing"

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size, self.rng = size, rng

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_inputs(self, x)
        k = x.shape[0]
        order = torch.from_numpy(self.rng.permutation(k))  # candidate order[p] -> bucket p // s
        bucket = torch.arange(k) // self.size
        mix = torch.zeros(self.out(k), k, dtype=torch.float64)
        mix[bucket, order] = 1.0 / torch.bincount(bucket).double()[bucket]
        mix = mix.to(x.device)
        return mix.to(x.dtype) @ x, mix

    def out(self, k: int) -> int:
        return math.ceil(k / self.size)

    def invalid(self, k: int) -> str | None:
        return None if k >= 1 else "needs at least one candidate"

    def ops(self, k: int, d: int) -> float:
        return float(k * d)
