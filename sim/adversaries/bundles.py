"""Strategies on workers that send several vectors: one row per (worker, part) pair.

Under an assignment code with ``l > 1`` a worker sends a :data:`sim.messages.Bundle`, one
message per part it computes. A strategy still maps rows to rows: :func:`unpack` stacks
the vectors of several workers' messages rank by rank, part by part (a plain message is
one row), :func:`pack` turns the strategy's rows back into one message per worker. So
``collude`` sends its lie for every part of every adversary, and ALIE's statistics run
over the honest (worker, part) rows. A bundle whose rows are all ``None`` is "send
nothing"; a ``None`` row alone leaves out that one copy.

:func:`flat_layout` says what the rule will see in the same row numbering, so attacks
that model the rule's input (:mod:`sim.adversaries.rule_input`) work unchanged: the
copies of part ``p`` are the rows of its holders at the slot of ``p`` in their bundles
(its rank among the parts they hold, since parts are in increasing order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from sim.adversaries.rule_input import Layout
from sim.messages import Bundle, Message

Size = int | None  # rows of a worker's message: None for a plain message (one row)


def unpack(
    messages: Sequence[Message | Bundle], materialize: Callable[[Message], torch.Tensor]
) -> tuple[torch.Tensor, list[Size]]:
    """((rows, d) stacked vectors, each message's size) in the order given."""
    rows: list[torch.Tensor] = []
    sizes: list[Size] = []
    for m in messages:
        if isinstance(m, tuple):
            rows += [materialize(v) for v in m]  # type: ignore[arg-type]  # honest: no None
            sizes.append(len(m))
        else:
            rows.append(materialize(m))
            sizes.append(None)
    return torch.stack(rows), sizes


def pack(sent: Sequence[Any], sizes: Sequence[Size]) -> list[Any]:
    """The strategy's rows regrouped per worker: plain messages or bundles (or None)."""
    out: list[Any] = []
    at = 0
    for size in sizes:
        if size is None:
            out.append(sent[at])
            at += 1
            continue
        bundle = tuple(sent[at : at + size])
        out.append(None if all(v is None for v in bundle) else bundle)
        at += size
    return out


def flat_layout(
    n: int,
    own: Sequence[int],
    liars: Sequence[int],
    groups: Sequence[Sequence[int]],
    sizes: Sequence[Size],
) -> Layout:
    """The :class:`Layout` of rows: ``sizes[w]`` is worker ``w``'s message size."""
    rows = [1 if s is None else s for s in sizes]
    first = [sum(rows[:w]) for w in range(n)]
    seen = [0] * n  # parts of each worker met so far, in part order
    flat = []
    for members in groups:
        flat.append(tuple(first[w] + (seen[w] if sizes[w] is not None else 0) for w in members))
        for w in members:
            seen[w] += 1

    def of(ranks: Sequence[int]) -> tuple[int, ...]:
        return tuple(first[w] + k for w in ranks for k in range(rows[w]))

    return Layout(sum(rows), of(own), of(sorted(liars)), tuple(flat))
