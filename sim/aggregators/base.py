"""What an aggregation rule is: ``(k, d) candidates -> (d,) update``."""

from __future__ import annotations

from typing import Protocol

import torch


class Aggregator(Protocol):
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Aggregate ``x`` (k, d) into one (d,) vector."""
        ...

    def ops(self, k: int, d: int) -> float:
        """Scalar operations for ``k`` vectors of size ``d`` (the PS cost model)."""
        ...


class Linear(Protocol):
    """A rule that is a fixed weighted sum: honest inputs can stay symbolic."""

    def weights(self, k: int) -> list[float]: ...
