"""Bulyan (El Mhamdi, Guerraoui, Rouault, ICML 2018: "The hidden vulnerability...").

1. Select ``theta = k - 2f`` candidates by *recursive* Krum: apply Krum to the
   candidates not yet selected (scores recomputed over that shrinking set, so the
   neighbour count is ``remaining - f - 2``, at least 0; ties as in Krum), move the
   winner into the selection, repeat.
2. Per coordinate, average the ``beta = theta - 2f`` selected values closest to the
   coordinate median of the ``theta`` selected ones, by ``|value - median|``, each value
   counted on its own even when several candidates sent the same one (ties: the lower
   value first).

Needs ``k >= 4f + 3``. The pairwise distances are computed once; the loop runs over
the ``theta`` removals only. ``kept[i]`` = fraction of coordinates where candidate
``i``'s value is among the ``beta`` averaged (0 for a candidate never selected).
"""

from __future__ import annotations

import torch

from sim.aggregators.base import Report, check_inputs
from sim.aggregators.distances import pairwise_sq_dists, pairwise_sq_dists_ops
from sim.aggregators.krum import krum_ranking
from sim.aggregators.median import sort_ops
from sim.config.ranges import Count

CHUNK = 1 << 16  # coordinates per float64 pass of the last step (bounds its memory)


def closest_to_median(s: torch.Tensor, beta: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(theta, d) -> (mean of the ``beta`` values closest to the median (d,), their rows (beta, d)).

    Per coordinate: the coordinate median of the ``theta`` values (mean of the two middle
    ones for even ``theta``), then the ``beta`` values with the smallest ``|value - median|``,
    every value counted on its own (equal values are separate values). Among values at
    the same distance the lower value comes first, so the choice depends on the values
    only. Distances are taken in float64 (exact for float32 inputs), so ties are ties.
    """
    theta, d = s.shape
    out = s.new_empty(d)
    rows = torch.empty(beta, d, dtype=torch.long, device=s.device)
    for a in range(0, d, CHUNK):
        values, index = s[:, a : a + CHUNK].sort(0)  # (theta, c) ascending
        wide = values.double()
        med = wide[(theta - 1) // 2 : theta // 2 + 1].mean(0)  # (c,)
        # a stable sort by distance keeps the ascending order of values among ties;
        # the chosen positions, sorted again, are summed in ascending order of value
        nearest = (wide - med).abs().sort(dim=0, stable=True).indices[:beta].sort(0).values
        out[a : a + CHUNK] = values.gather(0, nearest).mean(0)
        rows[:, a : a + CHUNK] = index.gather(0, nearest)
    return out, rows


def recursive_krum(d2: torch.Tensor, f: int, count: int) -> list[int]:
    """Indices of ``count`` candidates chosen one by one by Krum over those still left."""
    remaining = list(range(d2.shape[0]))
    chosen: list[int] = []
    for _ in range(count):
        left = torch.tensor(remaining, device=d2.device)
        best = int(krum_ranking(d2[left][:, left], f)[0])
        chosen.append(remaining.pop(best))
    return chosen


class Bulyan:
    name = "bulyan"

    def __init__(self, f: Count = 0) -> None:
        self.f = f

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        k, d = x.shape
        theta, beta = k - 2 * self.f, k - 4 * self.f
        chosen = torch.tensor(recursive_krum(pairwise_sq_dists(x), self.f, theta), device=x.device)
        out, rows = closest_to_median(x[chosen], beta)  # rows index the chosen
        kept = torch.bincount(chosen[rows].reshape(-1), minlength=k).double() / d
        self.report = Report(kept)
        return out

    def invalid(self, k: int) -> str | None:
        if k >= 4 * self.f + 3:
            return None
        return f"needs k >= 4f+3 = {4 * self.f + 3} candidates with aggregator.f={self.f}"

    def ops(self, k: int, d: int) -> float:
        theta, beta = k - 2 * self.f, k - 4 * self.f
        selection = pairwise_sq_dists_ops(k, d) + float(theta * k * k)
        # the sort, then the nearest values found as the best of the 2f+1 windows of
        # beta sorted values (ties at the window's ends settled in the same pass)
        windows = 3.0 * (theta - beta + 1) * d
        return selection + sort_ops(theta, d) + windows + float(beta * d)
