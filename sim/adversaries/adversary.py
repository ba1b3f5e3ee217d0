"""An adversary = who (placement) x when (schedule) x what (strategy) x knowing what.

A run has a list of adversary groups (one for ``adversary=NAME``, several for
``adversary=mixed``). Each iteration every group places its workers among the ranks the
earlier groups left, and the active groups replace their workers' honest messages.
Adversaries only read honest messages; they never draw from an honest worker's stream.
A strategy with a ``locate(layout)`` method is told, before each call, its ranks, every
adversarial rank and the code's groups (:class:`sim.adversaries.rule_input.Layout`):
what an attack that models the rule's input needs. A worker that sends one vector per
part (a bundle) is one row per part for the strategy (:mod:`sim.adversaries.bundles`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from sim.adversaries.bundles import flat_layout, pack, unpack
from sim.adversaries.placement import Placement, Placer
from sim.adversaries.schedule import Schedule
from sim.adversaries.strategies import HonestView, Knowledge
from sim.config.ranges import Count, Probability
from sim.messages import Bundle, Delayed, Message

Strategy = Callable[[torch.Tensor, HonestView | None, torch.Generator], list[torch.Tensor | None]]
Materialize = Callable[[Message], torch.Tensor]


@dataclass
class GroupSettings:
    """Who, when and knowing what: the settings every adversary option has (the strategy's
    own parameters come from its constructor)."""

    count: Count = 1  # adversarial workers (adversary.ids, when given, sets it)
    placement: Placement = Placement.fixed
    ids: list[int] = field(default_factory=list)  # explicit placement: exactly these ranks
    knowledge: Knowledge = Knowledge.omniscient
    start: Count = 0  # schedule: first active iteration
    stop: int | None = None  # schedule: first inactive iteration after start; null: never
    probability: Probability = 1.0  # schedule: chance of being active in an iteration

    @staticmethod
    def problems(start: int = 0, stop: int | None = None, **_: Any) -> list[str]:
        if stop is not None and stop <= start:
            return [f"adversary.stop={stop} must be > adversary.start={start} (or null)"]
        return []

    @property
    def workers(self) -> int:
        return len(self.ids) if self.ids or self.placement is Placement.explicit else self.count


class Mixed:
    """Several adversary groups in one run (``adversary=mixed``).

    ``groups`` is a list of ``{name: OPTION, ...that option's keys}``; unset keys take that
    option's defaults. Groups place their workers among the ranks earlier groups left
    (explicit ids first). Not a strategy itself: the builder makes one group per entry.
    """

    def __init__(self, groups: list[Any] | None = None) -> None:
        self.groups = list(groups or [])


@dataclass
class Group:
    name: str  # the strategy's option name, e.g. "alie"
    placer: Placer
    schedule: Schedule
    strategy: Strategy
    knowledge: Knowledge
    gen: torch.Generator  # the group's own random stream

    def parameters(self) -> str:
        """The strategy's effective parameters, ``k=v`` space-separated (e.g. ALIE's z)."""
        items = [(k, v) for k, v in vars(self.strategy).items() if not k.startswith("_")]
        return " ".join(f"{k}={_fmt(v)}" for k, v in items)


def _fmt(v: object) -> str:
    return f"{v:.6g}" if isinstance(v, float) and math.isfinite(v) else str(v)


class Adversary:
    def __init__(self, groups: list[Group]) -> None:
        explicit_first = sorted(groups, key=lambda g: g.placer.kind is not Placement.explicit)
        self.groups = explicit_first
        self.description = ""  # active groups of the last attack, for metrics.csv

    def attack(
        self,
        iteration: int,
        honest: Sequence[Message | Bundle],
        materialize: Materialize,
        relabeled: Materialize | None = None,
    ) -> tuple[list[int], dict[int, Message | Bundle | Delayed | None]]:
        """(adversarial ranks, what each of them sends instead of its honest message).

        ``relabeled`` computes a worker's message on flipped labels (data-level attacks).
        """
        taken: frozenset[int] = frozenset()
        active: list[tuple[Group, list[int]]] = []
        for g in self.groups:
            ranks = g.placer.ranks(iteration, taken)  # drawn even when inactive: fixed streams
            taken |= set(ranks)
            if ranks and g.schedule.active(iteration):
                active.append((g, ranks))
        liars = {i for _, ranks in active for i in ranks}
        cache: list[torch.Tensor] = []

        def honest_view() -> torch.Tensor:  # (h, d), computed once per iteration
            if not cache:
                cache.append(
                    unpack([m for i, m in enumerate(honest) if i not in liars], materialize)[0]
                )
            return cache[0]

        sizes = [len(m) if isinstance(m, tuple) else None for m in honest]

        forged: dict[int, Message | Bundle | Delayed | None] = {}
        for g, ranks in active:
            own_message = materialize
            if getattr(g.strategy, "flip_labels", False):
                if relabeled is None:
                    raise RuntimeError(f"adversary={g.name} needs messages on flipped labels")
                own_message = relabeled
            own, own_sizes = unpack([honest[i] for i in ranks], own_message)  # (rows, d)
            view = honest_view if g.knowledge is Knowledge.omniscient else None
            locate = getattr(g.strategy, "locate", None)
            if locate is not None:
                locate(flat_layout(g.placer.n, ranks, sorted(liars), g.placer.groups, sizes))
            sent = pack(g.strategy(own, view, g.gen), own_sizes)
            delay_s = getattr(g.strategy, "delay_s", 0.0)
            for rank, msg in zip(ranks, sent, strict=True):
                forged[rank] = Delayed(msg, delay_s) if delay_s > 0 and msg is not None else msg
        self.description = " + ".join(_describe(g, r) for g, r in active)
        return sorted(liars), forged


def _describe(g: Group, ranks: list[int]) -> str:
    """``name(ranks=0;3 param=value ...)``: one active group in one iteration."""
    params = g.parameters()
    return f"{g.name}(ranks={';'.join(map(str, ranks))}{' ' + params if params else ''})"
