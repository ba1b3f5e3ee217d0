"""The majority vote over the copies of one value, as DRACO's decoders run it.

The copies are ``(rank, message)`` pairs. They fall into classes of equal messages
(symbolic honest messages compare by their coefficients, anything else bitwise —
NaN-safe — or within ``tolerance``). The largest class wins only with a strict majority
of the copies received; a symbolic member represents it when there is one, so an honest
winner stays symbolic. A tie or a split is no winner: a decode failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch

from sim.codes.base import Decoded
from sim.messages import Message, PartSum, bits_equal

Materialize = Callable[[Message], torch.Tensor]


@dataclass
class Vote:
    winner: Message | None  # None: no strict majority
    backers: list[int]  # ranks whose copies form the winning class ([] without a winner)
    dissent: list[int]  # ranks whose copies disagree with the winner
    copies: int  # copies received


def equal(a: Message, b: Message, materialize: Materialize, tolerance: float) -> bool:
    if isinstance(a, PartSum) and isinstance(b, PartSum):
        return a.same_as(b)
    return bits_equal(materialize(a), materialize(b), tolerance)


def vote(copies: Sequence[tuple[int, Message]], materialize: Materialize, tolerance: float) -> Vote:
    classes: list[list[tuple[int, Message]]] = []  # one value each, representative first
    for rank, msg in copies:
        for cls in classes:
            if equal(cls[0][1], msg, materialize, tolerance):
                cls.append((rank, msg))
                break
        else:
            classes.append([(rank, msg)])
    best = max(classes, key=len, default=[])
    if 2 * len(best) <= len(copies):
        return Vote(None, [], [], len(copies))
    symbolic = [msg for _, msg in best if isinstance(msg, PartSum)]
    winner = symbolic[0] if symbolic else best[0][1]
    dissent = [rank for cls in classes if cls is not best for rank, _ in cls]
    return Vote(winner, [rank for rank, _ in best], dissent, len(copies))


def decoded(votes: Iterable[Vote]) -> Decoded:
    """One candidate per vote with a winner, a failure per vote without; dissenters are
    suspects."""
    out = Decoded([])
    for v in votes:
        out.suspects.update(v.dissent)
        if v.winner is None:
            out.failures += 1
        else:
            out.candidates.append(v.winner)
            out.backers.append(v.backers)
    return out
