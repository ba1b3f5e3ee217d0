"""Strategies that read the honest workers' messages of this iteration.

ALIE and IPM are statistics of the honest messages. Under ``knowledge=none`` they
estimate those statistics from the adversaries' own honest messages instead (what the
ALIE paper assumes its attackers do); mimic cannot, and refuses ``knowledge=none``.
Complex messages are treated coordinate-wise on their real and imaginary parts.
"""

from __future__ import annotations

from enum import Enum
from statistics import NormalDist

import torch

from sim.adversaries.strategies import HonestView, Knowledge, Sent
from sim.config.errors import ConfigError
from sim.config.ranges import Count, Finite


class AlieVariant(Enum):
    paper = "paper"  # Baruch et al. 2019, Alg. 3: z = Phi^-1((n - s) / n)
    honest = "honest"  # common code variant: z = Phi^-1((n - f - s) / (n - f))


def alie_z(n: int, f: int, variant: AlieVariant = AlieVariant.paper) -> float:
    """ALIE's z: ``s = floor(n/2) + 1 - f`` supporters needed, then the normal quantile."""
    s = n // 2 + 1 - f
    p = (n - s) / n if variant is AlieVariant.paper else (n - f - s) / max(n - f, 1)
    if not 0.0 < p < 1.0:
        raise ConfigError(
            f"adversary=alie: no finite z for cluster.workers={n} and {f} adversaries "
            f"(variant={variant.value} needs 0 < p < 1, got p={p:.3f}); set adversary.z"
        )
    return NormalDist().inv_cdf(p)


def _real(x: torch.Tensor) -> torch.Tensor:
    return torch.view_as_real(x) if x.is_complex() else x


def _like(x: torch.Tensor, template: torch.Tensor) -> torch.Tensor:
    return torch.view_as_complex(x.contiguous()) if template.is_complex() else x


class ALIE:
    """A little is enough: every adversary sends ``mu + sign * z * sigma`` (per coordinate).

    ``mu``, ``sigma`` = mean and standard deviation (``ddof``) of the honest messages;
    ``z`` from ``n`` workers and ``f`` adversaries by :func:`alie_z` unless given.
    """

    def __init__(
        self,
        n: int,
        f: int,
        z: Finite | None = None,
        variant: AlieVariant = AlieVariant.paper,
        sign: float = -1.0,
        ddof: Count = 1,
    ) -> None:
        """``z``: null derives it from ``n`` and ``f`` by ``variant``; ``sign``: the lie is
        ``mu + sign * z * sigma``; ``ddof``: sigma's delta degrees of freedom."""
        self.variant = AlieVariant(variant).value
        self.z = alie_z(n, f, AlieVariant(variant)) if z is None else float(z)
        self.n, self.f, self.sign, self.ddof = n, f, (1.0 if sign >= 0 else -1.0), ddof

    @staticmethod
    def problems(
        n: int, f: int, z: float | None = None, variant: object = "paper", **_: object
    ) -> list[str]:
        if z is not None:
            return []
        try:
            alie_z(n, f, AlieVariant(getattr(variant, "value", variant)))
        except ConfigError as err:
            return err.problems
        return []

    def invalid(self, count: int, knowledge: Knowledge) -> str | None:
        if knowledge is Knowledge.none and count <= self.ddof:
            return (
                f"adversary=alie with knowledge=none estimates sigma from its own {count} "
                f"message(s): needs adversary.count > adversary.ddof={self.ddof}"
            )
        return None

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        x = _real(honest() if honest is not None else own)  # (h, d) or (h, d, 2)
        mu, sigma = x.mean(0), x.std(0, correction=self.ddof)
        lie = _like(mu + self.sign * self.z * sigma, own)
        return [lie] * len(own)


class IPM:
    """Inner-product manipulation (fall of empires): ``-epsilon * mean of honest messages``."""

    def __init__(self, epsilon: float = 0.1) -> None:
        self.epsilon = epsilon

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        x = honest() if honest is not None else own
        lie = -self.epsilon * x.mean(0)
        return [lie] * len(own)


class Mimic:
    """Every adversary copies one honest worker's message: the ``target``-th honest one."""

    def __init__(self, target: Count = 0) -> None:
        """``target``: index among the honest workers (in rank order)."""
        self.target = target

    @staticmethod
    def problems(n: int, f: int, target: int = 0, **_: object) -> list[str]:
        honest = n - f
        if target >= honest:
            return [
                f"target={target}: there are {honest} honest workers (cluster.workers={n} "
                f"minus {f} adversaries), so the target must be in 0..{honest - 1}"
            ]
        return []

    def invalid(self, count: int, knowledge: Knowledge) -> str | None:
        if knowledge is Knowledge.none:
            return (
                "adversary=mimic copies an honest worker's message: it needs "
                "adversary.knowledge=omniscient"
            )
        return None

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        assert honest is not None  # validate() refuses knowledge=none
        x = honest()
        lie = x[self.target].clone()
        return [lie] * len(own)
