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
``ps.wait=decodable`` asks the code (:meth:`Code.arrivals`): honest copies agree,
adversaries' messages are taken to agree with nothing.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import torch

from sim.adversaries.adversary import Adversary
from sim.aggregators.base import Aggregator
from sim.codes.base import Arrivals, Code
from sim.messages import Delayed
from sim.runs.records import IterationRecord, Outcome

HONEST = "honest"  # what an honest worker sends, as far as time is concerned
FORGED = "forged"  # what an adversary sends instead
_EMPTY = torch.zeros(0)


def _empty(message: object) -> torch.Tensor:
    return _EMPTY


class TimingOnly:
    def __init__(self, code: Code, rule: Aggregator, adversary: Adversary, d: int) -> None:
        self.code, self.rule, self.adversary, self.d = code, rule, adversary, d
        self.model_bytes = 4 * d
        n = code.n
        self.group = np.full(n, -1, dtype=np.int64)
        for g, members in enumerate(code.groups()):
            self.group[members] = g
        self.tokens: list[str | None] = [HONEST] * n
        self.ranks: list[int] = []
        self._seen = 0
        self._count: Arrivals = code.arrivals()
        self._decodable = False

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
        self._seen, self._count, self._decodable = 0, self.code.arrivals(), False
        return sent

    def decodable(self, received: dict[int, str | None]) -> bool:
        """Counted incrementally from the arrivals since the last call."""
        new = len(received) - self._seen
        for rank in reversed(list(itertools.islice(reversed(received), new))):
            self._decodable = self._count.add(rank, received[rank] == HONEST)
        self._seen = len(received)
        return self._decodable

    def counterfactual(self) -> None:
        return None  # no values, no ground truth

    def finish(
        self, iteration: int, received: dict[int, str | None], reference: list[int] | None
    ) -> Outcome:
        groups = len(np.unique(self.group[list(received)])) if received else 0
        record = IterationRecord(
            iteration=iteration,
            adversaries=len(self.ranks),
            adversary_ranks=";".join(map(str, self.ranks)),
            received=len(received),
            decode_failures=math.nan,
            corrupted_updates=math.nan,
            skipped_updates=math.nan,
        )
        return Outcome(
            record,
            decode_ops=self.code.decode_ops(len(received), self.d),
            aggregate_ops=self.rule.ops(groups, self.d) if groups else 0.0,
        )


def tensor_sizes(make_model: object) -> tuple[int, ...]:
    """Sizes of the parameter tensors of the model ``make_model()`` builds, in the order
    they are flattened into one vector; built on the meta device (no memory)."""
    with torch.device("meta"):
        model = make_model()  # type: ignore[operator]
    return tuple(int(p.numel()) for p in model.parameters())
