"""ALIE and IPM with their scale tuned against the rule the PS runs.

The fixed-scale attacks (:mod:`sim.adversaries.omniscient`) send ``mu + sign * z * sigma``
(ALIE, Baruch et al., NeurIPS 2019) and ``-epsilon * mu`` (IPM, Xie et al., UAI 2019)
with a scale chosen without looking at the defence. Here the attacker knows the rule and
picks the scale ``s`` in ``[0, high]`` that maximises how far the rule's output lands
from the honest mean,

    s* = argmax_s || rule(candidates(lie(s))) - mu ||_2,

the "optimal" variants of ALIE and IPM in ByzFL (Allouah et al. 2024). ``candidates``
is what the rule would receive (:mod:`sim.adversaries.rule_input`); ``mu`` the mean of
the honest messages.

Optimiser (:func:`maximise`): ``points`` scales evenly spaced on ``[0, high]`` plus the
fixed-scale attack's own scale, then ``refine`` golden-section steps inside the two grid
cells around the best grid point; the best scale evaluated anywhere wins (the smaller
one on a tie). Because the fixed scale is among the candidates, the tuned attack is never
worse than the fixed one on the modelled input.

The rule may be stateful (centered clipping keeps a center, bucketing draws random
numbers): every evaluation runs on a deep copy, so the PS's rule and its random streams
are untouched — and every candidate scale is judged against the same state and the same
draws the PS is about to use (the attacker is omniscient about the rule). Complex
messages are tuned on their real coordinates (:mod:`sim.adversaries.real`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch

from sim.adversaries.omniscient import alie_z
from sim.adversaries.real import like, real_rows
from sim.adversaries.rule_input import Layout, Rule, candidate_index, model_candidates
from sim.adversaries.strategies import HonestView, Knowledge, Sent
from sim.config.errors import ConfigError
from sim.config.ranges import AtLeastOne, Count, Positive

GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0  # 0.618...: the golden-section step


def maximise(
    objective: Callable[[float], float],
    high: float,
    points: int,
    refine: int,
    extra: tuple[float, ...] = (),
) -> tuple[float, float]:
    """(scale, objective) of the best scale found on ``[0, high]`` (see the module's text).

    A NaN objective counts as ``-inf``: it never wins.
    """
    seen: dict[float, float] = {}

    def value(s: float) -> float:
        if s not in seen:
            v = objective(s)
            seen[s] = -math.inf if math.isnan(v) else v
        return seen[s]

    grid = [high * i / (points - 1) for i in range(points)] if points > 1 else [high]
    for s in (*grid, *extra):
        value(s)
    best = max(range(len(grid)), key=lambda i: (seen[grid[i]], -grid[i]))
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    c, d = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    for _ in range(refine):
        if value(c) >= value(d):  # the maximum lies in [a, d]
            b, d = d, c
            c = b - GOLDEN * (b - a)
        else:  # in [c, b]
            a, c = c, d
            d = a + GOLDEN * (b - a)
    scale = max(seen, key=lambda s: (seen[s], -s))
    return scale, seen[scale]


def tune(
    rule: Rule,
    honest: torch.Tensor,
    layout: Layout,
    lie_at: Callable[[float], torch.Tensor],
    high: float,
    points: int,
    refine: int,
    fixed: float,
) -> float:
    """The scale whose lie moves ``rule``'s output farthest from the honest mean.

    ``honest`` (h, D) real rows; ``lie_at(s)`` the (D,) lie at scale ``s``; ``fixed``
    the untuned attack's scale, tried too, and returned when the rule cannot take the
    number of candidates at all (then no scale changes anything).
    """
    index = candidate_index(layout)
    invalid = getattr(rule, "invalid", None)
    if not index or (invalid is not None and invalid(len(index)) is not None):
        return fixed
    mu = honest.double().mean(0)  # (D,)

    def distance(s: float) -> float:
        out = copy.deepcopy(rule)(model_candidates(honest, lie_at(s), index))  # (D,)
        return float(torch.linalg.vector_norm(out.double() - mu))

    return maximise(distance, high, points, refine, (fixed,))[0]


def needs_omniscience(name: str, knowledge: Knowledge) -> str | None:
    if knowledge is Knowledge.none:
        return (
            f"adversary={name} measures its effect against the honest mean: it needs "
            "adversary.knowledge=omniscient"
        )
    return None


class ALIELineSearch:
    """ALIE with ``z`` tuned on ``[0, z_max]``: ``mu + sign * z * sigma`` per coordinate.

    ``mu``, ``sigma``: mean and standard deviation (``ddof``) of the honest messages. The
    fixed ALIE's ``z`` from ``n`` and ``f`` (:func:`alie_z`, when finite) is one of the
    scales tried. ``z`` holds the last scale chosen.
    """

    def __init__(
        self,
        n: int,
        f: int,
        rule: Rule,
        z_max: Positive = 10.0,
        points: AtLeastOne = 41,
        refine: Count = 20,
        sign: float = -1.0,
        ddof: Count = 1,
    ) -> None:
        try:
            fixed = alie_z(n, f)
        except ConfigError:  # no finite fixed z for this n and f: start from 0
            fixed = 0.0
        self._rule, self._fixed = rule, fixed
        self._layout: Layout | None = None
        self.z = fixed
        self.z_max, self.points, self.refine, self.ddof = z_max, points, refine, ddof
        self.sign = 1.0 if sign >= 0 else -1.0

    def invalid(self, count: int, knowledge: Knowledge) -> str | None:
        return needs_omniscience("alie_line_search", knowledge)

    def locate(self, layout: Layout) -> None:
        self._layout = layout

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        assert honest is not None  # invalid() refuses knowledge=none
        x = real_rows(honest())  # (h, D)
        mu, sigma = x.mean(0), x.std(0, correction=self.ddof)
        layout = self._layout or Layout.uncoded(len(x), len(own))

        def lie_at(z: float) -> torch.Tensor:
            return mu + self.sign * z * sigma

        self.z = tune(
            self._rule, x, layout, lie_at, self.z_max, self.points, self.refine, self._fixed
        )
        return [like(lie_at(self.z), own)] * len(own)


class IPMLineSearch:
    """IPM with ``epsilon`` tuned on ``[0, epsilon_max]``: ``-epsilon * mu``.

    The fixed IPM's default ``epsilon = 0.1`` is one of the scales tried; ``epsilon``
    holds the last scale chosen.
    """

    FIXED = 0.1

    def __init__(
        self,
        rule: Rule,
        epsilon_max: Positive = 10.0,
        points: AtLeastOne = 41,
        refine: Count = 20,
    ) -> None:
        self._rule = rule
        self._layout: Layout | None = None
        self.epsilon = self.FIXED
        self.epsilon_max, self.points, self.refine = epsilon_max, points, refine

    def invalid(self, count: int, knowledge: Knowledge) -> str | None:
        return needs_omniscience("ipm_line_search", knowledge)

    def locate(self, layout: Layout) -> None:
        self._layout = layout

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        assert honest is not None  # invalid() refuses knowledge=none
        x = real_rows(honest())  # (h, D)
        mu = x.mean(0)
        layout = self._layout or Layout.uncoded(len(x), len(own))

        def lie_at(eps: float) -> torch.Tensor:
            return -eps * mu

        self.epsilon = tune(
            self._rule, x, layout, lie_at, self.epsilon_max, self.points, self.refine, self.FIXED
        )
        return [like(lie_at(self.epsilon), own)] * len(own)
