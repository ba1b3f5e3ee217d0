"""Pairwise squared distances between candidates, safe against cancellation and junk.

``||x_i - x_j||^2 = ||x_i||^2 + ||x_j||^2 - 2 x_i.x_j`` from one float64 Gram matrix:
one matrix product (fast, no Python loop over pairs), and float64 keeps the
cancellation error far below the float32 rounding of the inputs themselves. Tiny
negative results are clamped to 0; a candidate with NaN or Inf entries is infinitely
far from every other one, so distance-based rules never select it.
"""

from __future__ import annotations

import torch


def pairwise_sq_dists(x: torch.Tensor) -> torch.Tensor:
    """(k, d) -> (k, k) float64 squared L2 distances, zero diagonal, +inf for non-finite rows."""
    y = x.double()  # (k, d)
    gram = y @ y.T  # (k, k)
    sq = gram.diagonal()
    d2 = (sq[:, None] + sq[None, :] - 2.0 * gram).clamp_(min=0.0)
    d2 = (d2 + d2.T) / 2  # exactly symmetric, so ties between a pair are exact ties
    d2 = torch.nan_to_num(d2, nan=torch.inf, posinf=torch.inf)
    bad = ~torch.isfinite(sq)
    d2[bad, :] = torch.inf
    d2[:, bad] = torch.inf
    d2.fill_diagonal_(0.0)
    return d2


def pairwise_sq_dists_ops(k: int, d: int) -> float:
    """The float64 copy (k d) and the symmetric Gram matrix (k (k+1)/2 dot products of 2d)."""
    return float(k * d + k * (k + 1) * d)
