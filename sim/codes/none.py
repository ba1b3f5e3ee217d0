"""No code: each worker computes its own data part; nothing to decode."""

from __future__ import annotations

from sim.codes.base import Arrivals, Decoded, Materialize, Project
from sim.messages import MESSAGE_BYTES, Message, one_hot


class NoCode:
    votes_per_part = True  # a worker's message is its own part's only copy

    def __init__(self, n: int) -> None:
        self.n = self.parts = n
        self._honest: list[Message] = [one_hot(i, n) for i in range(n)]

    @staticmethod
    def footprint(n: int, **_: object) -> tuple[int, int]:
        """(data parts, bytes of the honest messages: one part index each)."""
        return n, n * MESSAGE_BYTES

    def load(self, rank: int) -> int:
        return 1

    def message_bytes(self, d: int) -> int:
        return 4 * d

    def groups(self) -> list[list[int]]:
        return [[i] for i in range(self.n)]

    def honest_messages(self) -> list[Message]:
        return list(self._honest)  # the same every iteration: coefficients, not values

    def decode(
        self, received: dict[int, Message], materialize: Materialize, project: Project | None = None
    ) -> Decoded:
        ranks = sorted(received)  # every worker's message is its own part's candidate
        return Decoded([received[i] for i in ranks], backers=[[i] for i in ranks])

    def decodable(
        self, received: dict[int, Message], materialize: Materialize, project: Project | None = None
    ) -> bool:
        return len(received) == self.n

    def decode_ops(self, received: int, d: int) -> float:
        return 0.0

    def arrivals(self) -> Arrivals:
        return Everyone(self.n)


class Everyone:
    """Decodable once all ``n`` messages are in (forged or not: nothing is decoded)."""

    def __init__(self, n: int) -> None:
        self.n, self.seen = n, 0

    def add(self, rank: int, honest: bool) -> bool:
        self.seen += 1
        return self.seen == self.n
