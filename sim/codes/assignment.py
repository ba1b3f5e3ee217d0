"""A general assignment code: workers x parts, a majority vote per part, then any rule.

Each of ``P`` data parts lies on ``r`` workers and each worker computes ``l`` parts
(:mod:`sim.codes.assignments` builds the assignment of ``code.scheme``). A worker sends
one vector per part it holds: with ``l = 1`` a plain message, otherwise a
:data:`sim.messages.Bundle` of ``l`` messages in the order of its (sorted) parts. The PS
votes per part over the copies it received, exactly like the repetition code's vote
(:mod:`sim.codes.vote`), and hands the ``P`` winners, in part order, to the rule —
ByzShield (Konstantinidis & Ramamoorthy, MLSys 2021) with ``mols`` or ``ramanujan``,
DRACO/DETOX with ``frc``, which reproduces ``code=repetition`` bit for bit.

A part is distorted when its winning copies all come from adversaries
(:func:`sim.codes.distortion.distorted`, from :attr:`Decoded.backers`).

Parts per worker ``l`` by scheme: ``frc`` 1; ``mols`` and ``ramanujan`` case 1
(``n = r s``, ``s`` prime ``> r``) ``n / r``; ``ramanujan`` case 2 (``n = r^2``, ``r``
prime) the given ``l`` (``>= r``, default ``r``); ``random`` the given ``l`` (default
``r``: ``P = n`` parts, the cyclic code's load).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

import torch

from sim.codes import assignments as schemes
from sim.codes.base import Arrivals, Decoded, Materialize, Project
from sim.codes.vote import Vote, decoded, vote
from sim.config.ranges import AtLeastOne, NonNegative
from sim.messages import MESSAGE_BYTES, Bundle, Message, one_hot

Received = Mapping[int, Message | Bundle]


class Scheme(Enum):
    frc = "frc"  # DRACO's fractional repetition: groups of r consecutive ranks
    mols = "mols"  # ByzShield: mutually orthogonal Latin squares
    ramanujan = "ramanujan"  # ByzShield: Ramanujan bigraphs (Burnwal & Vidyasagar)
    random = "random"  # a shuffled biregular assignment (from the PS's stream)


def parts_per_worker(scheme: Scheme, n: int, r: int, l: int | None) -> int:  # noqa: E741
    if scheme is Scheme.frc:
        return 1
    if scheme is Scheme.mols or (scheme is Scheme.ramanujan and n != r * r):
        return n // r
    return r if l is None else l


def build(scheme: Scheme, n: int, r: int, l: int, gen: torch.Generator) -> schemes.Assignment:  # noqa: E741
    if scheme is Scheme.frc:
        return schemes.frc(n, r)
    if scheme is Scheme.mols:
        return schemes.mols(n // r, r)
    if scheme is Scheme.ramanujan:
        return schemes.ramanujan(r, n // r) if n != r * r else schemes.ramanujan(l, r)
    return schemes.random_assignment(n, r, l, gen)


def _frc_problems(n: int, r: int, l: int | None) -> list[str]:  # noqa: E741
    out = [] if n % r == 0 else [f"r={r}: scheme=frc needs cluster.workers={n} % r == 0"]
    return out + ([] if l in (None, 1) else [f"l={l}: scheme=frc holds one part per worker"])


def _mols_problems(n: int, r: int, l: int | None) -> list[str]:  # noqa: E741
    s = n // r
    if n % r or not schemes.is_prime(s) or r > s - 1:
        return [f"r={r}: scheme=mols needs cluster.workers={n} = r l, l prime, r <= l - 1"]
    return [] if l in (None, s) else [f"l={l}: scheme=mols holds n / r = {s} parts per worker"]


def _ramanujan_problems(n: int, r: int, l: int | None) -> list[str]:  # noqa: E741
    if n == r * r and schemes.is_prime(r):  # case 2
        return [] if l is None or l >= r else [f"l={l}: scheme=ramanujan with n = r^2 needs l >= r"]
    s = n // r  # case 1
    if n % r or not schemes.is_prime(s) or s <= r:
        return [
            f"r={r}: scheme=ramanujan needs cluster.workers={n} = r s with s prime > r, "
            "or r^2 with r prime"
        ]
    return [] if l in (None, s) else [f"l={l}: scheme=ramanujan with n = r s holds s = {s} parts"]


def _random_problems(n: int, r: int, l: int | None) -> list[str]:  # noqa: E741
    l = r if l is None else l  # noqa: E741
    if r > n:
        return [f"r={r}: scheme=random needs r <= cluster.workers={n}"]
    if l < 1 or (n * l) % r or l > n * l // r:
        return [f"l={l}: scheme=random needs l >= 1, n l = {n * l} divisible by r and l <= n l / r"]
    return []


PROBLEMS = {
    Scheme.frc: _frc_problems,
    Scheme.mols: _mols_problems,
    Scheme.ramanujan: _ramanujan_problems,
    Scheme.random: _random_problems,
}


class AssignmentCode:
    votes_per_part = True  # candidates are parts' vote winners (sim/codes/distortion.py)

    def __init__(
        self,
        n: int,
        gen: torch.Generator,
        scheme: Scheme = Scheme.frc,
        r: AtLeastOne = 3,
        l: int | None = None,  # noqa: E741 - parts per worker, the papers' name
        tolerance: NonNegative = 0.0,
    ) -> None:
        self.n, self.r, self.tolerance = n, r, tolerance
        self.scheme = Scheme(scheme)
        self.l = parts_per_worker(self.scheme, n, r, l)
        self.held = build(self.scheme, n, r, self.l, gen)  # worker -> its sorted parts
        self.parts = 1 + max(p for held in self.held for p in held)
        self.holders = schemes.holders(self.held, self.parts)  # part -> its workers
        self._slot = [{w: self.held[w].index(p) for w in ws} for p, ws in enumerate(self.holders)]
        self._unit = [one_hot(p, self.parts) for p in range(self.parts)]  # shared references

    @staticmethod
    def footprint(
        n: int,
        scheme: Scheme = Scheme.frc,
        r: int = 3,
        l: int | None = None,  # noqa: E741
        **_: object,
    ) -> tuple[int, int]:
        """(data parts, bytes of the honest messages: one part index each)."""
        parts = n * parts_per_worker(Scheme(scheme), n, r, l) // r
        return parts, (n + parts) * MESSAGE_BYTES

    @staticmethod
    def problems(*, n: int, scheme: Scheme, r: int, l: int | None, tolerance: float) -> list[str]:  # noqa: E741
        """Why this assignment cannot be built, one line per problem (none: it can)."""
        return PROBLEMS[Scheme(scheme)](n, r, l)

    def load(self, rank: int) -> int:
        """Uncoded shares of work: ``l`` parts of ``n / P`` shares each (``= r``)."""
        return len(self.held[rank]) * self.n // self.parts

    def message_bytes(self, d: int) -> int:
        return 4 * d * self.l

    def groups(self) -> list[list[int]]:
        """Per part, the workers holding it (they overlap unless ``l = 1``)."""
        return [list(ws) for ws in self.holders]

    def honest_messages(self) -> list[Message | Bundle]:
        if self.l == 1:
            return [self._unit[held[0]] for held in self.held]
        return [tuple(self._unit[p] for p in held) for held in self.held]

    def copies(self, part: int, received: Received) -> list[tuple[int, Message]]:
        """(rank, message) for every received copy of ``part``, in rank order."""
        out = []
        for w in self.holders[part]:
            msg = received.get(w)
            if isinstance(msg, tuple):
                msg = msg[self._slot[part][w]]
            if msg is not None:
                out.append((w, msg))
        return out

    def votes(self, received: Received, materialize: Materialize) -> list[Vote]:
        return [
            vote(self.copies(p, received), materialize, self.tolerance) for p in range(self.parts)
        ]

    def decode(
        self, received: Received, materialize: Materialize, project: Project | None = None
    ) -> Decoded:
        return decoded(self.votes(received, materialize))

    def decodable(
        self, received: Received, materialize: Materialize, project: Project | None = None
    ) -> bool:
        """Every part has a value sent by a strict majority of all ``r`` of its workers."""
        return all(
            2 * len(v.backers) > len(ws)
            for v, ws in zip(self.votes(received, materialize), self.holders, strict=True)
        )

    def decode_ops(self, received: int, d: int) -> float:
        return float(received * self.l * d)  # one comparison pass over every copy

    def arrivals(self) -> Arrivals:
        return PartMajorities(self.held, [len(ws) for ws in self.holders])


class PartMajorities:
    """Decodable once every part holds honest copies from more than half its holders:
    an honest worker's arrival is one honest copy of each part it holds."""

    def __init__(self, held: list[list[int]], sizes: list[int]) -> None:
        self.held, self.sizes = held, sizes
        self.votes, self.left = [0] * len(sizes), len(sizes)

    def add(self, rank: int, honest: bool) -> bool:
        if honest:
            for p in self.held[rank]:
                self.votes[p] += 1
                if 2 * self.votes[p] > self.sizes[p] >= 2 * (self.votes[p] - 1):
                    self.left -= 1
        return self.left == 0
