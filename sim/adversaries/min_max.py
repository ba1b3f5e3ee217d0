"""Min-max and min-sum (Shejwalkar & Houmansadr, NDSS 2021: "Manipulating the Byzantine:
optimizing model poisoning attacks and defenses for federated learning", §IV-B).

Both send ``lie = mu + gamma * p`` (``mu`` the mean of the honest messages ``x_i``, ``p`` a
perturbation direction) with the largest ``gamma`` for which the lie still looks like
an honest message, without knowing the rule:

- min-max: ``max_i ||lie - x_i|| <= max_{i,j} ||x_i - x_j||`` (no farther from any honest
  message than the two farthest honest messages are from each other);
- min-sum: ``sum_i ||lie - x_i||^2 <= max_i sum_j ||x_i - x_j||^2`` (its summed squared
  distance no larger than that of any honest message).

Directions (:class:`Direction`): inverse unit vector ``-mu / ||mu||``, inverse standard
deviation ``-sigma`` (per coordinate, ``ddof = 1``), inverse sign ``-sign(mu)``.

``gamma`` by the paper's halving search (Algorithm 1), :func:`gamma_search`: start at
``gamma_init`` with step ``gamma_init``; after each test move ``gamma`` up by half the
step if the lie passed (and remember it), down by half the step if not, then halve the
step; stop once the last passing ``gamma`` and the current one differ by at most
``tau``. Starting with the step at ``gamma_init`` brackets ``[0, 2 gamma_init]``.

Under ``knowledge=none`` the adversaries use their own messages in place of the honest
ones. Complex messages are treated on their real coordinates (:mod:`sim.adversaries.real`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

import torch

from sim.adversaries.real import like, real_rows
from sim.adversaries.strategies import HonestView, Knowledge, Sent
from sim.aggregators.distances import pairwise_sq_dists
from sim.config.ranges import Positive


class Direction(Enum):
    unit = "unit"  # inverse unit vector: -mu / ||mu||
    std = "std"  # inverse standard deviation: -sigma
    sign = "sign"  # inverse sign: -sign(mu)


def perturbation(x: torch.Tensor, direction: Direction) -> torch.Tensor:
    """(h, D) float64 honest rows -> (D,) perturbation direction ``p``."""
    mu = x.mean(0)
    if direction is Direction.unit:
        return -mu / torch.linalg.vector_norm(mu)
    if direction is Direction.std:
        return -x.std(0, correction=1)
    return -torch.sign(mu)


def gamma_search(
    passes: Callable[[float], bool], gamma_init: float, tau: float, rounds: int = 200
) -> float:
    """The largest ``gamma`` the halving search finds passing (0 when none passes)."""
    gamma, step, best = gamma_init, gamma_init, 0.0
    for _ in range(rounds):  # the step halves each round: |best - gamma| <= tau soon
        if passes(gamma):
            best = gamma
            gamma += step / 2
        else:
            gamma -= step / 2
        step /= 2
        if abs(best - gamma) <= tau:
            break
    return best


def min_max_passes(x: torch.Tensor, d2: torch.Tensor) -> Callable[[torch.Tensor], bool]:
    """Min-max's test for a lie, given honest rows (h, D) and their squared distances (h, h)."""
    bound = d2.max()

    def passes(lie: torch.Tensor) -> bool:
        return bool(((x - lie) ** 2).sum(1).max() <= bound)

    return passes


def min_sum_passes(x: torch.Tensor, d2: torch.Tensor) -> Callable[[torch.Tensor], bool]:
    """Min-sum's test for a lie, given honest rows (h, D) and their squared distances (h, h)."""
    bound = d2.sum(1).max()

    def passes(lie: torch.Tensor) -> bool:
        return bool(((x - lie) ** 2).sum() <= bound)

    return passes


Test = Callable[[torch.Tensor, torch.Tensor], Callable[[torch.Tensor], bool]]


def agnostic_lie(
    x: torch.Tensor, direction: Direction, test: Test, gamma_init: float, tau: float
) -> tuple[float, torch.Tensor]:
    """(gamma, lie (D,)) for honest rows ``x`` (h, D) float64 under ``test``."""
    mu, p = x.mean(0), perturbation(x, direction)
    passes = test(x, pairwise_sq_dists(x))
    gamma = gamma_search(lambda g: passes(mu + g * p), gamma_init, tau)
    return gamma, mu + gamma * p


def needs_two(name: str, count: int, knowledge: Knowledge) -> str | None:
    if knowledge is Knowledge.none and count < 2:
        return (
            f"adversary={name} with knowledge=none compares its own messages: "
            f"needs adversary.count >= 2, got {count}"
        )
    return None


class _Farthest:
    """The farthest ``mu + gamma p`` that still passes ``passes`` (one subclass per test).

    ``gamma`` holds the last value chosen.
    """

    name = ""
    passes: Callable[[torch.Tensor, torch.Tensor], Callable[[torch.Tensor], bool]]

    def __init__(
        self,
        direction: Direction = Direction.std,
        gamma_init: Positive = 10.0,
        tau: Positive = 1e-5,
    ) -> None:
        self.direction, self.gamma_init, self.tau = Direction(direction), gamma_init, tau
        self.gamma = 0.0

    def invalid(self, count: int, knowledge: Knowledge) -> str | None:
        return needs_two(self.name, count, knowledge)

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        x = real_rows(honest() if honest is not None else own).double()  # (h, D)
        test = type(self).passes
        self.gamma, lie = agnostic_lie(x, self.direction, test, self.gamma_init, self.tau)
        return [like(lie, own)] * len(own)


class MinMax(_Farthest):
    """Min-max: the farthest ``mu + gamma p`` within the honest messages' largest distance."""

    name = "min_max"
    passes = staticmethod(min_max_passes)


class MinSum(_Farthest):
    """Min-sum: the farthest ``mu + gamma p`` within the honest messages' largest distance sum."""

    name = "min_sum"
    passes = staticmethod(min_sum_passes)
