"""Geometric median by smoothed Weiszfeld (Pillutla, Kakade, Harchaoui 2022: "Robust
aggregation for federated learning"; Weiszfeld 1937).

Minimizes the smoothed objective ``g(z) = sum_i h(||z - x_i||)`` with
``h(r) = r`` for ``r >= nu`` and ``r^2/(2 nu) + nu/2`` below, by the iteration

    z <- sum_i beta_i x_i / sum_i beta_i,    beta_i = 1 / max(nu, ||z - x_i||),

started at the coordinate-wise median. Each step is a majorize-minimize step, so
``g`` never increases. Stops when ``g`` fell by at most ``tol * g`` in one step, or
after ``max_iter`` steps; the report holds the steps taken. A candidate with NaN or
Inf entries gets weight 0. ``kept[i] = k * w_i`` with ``w = beta / sum(beta)`` of the
last step (1 for everyone when all weights are equal, as in the mean).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sim.aggregators.base import Report, check_inputs
from sim.aggregators.median import coordinate_median, sort_ops
from sim.config.ranges import AtLeastOne, Count, NonNegative, Positive


def smoothed_objective(dist: torch.Tensor, nu: float) -> float:
    """``g`` from the distances (k,) of the current point to every candidate."""
    return float(torch.where(dist >= nu, dist, dist * dist / (2 * nu) + nu / 2).sum())


def distances(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """(k, d), (d,) -> (k,) float64 ``||x_i - z||`` (by differencing)."""
    return torch.linalg.vector_norm(x - z, dim=1).double()


@dataclass
class Weiszfeld:
    z: torch.Tensor  # (d,) the estimate
    weights: torch.Tensor  # (k,) float64, normalized weights of the last step
    iterations: int  # steps taken
    objectives: list[float]  # g at the start and after every step


def weiszfeld(x: torch.Tensor, z: torch.Tensor, nu: float, tol: float, max_iter: int) -> Weiszfeld:
    dist = distances(x, z)
    finite = torch.isfinite(dist)
    if not bool(finite.all()):  # junk candidates get weight 0; 0 * NaN would still be NaN
        x = torch.where(finite[:, None], x, torch.zeros_like(x))
    objectives = [smoothed_objective(dist[finite], nu)]
    w = finite.double() / finite.sum().clamp(min=1)
    steps = 0
    while steps < max_iter:
        beta = torch.where(finite, 1.0 / dist.clamp(min=nu), 0.0)  # (k,)
        w = beta / beta.sum()
        z = w.to(x.dtype) @ x  # (d,)
        dist = distances(x, z)
        objectives.append(smoothed_objective(dist[finite], nu))
        steps += 1
        if objectives[-2] - objectives[-1] <= tol * objectives[-1]:
            break
    return Weiszfeld(z, w, steps, objectives)


class GeometricMedian:
    name = "geomed"

    def __init__(
        self,
        tol: NonNegative = 1e-5,
        max_iter: AtLeastOne = 100,
        nu: Positive = 1e-6,
        f: Count = 0,
    ) -> None:
        self.f, self.tol, self.max_iter, self.nu = f, tol, max_iter, nu

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        start, _ = coordinate_median(x)
        res = weiszfeld(x, start, self.nu, self.tol, self.max_iter)
        self.report = Report(x.shape[0] * res.weights, res.iterations)
        return res.z

    def invalid(self, k: int) -> str | None:
        return None if k >= 1 else "needs at least one candidate"

    def ops(self, k: int, d: int) -> float:
        """The median start, then per step: differences, norms and the weighted sum."""
        report = getattr(self, "report", None)
        steps = self.max_iter if report is None or report.iterations is None else report.iterations
        return sort_ops(k, d) + float(3 * k * d * (steps + 1))
