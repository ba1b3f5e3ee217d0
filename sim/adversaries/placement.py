"""Who is adversarial in each iteration, and how likely that corrupts a repetition group.

Placements: ``fixed`` (one set drawn once from the placement stream), ``random``
(re-drawn every iteration), ``worst_case`` (against the code's groups: a strict
majority ``r//2 + 1`` — that is ``ceil(r/2)`` for odd ``r`` — per group, filling as many
groups as the count allows), ``explicit`` (exactly ``adversary.ids``). Several adversary
groups share the cluster: each picks among the ranks the earlier ones left (``taken``).
"""

from __future__ import annotations

from enum import Enum
from math import comb

import numpy as np

from sim.adversaries.distorting import most_distorting
from sim.config.errors import ConfigError


class Placement(Enum):
    fixed = "fixed"  # one set, drawn once from the seed
    random = "random"  # re-drawn every iteration
    worst_case = "worst_case"  # concentrated against the code's groups
    explicit = "explicit"  # exactly adversary.ids
    max_distortion = "max_distortion"  # the most parts' majorities (sim/adversaries/distorting.py)


def majority(size: int) -> int:
    """Copies that out-vote the rest of a group of ``size``: ``size//2 + 1``."""
    return size // 2 + 1


def worst_case(
    count: int, groups: list[list[int]], taken: frozenset[int] = frozenset()
) -> list[int]:
    """Fill groups in order with just enough liars for a strict majority (``r//2 + 1``)."""
    chosen: list[int] = []
    for members in groups:
        free = [i for i in members if i not in taken]
        take = min(majority(len(members)), len(free), count - len(chosen))
        chosen += free[:take]
        if len(chosen) == count:
            break
    picked = set(chosen) | taken
    rest = [i for members in groups for i in members if i not in picked]
    return sorted(chosen + rest[: count - len(chosen)])


def corrupts(ranks: list[int] | set[int], groups: list[list[int]]) -> bool:
    """Whether some group holds a strict majority of adversaries."""
    bad = set(ranks)
    return any(sum(i in bad for i in g) >= majority(len(g)) for g in groups)


def corruption_probability(sizes: list[int], s: int) -> float:
    """Exact P(some group has a strict adversarial majority) for ``s`` uniform ranks.

    Placements that corrupt no group: the coefficient of ``x^s`` in
    ``prod_g sum_{j < majority(size_g)} C(size_g, j) x^j``; divide by ``C(n, s)``.
    """
    safe = [1]  # polynomial coefficients, exact integers
    for size in sizes:
        term = [comb(size, j) for j in range(majority(size))]
        out = [0] * (len(safe) + len(term) - 1)
        for a, ca in enumerate(safe):
            for b, cb in enumerate(term):
                out[a + b] += ca * cb
        safe = out
    n = sum(sizes)
    good = safe[s] if s < len(safe) else 0
    return 1.0 - good / comb(n, s)


class Placer:
    def __init__(
        self,
        kind: Placement,
        count: int,
        ids: list[int],
        n: int,
        groups: list[list[int]],
        rng: np.random.Generator,
    ) -> None:
        if kind is Placement.explicit or ids:
            kind, count = Placement.explicit, len(ids)
        self.kind, self.count, self.n, self.groups, self.rng = kind, count, n, groups, rng
        if kind is Placement.explicit:
            self.fixed = sorted(ids)
        elif kind is Placement.worst_case:
            self.fixed = worst_case(count, groups)
        elif kind is Placement.max_distortion:
            self.fixed = most_distorting(count, groups, n).ranks
        else:
            self.fixed = sorted(rng.choice(n, size=count, replace=False).tolist())
        if kind is Placement.fixed:  # where another group took some: the next free ranks
            self.order = self.fixed + [
                i for i in rng.permutation(n).tolist() if i not in self.fixed
            ]

    def ranks(self, iteration: int, taken: frozenset[int] = frozenset()) -> list[int]:
        """This iteration's adversarial ranks, avoiding ranks ``taken`` by earlier groups."""
        if self.kind is Placement.random:
            free = [i for i in range(self.n) if i not in taken]
            pool = self.n if not taken else np.asarray(free)
            return sorted(self.rng.choice(pool, size=self.count, replace=False).tolist())
        if not taken or not taken & set(self.fixed):
            return self.fixed
        if self.kind is Placement.worst_case:
            return worst_case(self.count, self.groups, taken)
        if self.kind is Placement.max_distortion:
            return most_distorting(self.count, self.groups, self.n, taken).ranks
        if self.kind is Placement.fixed:
            return sorted([i for i in self.order if i not in taken][: self.count])
        raise ConfigError(f"adversary.ids={self.fixed} overlap another adversary group's ranks")


def corrupted_fraction(placer: Placer, groups: list[list[int]], iterations: int) -> float:
    """Monte Carlo: fraction of ``iterations`` whose placement corrupts some group."""
    return sum(corrupts(placer.ranks(it), groups) for it in range(iterations)) / iterations
