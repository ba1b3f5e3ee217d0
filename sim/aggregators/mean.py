"""The arithmetic mean: DRACO's rule once the code has removed the adversaries.

``out = (1/k) sum_i x_i``. Linear, so honest inputs stay symbolic (:meth:`weights`);
it keeps every candidate whole (``kept = 1``).
"""

from __future__ import annotations

import torch

from sim.aggregators.base import Report, check_f, check_inputs


class Mean:
    name = "mean"

    def __init__(self, f: int = 0) -> None:
        check_f(f)
        self.f = f  # not used by the rule itself; pre-aggregators may use it

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        self.report = Report(torch.ones(x.shape[0], dtype=torch.float64, device=x.device))
        return x.mean(0)

    def weights(self, k: int) -> list[float]:
        return [1.0 / k] * k

    def invalid(self, k: int) -> str | None:
        return None if k >= 1 else "needs at least one candidate"

    def ops(self, k: int, d: int) -> float:
        return float(k * d)
