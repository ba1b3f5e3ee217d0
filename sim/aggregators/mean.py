"""The arithmetic mean: DRACO's rule once the code has removed the adversaries."""

from __future__ import annotations

import torch


class Mean:
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(0)

    def weights(self, k: int) -> list[float]:
        return [1.0 / k] * k

    def ops(self, k: int, d: int) -> float:
        return float(k * d)
