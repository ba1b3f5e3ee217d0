"""Krum (Blanchard et al., NeurIPS 2017: "Machine learning with adversaries").

``score(i) = sum of ||x_i - x_j||^2 over the k - f - 2 nearest OTHER vectors x_j``; the
output is the candidate with the lowest score. Needs
``k >= 2f + 3``. ``kept`` is 1 for the selected candidate and 0 elsewhere.

Exact ties are broken by the next-nearest distances (see :func:`krum_ranking`), so the
choice does not depend on the order of the candidates.
"""

from __future__ import annotations

import torch

from sim.aggregators.base import Report, check_inputs
from sim.aggregators.distances import pairwise_sq_dists, pairwise_sq_dists_ops
from sim.config.ranges import Count


def nearest_sums(d2: torch.Tensor) -> torch.Tensor:
    """(k, k) squared distances -> (k, k-1): column j sums the j+1 nearest OTHER vectors."""
    k = d2.shape[0]
    others = d2 + torch.diag(d2.new_full((k,), torch.inf))  # a vector is not its own neighbour
    return others.sort(dim=1).values[:, : k - 1].cumsum(1)


def neighbours(k: int, f: int) -> int:
    """Krum's ``k - f - 2``, clamped at 0 (only Bulyan's last rounds have fewer vectors)."""
    return max(0, k - f - 2)


def krum_scores(d2: torch.Tensor, f: int) -> torch.Tensor:
    """(k, k) squared distances -> (k,) Krum scores over the ``k - f - 2`` nearest others."""
    m = neighbours(d2.shape[0], f)
    return nearest_sums(d2)[:, m - 1] if m > 0 else d2.new_zeros(d2.shape[0])


def krum_ranking(d2: torch.Tensor, f: int) -> torch.Tensor:
    """(k,) candidate indices, lowest Krum score first.

    An exact tie (the mutually nearest pair when one neighbour is counted, everyone when
    none is) is broken by the sum over one more neighbour, then two more, ..., then by
    index: a rule that does not depend on the order in which candidates arrive.
    """
    k = d2.shape[0]
    sums = nearest_sums(d2)  # (k, k-1)
    order = torch.arange(k, device=d2.device)
    for j in reversed(range(max(neighbours(k, f) - 1, 0), k - 1)):  # least significant first
        order = order[sums[order, j].sort(stable=True).indices]
    return order


def krum_invalid(k: int, f: int) -> str | None:
    if k >= 2 * f + 3:
        return None
    return f"needs k >= 2f+3 = {2 * f + 3} candidates with aggregator.f={f}"


def krum_ops(k: int, d: int) -> float:
    """Distances, then per row a partial sort of k values (independent of d)."""
    return pairwise_sq_dists_ops(k, d) + float(k * k)


class Krum:
    name = "krum"

    def __init__(self, f: Count = 0) -> None:
        self.f = f

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        best = int(krum_ranking(pairwise_sq_dists(x), self.f)[0])
        kept = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
        kept[best] = 1.0
        self.report = Report(kept)
        return x[best].clone()

    def invalid(self, k: int) -> str | None:
        return krum_invalid(k, self.f)

    def ops(self, k: int, d: int) -> float:
        return krum_ops(k, d) + float(d)
