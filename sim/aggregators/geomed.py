"""Geometric median by Weiszfeld's iteration (Weiszfeld 1937), two ways to run it.

Both iterate ``z <- sum_i beta_i x_i / sum_i beta_i`` with ``beta_i`` the inverse
distance of candidate ``i`` to the current estimate ``z``; they differ in what they do
when a candidate sits at the estimate and in when they stop (``stop``):

- ``objective`` (smoothed Weiszfeld; Pillutla, Kakade, Harchaoui 2022: "Robust
  aggregation for federated learning"): ``beta_i = 1 / max(nu, ||z - x_i||)``, which
  minimizes the smoothed objective ``g(z) = sum_i h(||z - x_i||)`` with ``h(r) = r`` for
  ``r >= nu`` and ``r^2/(2 nu) + nu/2`` below. Each step is a majorize-minimize step, so
  ``g`` never increases; it stops when ``g`` fell by at most ``tol * g`` in one step.
- ``step`` (the rule of the ``hdmedians`` library's ``geomedian``): candidates within
  ``tol`` of the estimate get no weight of their own; when there are ``eta`` of them the
  new estimate is ``(1 - gamma) T + gamma z`` with ``T`` the weighted mean of the others
  and ``gamma = min(1, eta / r)``, ``r = ||T - z|| sum_i beta_i`` (Vardi and Zhang 2000,
  "The multivariate L1-median and associated data depth"); it stops when the estimate
  moved by less than ``tol`` (absolute, not relative), or when every candidate is
  within ``tol`` of it. It runs in float64, as a PS that receives float64 does: an
  absolute tolerance of 1e-8 is below the float32 rounding of most gradients.

Where it starts (``start``): the coordinate-wise median, the coordinate-wise mean
(where ``hdmedians`` starts) or zero. ``per_tensor=true`` computes one geometric
median per parameter tensor of the model (the layout the simulator provides as
``tensor_sizes``, in the order the parameters are flattened) and concatenates them,
as a PS that aggregates layer by layer does; ``false`` treats the whole vector as one
point. Either way at most ``max_iter`` steps run per median.

A candidate with NaN or Inf entries (in a tensor) gets weight 0 there. The report's
``iterations`` is the number of steps, averaged over the tensors weighted by their
size: the PS's cost (:meth:`GeometricMedian.ops`) is exactly linear in it.
``kept[i] = k * w_i`` with ``w = beta / sum(beta)`` of the last step, size-weighted over
the tensors (1 for everyone when all weights are equal, as in the mean).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import torch

from sim.aggregators.base import Report, check_inputs
from sim.aggregators.median import coordinate_median, sort_ops
from sim.config.ranges import AtLeastOne, Count, NonNegative, Positive


class Start(Enum):
    median = "median"  # coordinate-wise median: sorts every coordinate
    mean = "mean"  # coordinate-wise mean: where hdmedians starts
    zero = "zero"


class Stop(Enum):
    objective = "objective"  # smoothed Weiszfeld; relative decrease of its objective <= tol
    step = "step"  # hdmedians: the estimate moved by < tol (absolute), in float64


def smoothed_objective(dist: torch.Tensor, nu: float) -> float:
    """``g`` from the distances (k,) of the current point to every candidate."""
    return float(torch.where(dist >= nu, dist, dist * dist / (2 * nu) + nu / 2).sum())


def distances(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """(k, d), (d,) -> (k,) float64 ``||x_i - z||`` (by differencing)."""
    return torch.linalg.vector_norm(x - z, dim=1).double()


def distances_streamed(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """:func:`distances` without forming ``x - z``: differences summed as they stream by
    (several times faster on large ``d``; the same values up to summation order)."""
    far = torch.cdist(x, z[None], compute_mode="donot_use_mm_for_euclid_dist")  # (k, 1)
    return far[:, 0].double()


@dataclass
class Weiszfeld:
    z: torch.Tensor  # (d,) the estimate
    weights: torch.Tensor  # (k,) float64, normalized weights of the last step
    iterations: int  # steps taken
    objectives: list[float]  # g at the start and after every step (smoothed runs only)


def _drop_non_finite(x: torch.Tensor, dist: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(x with non-finite rows zeroed, mask of the finite rows): 0 * NaN would be NaN."""
    finite = torch.isfinite(dist)
    if not bool(finite.all()):
        x = torch.where(finite[:, None], x, torch.zeros_like(x))
    return x, finite


def weiszfeld(x: torch.Tensor, z: torch.Tensor, nu: float, tol: float, max_iter: int) -> Weiszfeld:
    """Smoothed Weiszfeld from ``z`` until ``g`` falls by at most ``tol * g`` in a step."""
    dist = distances(x, z)
    x, finite = _drop_non_finite(x, dist)
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


def weiszfeld_steps(x: torch.Tensor, z: torch.Tensor, tol: float, max_iter: int) -> Weiszfeld:
    """Weiszfeld with the Vardi–Zhang rule for candidates at the estimate, in float64,
    until the estimate moves by less than ``tol`` (the ``hdmedians`` rules)."""
    out_dtype = x.dtype
    x, z = x.double(), z.double()
    x, finite = _drop_non_finite(x, distances(x, z))
    w = finite.double() / finite.sum().clamp(min=1)
    steps = 0
    while steps < max_iter:
        dist = distances_streamed(x, z)  # (k,)
        far = finite & (dist > tol)
        beta = torch.where(far, 1.0 / dist, 0.0)
        total = beta.sum()
        if not bool(total > 0):  # every candidate is at the estimate: it is the median
            break
        w = beta / total
        t = w @ x  # (d,) weighted mean of the candidates away from the estimate
        eta = int((finite & ~far).sum())
        if eta:
            r = float(torch.linalg.vector_norm(t - z) * total)
            gamma = min(1.0, eta / r) if r > tol else 0.0
            t = (1.0 - gamma) * t + gamma * z
        steps += 1
        moved = float(torch.linalg.vector_norm(t - z))
        z = t
        if moved < tol:
            break
    return Weiszfeld(z.to(out_dtype), w, steps, [])


def starting_point(x: torch.Tensor, start: Start) -> torch.Tensor:
    if start is Start.median:
        return coordinate_median(x)[0]
    if start is Start.mean:
        finite = torch.isfinite(x).all(1)
        rows = x[finite] if bool(finite.any()) else x
        return rows.double().mean(0).to(x.dtype)
    return x.new_zeros(x.shape[1])


def start_ops(k: int, d: int, start: Start) -> float:
    if start is Start.median:
        return sort_ops(k, d)
    return float(k * d) if start is Start.mean else 0.0


class GeometricMedian:
    name = "geomed"

    def __init__(
        self,
        tol: NonNegative = 1e-5,
        max_iter: AtLeastOne = 100,
        nu: Positive = 1e-6,
        start: Start = Start.median,
        stop: Stop = Stop.objective,
        per_tensor: bool = False,
        f: Count = 0,
        tensor_sizes: Sequence[int] = (),
    ) -> None:
        """``tol``: the stopping tolerance of ``stop`` (relative objective decrease, or
        absolute move of the estimate); ``max_iter``: steps at most, per median; ``nu``:
        the smoothing radius (``stop=objective``); ``start``: where Weiszfeld starts;
        ``per_tensor``: one median per parameter tensor of the model."""
        self.f, self.tol, self.max_iter, self.nu = f, tol, max_iter, nu
        self.start, self.stop = Start(start), Stop(stop)
        self.per_tensor = per_tensor
        self.tensor_sizes = tuple(int(s) for s in tensor_sizes)

    def blocks(self, d: int) -> list[int]:
        """Sizes of the blocks that get a median each (the whole vector unless per tensor)."""
        if not self.per_tensor or not self.tensor_sizes:
            return [d]
        if sum(self.tensor_sizes) != d:
            raise ValueError(
                f"geomed: the parameter tensors hold {sum(self.tensor_sizes)} values, "
                f"the candidates {d}"
            )
        return list(self.tensor_sizes)

    def _one(self, x: torch.Tensor) -> Weiszfeld:
        z = starting_point(x, self.start)
        if self.stop is Stop.step:
            return weiszfeld_steps(x, z, self.tol, self.max_iter)
        return weiszfeld(x, z, self.nu, self.tol, self.max_iter)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        k, d = x.shape
        parts = [self._one(block) for block in x.split(self.blocks(d), dim=1)]
        sizes = torch.tensor([p.z.numel() for p in parts], dtype=torch.float64)
        share = sizes / max(d, 1)
        weights = torch.stack([p.weights for p in parts]).T @ share  # (k,)
        steps = float(sum(p.iterations * s for p, s in zip(parts, share.tolist(), strict=True)))
        self.report = Report(k * weights, steps if len(parts) > 1 else parts[0].iterations)
        return torch.cat([p.z for p in parts]) if len(parts) > 1 else parts[0].z

    def invalid(self, k: int) -> str | None:
        return None if k >= 1 else "needs at least one candidate"

    def ops(self, k: int, d: int) -> float:
        """The start, then per step: differences, norms and the weighted sum (one more
        distance pass for the smoothed objective at the start), per block of ``T`` steps
        — summed over the blocks, ``3 k d`` times their size-weighted mean steps."""
        report = getattr(self, "report", None)
        steps = self.max_iter if report is None or report.iterations is None else report.iterations
        extra = 1 if self.stop is Stop.objective else 0
        return start_ops(k, d, self.start) + 3.0 * k * d * (steps + extra)
