"""An adversary = who (placement) x what (strategy) x knowing what (knowledge)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from sim.adversaries.placement import Placer
from sim.adversaries.strategies import HonestView
from sim.config import Knowledge
from sim.messages import Message

Strategy = Callable[[torch.Tensor, HonestView | None, torch.Generator], list[torch.Tensor | None]]


class Adversary:
    def __init__(
        self, placer: Placer, strategy: Strategy, knowledge: Knowledge, gen: torch.Generator
    ) -> None:
        self.placer, self.strategy, self.knowledge, self.gen = placer, strategy, knowledge, gen

    def attack(
        self,
        iteration: int,
        honest: list[Message],
        materialize: Callable[[Message], torch.Tensor],
    ) -> tuple[list[int], dict[int, Message | None]]:
        """(adversarial ranks, what each of them sends instead of its honest message)."""
        ranks = self.placer.ranks(iteration)
        if not ranks:
            return ranks, {}
        own = torch.stack([materialize(honest[i]) for i in ranks])
        liars = set(ranks)

        def honest_view() -> torch.Tensor:
            return torch.stack([materialize(m) for i, m in enumerate(honest) if i not in liars])

        view = honest_view if self.knowledge is Knowledge.omniscient else None
        sent = self.strategy(own, view, self.gen)
        return ranks, dict(zip(ranks, sent, strict=True))
