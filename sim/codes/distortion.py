"""Distorted parts: the data parts whose majority vote the adversaries win, and ``epsilon``.

ByzShield's measure of damage (Konstantinidis & Ramamoorthy, MLSys 2021, §2): of the
``P`` parts an assignment code votes on, how many end up with the adversaries' value.

- :func:`distorted`: from one decode (ground truth): candidates whose winning copies all
  came from adversaries (:attr:`sim.codes.base.Decoded.backers`).
- :func:`majorities`: from the assignment alone: parts on which the adversaries hold a
  strict majority of the copies — what a worst-case placement maximises. The two agree
  when every adversary sends one identical lie per part and every copy arrives.
- :func:`epsilon`: the fraction of distorted parts over a run,
  ``epsilon = sum_t distorted_t / (T P)`` for ``T`` iterations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from sim.codes.base import Decoded


def distorted(backers: Iterable[Sequence[int]], liars: Iterable[int]) -> int:
    """Candidates backed by adversaries alone."""
    bad = set(liars)
    return sum(1 for ranks in backers if ranks and all(r in bad for r in ranks))


def majorities(holders: Sequence[Sequence[int]], adversaries: Iterable[int]) -> int:
    """Parts whose holders are adversaries in a strict majority (``> r / 2`` of ``r``)."""
    bad = set(adversaries)
    return sum(1 for ws in holders if 2 * sum(w in bad for w in ws) > len(ws))


def epsilon(per_iteration: Sequence[float], parts: int) -> float:
    """Fraction of distorted parts over the iterations (0 for no iterations)."""
    return sum(per_iteration) / (len(per_iteration) * parts) if per_iteration else 0.0


def distorted_parts(code: object, decoded: Decoded, liars: Iterable[int]) -> float:
    """:func:`distorted` of one decode; NaN for a code that does not vote per part (one
    without ``votes_per_part = True``: its candidates are not parts' winners)."""
    if not getattr(code, "votes_per_part", False):
        return math.nan
    return float(distorted(decoded.backers, liars))
