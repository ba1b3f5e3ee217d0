"""What an aggregation rule is: ``(k, d) candidates -> (d,) update``, plus what it kept.

Every rule is a small callable object. Besides the update it leaves a :class:`Report`
of its last call, from which the simulator computes the rule's *influence*: how many
adversarial candidates it selected or kept (see :func:`influence`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from sim.errors import ConfigError


@dataclass
class Report:
    """What the last call kept of each candidate.

    ``kept[i]`` is 1 for a candidate the rule selected or kept whole and 0 for one it
    discarded. A coordinate-wise rule keeps candidate ``i`` in some coordinates only:
    ``kept[i]`` is the fraction of coordinates where its value enters the output. A rule
    that weights every candidate (geometric median, centered clipping) reports
    ``kept[i] = k * w_i``, the weight relative to the mean's ``1/k``.
    """

    kept: torch.Tensor  # (k,) float64
    iterations: int | None = None  # iterative rules: iterations used (geomed)


class Aggregator(Protocol):
    name: str  # the config option, e.g. "krum"
    report: Report  # of the last call

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Aggregate ``x`` (k, d) into one (d,) vector."""
        ...

    def invalid(self, k: int) -> str | None:
        """Why ``k`` candidates are too few (or too many) for this rule; None when fine."""
        ...

    def ops(self, k: int, d: int) -> float:
        """Scalar operations for ``k`` vectors of size ``d`` (the PS cost model)."""
        ...


class Linear(Protocol):
    """A rule that is a fixed weighted sum: honest inputs can stay symbolic."""

    def weights(self, k: int) -> list[float]: ...


def influence(kept: torch.Tensor, adversarial: list[bool]) -> float:
    """Adversarial candidates the rule kept: ``sum of kept[i]`` over adversarial ``i``."""
    mask = torch.tensor(adversarial, dtype=torch.bool, device=kept.device)
    return float(kept[mask].sum())


def check_f(f: int) -> None:
    if f < 0:
        raise ConfigError(f"aggregator.f={f}: the declared number of adversaries must be >= 0")


class Checked(Protocol):
    name: str

    def invalid(self, k: int) -> str | None: ...


def check_inputs(rule: Checked, x: torch.Tensor) -> None:
    """Refuse, with a ValueError naming the rule, inputs it is not defined for."""
    if x.ndim != 2:
        raise ValueError(f"{rule.name}: candidates must be (k, d), got shape {tuple(x.shape)}")
    if why := rule.invalid(int(x.shape[0])):
        raise ValueError(f"{rule.name} {why}; got k={x.shape[0]}")
