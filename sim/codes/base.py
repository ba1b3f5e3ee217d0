"""What a code is: who computes which data parts, and how the PS decodes what arrives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import torch

from sim.messages import Message

Materialize = Callable[[Message], torch.Tensor]
Project = Callable[[torch.Tensor], torch.Tensor]  # f (d,) -> (P,) every part gradient times f


@dataclass
class Decoded:
    candidates: list[Message]  # vectors handed to the aggregation rule
    failures: int = 0  # what the PS itself can tell went wrong (no majority, bad syndromes)
    suspects: set[int] = field(default_factory=set)  # workers the decoder found lying
    # per candidate, the ranks whose copies it is (voting codes; empty for the others):
    # a candidate backed by adversaries alone is a part they distorted
    backers: list[list[int]] = field(default_factory=list)


class Arrivals(Protocol):
    """Decodability counted from arrivals alone (``workload=timing_only``, where no values
    exist): an honest copy agrees with the other honest ones, a forged one with nothing."""

    def add(self, rank: int, honest: bool) -> bool:
        """Count one arrival; True once the messages so far are enough to decode."""
        ...


class Code(Protocol):
    n: int  # workers
    parts: int  # distinct data parts per iteration

    def load(self, rank: int) -> int:
        """Work of worker ``rank`` per iteration, in uncoded shares (``batch_size / n``
        samples): 1 uncoded, ``r`` for the repetition code. Compute time scales with it."""
        ...

    def message_bytes(self, d: int) -> int: ...

    def groups(self) -> list[list[int]]:
        """Worker sets that must agree; worst-case placement attacks these."""
        ...

    def honest_messages(self) -> list[Message]:
        """What every worker sends when honest, as symbolic part sums."""
        ...

    def decode(
        self,
        received: dict[int, Message],
        materialize: Materialize,
        project: Project | None = None,
    ) -> Decoded:
        """Candidates from the messages received (rank -> message); absent ranks are erasures.

        ``materialize`` turns a symbolic message into its vector; ``project``, when given,
        projects every part gradient on a vector at once (a decoder that looks at
        projections uses it instead of materializing).
        """
        ...

    def decodable(
        self,
        received: dict[int, Message],
        materialize: Materialize,
        project: Project | None = None,
    ) -> bool:
        """Whether the PS may stop waiting: later arrivals cannot change the result."""
        ...

    def decode_ops(self, received: int, d: int) -> float:
        """Scalar operations the PS spends decoding ``received`` messages (cost model)."""
        ...

    def arrivals(self) -> Arrivals:
        """A fresh count of one iteration's arrivals (see :class:`Arrivals`)."""
        ...
