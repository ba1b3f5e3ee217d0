"""What an aggregation rule is: ``(k, d) candidates -> (d,) update``, plus what it kept.

Every rule is a small callable object. Besides the update it leaves a :class:`Report`
of its last call, from which the simulator computes the rule's *influence*: how many
adversarial candidates it selected or kept (see :func:`influence`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch


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
    iterations: float | None = None  # iterative rules: steps used (geomed: size-weighted mean)


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


class Linear:
    """A rule that is a fixed weighted sum ``sum_i w_i x_i``, defined by :meth:`weights` alone.

    The PS applies it to the candidates through their weights, so honest candidates stay
    symbolic (the sum of honest part gradients is one backward pass); ``__call__`` is the
    same sum on a tensor. A subclass changes the rule by overriding ``weights``; it cannot
    override ``__call__`` (that would be a second definition the PS never runs): a rule
    that is not a weighted sum is a plain class with its own ``__call__``.
    """

    name = "linear"
    report: Report

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__call__" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__}: a linear rule is defined by weights(k) alone; override "
                "weights, or write a rule that is not a subclass of Linear"
            )

    def weights(self, k: int) -> list[float]:
        raise NotImplementedError

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        k = x.shape[0]
        w = torch.tensor(self.weights(k), dtype=torch.float64, device=x.device)
        self.report = Report(k * w)
        return w.to(x.dtype) @ x

    def invalid(self, k: int) -> str | None:
        return None if k >= 1 else "needs at least one candidate"

    def ops(self, k: int, d: int) -> float:
        return float(k * d)


def influence(kept: torch.Tensor, adversarial: list[bool]) -> float:
    """Adversarial candidates the rule kept: ``sum of kept[i]`` over adversarial ``i``."""
    mask = torch.tensor(adversarial, dtype=torch.bool, device=kept.device)
    return float(kept[mask].sum())


class Checked(Protocol):
    name: str

    def invalid(self, k: int) -> str | None: ...


def check_inputs(rule: Checked, x: torch.Tensor) -> None:
    """Refuse, with a ValueError naming the rule, inputs it is not defined for."""
    if x.ndim != 2:
        raise ValueError(f"{rule.name}: candidates must be (k, d), got shape {tuple(x.shape)}")
    if why := rule.invalid(int(x.shape[0])):
        raise ValueError(f"{rule.name} {why}; got k={x.shape[0]}")
