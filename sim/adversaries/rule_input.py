"""What the aggregation rule will see: the candidate list an adaptive attack must model.

An attack that tunes its vector against the rule evaluates the rule on the candidates
the PS would hand it after decoding. The attacker is omniscient: it knows this
iteration's honest messages (``honest``, one row per honest worker in rank order), the
code's groups, its own ranks and every adversarial rank. The :class:`Adversary` tells a
strategy where it stands each iteration by calling its ``locate(layout)`` method, when it
has one, just before the strategy itself.

The decoder yields one candidate per group, in group order (a worker under ``code=none``,
a repetition group, a part of an assignment). Every adversary of one strategy sends the
same ``lie``; the members of other adversary groups send something this strategy does
not know, which agrees with nobody. A group's candidate is then

- ``lie`` when this strategy's members are a strict majority of the group,
- the honest message when the honest members are,
- nothing (a decode failure) otherwise.

Under ``code=none`` (groups of one) that is: the honest messages and one copy of ``lie``
per adversary, each at its rank; other groups' adversaries are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Rule = Callable[[torch.Tensor], torch.Tensor]  # (k, d) candidates -> (d,) update


@dataclass(frozen=True)
class Layout:
    n: int  # workers
    own: tuple[int, ...]  # this strategy's ranks
    liars: tuple[int, ...]  # every adversarial rank this iteration, own ones included
    groups: tuple[tuple[int, ...], ...]  # the code's groups, one candidate each

    @staticmethod
    def uncoded(honest: int, own: int) -> Layout:
        """``code=none`` with the honest workers first and this strategy's ``own`` last."""
        n = honest + own
        ranks = tuple(range(honest, n))
        return Layout(n, ranks, ranks, tuple((i,) for i in range(n)))


def candidate_index(layout: Layout) -> list[int]:
    """Row of each candidate in ``cat(honest, lie)``: ``h`` (the last row) means ``lie``."""
    liars = set(layout.liars)
    row = {rank: k for k, rank in enumerate(i for i in range(layout.n) if i not in liars)}
    own = set(layout.own)
    lie = len(row)
    index = []
    for members in layout.groups:
        mine = sum(i in own for i in members)
        honest = [i for i in members if i not in liars]
        if 2 * mine > len(members):
            index.append(lie)
        elif 2 * len(honest) > len(members):
            index.append(row[honest[0]])
    return index


def model_candidates(honest: torch.Tensor, lie: torch.Tensor, index: list[int]) -> torch.Tensor:
    """(h, d) honest rows and a (d,) lie -> the (k, d) candidates of :func:`candidate_index`."""
    rows = torch.cat([honest, lie.to(honest.dtype)[None]])  # (h + 1, d)
    return rows[torch.tensor(index, dtype=torch.long, device=honest.device)]
