"""Centered clipping (Karimireddy, He, Jaggi, ICML 2021: "Learning from history for
Byzantine robust optimization").

Starting from the center ``v`` (the previous iteration's output; zero at first),
repeat ``L`` times:

    v <- v + (1/k) sum_i c_i (x_i - v),    c_i = min(1, tau / ||x_i - v||).

The result becomes the next iteration's center: the rule is stateful. A candidate with
NaN or Inf entries gets ``c_i = 0``. ``kept[i]`` = mean over the ``L`` steps of ``c_i``,
the share of candidate ``i``'s pull that got through (1 for all: the mean's step).
"""

from __future__ import annotations

import torch

from sim.aggregators.base import Report, check_inputs
from sim.config.ranges import AtLeastOne, Count, Positive


def clip_step(x: torch.Tensor, v: torch.Tensor, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One step from center ``v`` (d,): (new center (d,), clip factors (k,) float64)."""
    diff = x - v  # (k, d)
    norm = torch.linalg.vector_norm(diff, dim=1).double()  # (k,)
    c = torch.where(torch.isfinite(norm), (tau / norm).clamp(max=1.0), 0.0)  # tau/0 = inf -> 1
    if not bool(torch.isfinite(norm).all()):  # 0 * NaN would still be NaN
        diff = torch.where(c[:, None] > 0, diff, torch.zeros_like(diff))
    return v + (c.to(x.dtype) @ diff) / x.shape[0], c


class CenteredClip:
    name = "centered_clip"

    def __init__(self, f: Count = 0, tau: Positive = 1.0, iterations: AtLeastOne = 1) -> None:
        self.f, self.tau, self.iterations = f, tau, iterations
        self.center: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        v = x.new_zeros(x.shape[1]) if self.center is None else self.center
        kept = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
        for _ in range(self.iterations):
            v, c = clip_step(x, v, self.tau)
            kept += c / self.iterations
        self.center = v  # a new tensor every call: copies of this rule never share updates
        self.report = Report(kept)
        return v

    def invalid(self, k: int) -> str | None:
        return None if k >= 1 else "needs at least one candidate"

    def ops(self, k: int, d: int) -> float:
        return float(4 * k * d * self.iterations)
