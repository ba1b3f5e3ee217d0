"""Who is adversarial in each iteration."""

from __future__ import annotations

import numpy as np

from sim.config import Placement
from sim.errors import ConfigError


def worst_case(count: int, groups: list[list[int]]) -> list[int]:
    """Fill groups in order with just enough liars for a strict majority (``r//2 + 1``)."""
    chosen: list[int] = []
    for members in groups:
        take = min(len(members) // 2 + 1, count - len(chosen))
        chosen += members[:take]
        if len(chosen) == count:
            break
    rest = [i for members in groups for i in members if i not in set(chosen)]
    return sorted(chosen + rest[: count - len(chosen)])


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
            bad = [i for i in ids if not 0 <= i < n]
            if bad or len(set(ids)) != len(ids):
                raise ConfigError(f"adversary.ids={ids}: need distinct ranks in [0, {n})")
            kind, count = Placement.explicit, len(ids)
        if not 0 <= count <= n:
            raise ConfigError(f"adversary.count={count} must be between 0 and cluster.workers={n}")
        self.kind, self.count, self.n, self.rng = kind, count, n, rng
        if kind is Placement.explicit:
            self.fixed = sorted(ids)
        elif kind is Placement.worst_case:
            self.fixed = worst_case(count, groups)
        else:
            self.fixed = sorted(rng.choice(n, size=count, replace=False).tolist())

    def ranks(self, iteration: int) -> list[int]:
        if self.kind is Placement.random:
            return sorted(self.rng.choice(self.n, size=self.count, replace=False).tolist())
        return self.fixed
