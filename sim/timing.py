"""``workload=timing_only``: the clock without the learning.

No gradients, no data and no model in memory: every message is a token of the right
size (``4·d`` bytes for the model, ``code.message_bytes(d)`` for a worker's message),
so the network, the stragglers and the PS's cost model can be studied at thousands
of workers. ``d`` is ``timing.d``, or else the parameter count of the configured model
(counted on PyTorch's ``meta`` device, which allocates nothing).

The adversary still chooses who is adversarial each iteration, and its strategy still
runs, on zero-length vectors: a strategy that sends nothing (omission) leaves an
erasure here too, and one that holds its message back (:class:`sim.messages.Delayed`)
arrives late here too. Values are unknown, so loss, accuracy, decode failures and corrupted
updates are reported as unknown (empty cells, ``null`` in the summary).

What the PS spends: ``code.decode_ops(received, d)`` to decode and ``rule.ops(k, d)`` to
aggregate ``k`` candidates, one per code group that delivered at least one message
(``n`` received messages uncoded, the groups heard from for the repetition code).
``ps.wait=decodable`` counts a group as decoded once more than half of its members
have delivered honest copies (adversaries' messages are taken to disagree).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import torch

from sim.adversaries.adversary import Adversary
from sim.aggregators.base import Aggregator
from sim.codes.base import Code
from sim.codes.none import NoCode
from sim.codes.repetition import RepetitionCode
from sim.errors import ConfigError
from sim.messages import Delayed
from sim.nodes.ps import Outcome

HONEST = "honest"  # what an honest worker sends, as far as time is concerned
FORGED = "forged"  # what an adversary sends instead
_EMPTY = torch.zeros(0)


def _empty(message: object) -> torch.Tensor:
    return _EMPTY


class TimingOnly:
    def __init__(self, code: Code, rule: Aggregator, adversary: Adversary, d: int) -> None:
        if d < 1:
            raise ConfigError(f"timing.d={d} must be >= 1 (0 means: the model's parameters)")
        self.code, self.rule, self.adversary, self.d = code, rule, adversary, d
        self.model_bytes = 4 * d
        n = code.n
        self.group = np.full(n, -1, dtype=np.int64)
        groups = code.groups()
        for g, members in enumerate(groups):
            self.group[members] = g
        self.sizes = np.array([len(m) for m in groups], dtype=np.int64)
        self.tokens: list[str | None] = [HONEST] * n
        self.ranks: list[int] = []
        self._seen = 0
        self._votes = np.zeros(len(groups), dtype=np.int64)
        self._decoded = 0

    def message_bytes(self) -> int:
        return self.code.message_bytes(self.d)

    def load(self, rank: int) -> int:
        return self.code.load(rank)

    def prepare(self, iteration: int) -> list[Any]:
        tokens: list[Any] = self.tokens  # stand-ins: the strategy sees zero-length vectors
        self.ranks, forged = self.adversary.attack(iteration, tokens, _empty)
        sent: list[Any] = list(self.tokens)
        for rank, msg in forged.items():
            forged_msg: Any = msg  # a strategy may also return a Delayed message
            if forged_msg is None:
                sent[rank] = None
            elif isinstance(forged_msg, Delayed):
                sent[rank] = Delayed(FORGED, forged_msg.seconds)
            else:
                sent[rank] = FORGED
        self._seen, self._decoded = 0, 0
        self._votes[:] = 0
        return sent

    def decodable(self, received: dict[int, str | None]) -> bool:
        """Every group holds honest copies from more than half its members; counted
        incrementally from the arrivals since the last call."""
        new = len(received) - self._seen
        for rank in itertools.islice(reversed(received), new):
            if received[rank] == HONEST:
                g = self.group[rank]
                self._votes[g] += 1
                votes, size = self._votes[g], self.sizes[g]
                if 2 * votes > size >= 2 * (votes - 1):  # this copy made the majority
                    self._decoded += 1
        self._seen = len(received)
        return self._decoded == len(self.sizes)

    def finish(self, iteration: int, received: dict[int, str | None]) -> Outcome:
        groups = len(np.unique(self.group[list(received)])) if received else 0
        return Outcome(
            decode_ops=self.code.decode_ops(len(received), self.d),
            aggregate_ops=self.rule.ops(groups, self.d) if groups else 0.0,
            fields=dict(
                loss=math.nan,
                test_loss=math.nan,
                accuracy=math.nan,
                adversaries=len(self.ranks),
                adversary_ranks=";".join(map(str, self.ranks)),
                received=len(received),
                decode_failures=math.nan,
                corrupted_updates=math.nan,
                suspects="",
            ),
        )


def check_decodable(code: Code) -> None:
    """``ps.wait=decodable`` needs to know when the code's decoder has enough."""
    if not isinstance(code, NoCode | RepetitionCode):
        raise ConfigError(
            "ps.wait=decodable with workload=timing_only knows code=none and code=repetition "
            "only (use ps.wait=all, first_k or deadline)"
        )


def count_parameters(make_model: object) -> int:
    """Parameters of the model ``make_model()`` builds, on the meta device (no memory)."""
    with torch.device("meta"):
        model = make_model()  # type: ignore[operator]
    return int(sum(p.numel() for p in model.parameters()))
