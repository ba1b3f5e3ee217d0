"""Pre-aggregators in front of a rule: ``x -> pre_1 -> ... -> pre_n -> rule``.

Each pre-aggregator returns new candidates ``y = M x`` with its mixing matrix ``M``
(k', k). The rule's ``kept`` over ``y`` is mapped back to the original candidates as
``(k / k') M^T kept``: a candidate shares in what the rule kept of each mixture in
proportion to its weight there (bucketing then Krum: the members of the selected
bucket get 1 each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import torch

from sim.aggregators.base import Aggregator, Report, check_inputs
from sim.config.ranges import AtLeastOne


class Pre(Enum):
    nnm = "nnm"  # nearest-neighbour mixing (uses aggregator.f)
    bucketing = "bucketing"  # random buckets of aggregator.bucket_size, averaged


@dataclass
class PreSettings:
    """Settings every rule has: pre-aggregators applied in order before it."""

    pre: list[Pre] = field(default_factory=list)  # e.g. [nnm, bucketing]
    bucket_size: AtLeastOne = 2  # for pre=[bucketing]


class PreAggregator(Protocol):
    name: str

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(k, d) -> (mixed candidates (k', d), mixing matrix (k', k) float64)."""
        ...

    def out(self, k: int) -> int:
        """k', the number of candidates handed on."""
        ...

    def invalid(self, k: int) -> str | None: ...

    def ops(self, k: int, d: int) -> float: ...


class Chain:
    def __init__(self, pre: list[PreAggregator], rule: Aggregator) -> None:
        self.pre, self.rule = pre, rule
        self.name = rule.name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        mixes = []
        for p in self.pre:
            x, mix = p(x)
            mixes.append(mix)
        out = self.rule(x)
        kept = self.rule.report.kept
        for mix in reversed(mixes):
            kept = (mix.shape[1] / mix.shape[0]) * (mix.T @ kept)
        self.report = Report(kept, self.rule.report.iterations)
        return out

    def invalid(self, k: int) -> str | None:
        steps = []
        for p in self.pre:
            if why := p.invalid(k):
                return f"(aggregator.pre={p.name}) {why}"
            steps.append(f"{p.name}: {k} -> {p.out(k)}")
            k = p.out(k)
        if why := self.rule.invalid(k):
            return f"{why} after aggregator.pre ({', '.join(steps)} candidates)"
        return None

    def ops(self, k: int, d: int) -> float:
        total = 0.0
        for p in self.pre:
            total += p.ops(k, d)
            k = p.out(k)
        return total + self.rule.ops(k, d)
