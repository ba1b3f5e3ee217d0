"""DRACO's fractional repetition code and its majority-vote decoder (Chen et al. 2018, §4).

Workers form ``n/r`` groups of ``r`` consecutive ranks; every member of group ``g``
computes the gradient of data part ``g``. The PS keeps, per group, the value sent by a
strict majority of the copies it received; equality is bitwise (NaN-safe) or within
``tolerance``. With at most ``(r-1)/2`` liars in a group the winner is the honest
gradient, exactly. A group without a strict majority is a decode failure.
"""

from __future__ import annotations

import numpy as np

from sim.codes.base import Arrivals, Decoded, Materialize, Project
from sim.codes.vote import Vote, decoded, vote
from sim.config.ranges import AtLeastOne, NonNegative
from sim.messages import MESSAGE_BYTES, Message, one_hot


class RepetitionCode:
    votes_per_part = True  # candidates are parts' vote winners (sim/codes/distortion.py)

    def __init__(self, n: int, r: AtLeastOne = 3, tolerance: NonNegative = 0.0) -> None:
        """``r``: copies of each data part (the group size); ``tolerance``: 0 for bitwise
        equality; > 0: the largest absolute difference between two copies that still
        counts as equal (for GPUs whose kernels are not bit-deterministic)."""
        self.n, self.r, self.tolerance = n, r, tolerance
        self.parts = n // r
        shared = [one_hot(g, self.parts) for g in range(self.parts)]
        self._honest: list[Message] = [shared[i // r] for i in range(n)]  # copies: references

    @staticmethod
    def footprint(n: int, r: int = 3, **_: object) -> tuple[int, int]:
        """(data parts, bytes of the honest messages: one part index each)."""
        return n // r, n * MESSAGE_BYTES

    @staticmethod
    def problems(n: int, r: int, tolerance: float = 0.0) -> list[str]:
        if n % r == 0:
            return []
        near = n - n % r + r
        return [
            f"cluster.workers={n} is not a multiple of code.r={r}: repetition groups "
            f"need n % r == 0 (for example cluster.workers={near})"
        ]

    def load(self, rank: int) -> int:
        return self.r  # a group's part holds the samples r uncoded workers would split

    def message_bytes(self, d: int) -> int:
        return 4 * d

    def groups(self) -> list[list[int]]:
        return [list(range(g * self.r, (g + 1) * self.r)) for g in range(self.parts)]

    def honest_messages(self) -> list[Message]:
        return list(self._honest)  # the same every iteration: coefficients, not values

    def _vote(
        self, members: list[int], received: dict[int, Message], materialize: Materialize
    ) -> Vote:
        return vote(
            [(i, received[i]) for i in members if i in received], materialize, self.tolerance
        )

    def decode(
        self, received: dict[int, Message], materialize: Materialize, project: Project | None = None
    ) -> Decoded:
        return decoded(self._vote(m, received, materialize) for m in self.groups())

    def decodable(
        self, received: dict[int, Message], materialize: Materialize, project: Project | None = None
    ) -> bool:
        """Every group has a value sent by a strict majority of all ``r`` members."""
        for members in self.groups():
            if 2 * len(self._vote(members, received, materialize).backers) <= self.r:
                return False
        return True

    def decode_ops(self, received: int, d: int) -> float:
        return float(received * d)  # one comparison pass over every copy

    def arrivals(self) -> Arrivals:
        return Majorities(self.r, self.parts)


class Majorities:
    """Decodable once every group holds honest copies from more than half its members."""

    def __init__(self, r: int, groups: int) -> None:
        self.r, self.votes, self.left = r, np.zeros(groups, dtype=np.int64), groups

    def add(self, rank: int, honest: bool) -> bool:
        if honest:
            g = rank // self.r
            self.votes[g] += 1
            if 2 * self.votes[g] > self.r >= 2 * (self.votes[g] - 1):  # this copy made it
                self.left -= 1
        return self.left == 0
