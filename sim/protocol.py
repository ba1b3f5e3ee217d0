"""The math of one synchronous iteration, kept apart from the clock.

``prepare`` draws the global batch, forms every worker's honest message (symbolic) and
lets the adversary replace some; ``finish`` decodes what the PS received, aggregates,
checks the result against ground truth (the adversary-free update over the same
arrivals) and takes the SGD step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from sim.adversaries.adversary import Adversary
from sim.aggregators.base import Aggregator
from sim.codes.base import Code, Decoded
from sim.messages import Combination, Message, PartSum, bits_equal, weighted
from sim.nodes.ps import Outcome
from sim.training.datasets import BatchSampler, Dataset
from sim.training.oracle import GradientOracle

RELATIVE_TOLERANCE = 1e-6  # below float32 noise: an update this close is the honest one


@dataclass
class Learning:
    oracle: GradientOracle
    data: Dataset
    sampler: BatchSampler
    code: Code
    rule: Aggregator
    adversary: Adversary
    lr: float
    eval_every: int
    iterations: int

    def __post_init__(self) -> None:
        self.model_bytes = 4 * self.oracle.d
        self.honest: list[Message] = []
        self.ranks: list[int] = []

    def message_bytes(self) -> int:
        return self.code.message_bytes(self.oracle.d)

    def load(self, rank: int) -> int:
        return self.code.load(rank)

    def prepare(self, iteration: int) -> list[Message | None]:
        P = self.code.parts
        m = self.sampler.batch // P
        idx = torch.from_numpy(self.sampler.next()[: P * m]).to(self.data.x_train.device)
        x = self.data.x_train[idx].reshape(P, m, -1)
        y = self.data.y_train[idx].reshape(P, m)
        self.oracle.start(x, y)
        self.honest = self.code.honest_messages()
        if self.oracle.reference:  # the naive simulator: every worker computes on its own
            self.honest = [self.oracle.compute(m) for m in self.honest]
        self.ranks, forged = self.adversary.attack(iteration, self.honest, self.oracle.materialize)
        sent: list[Message | None] = list(self.honest)
        for rank, msg in forged.items():
            sent[rank] = msg
        return sent

    def decodable(self, received: dict[int, Message]) -> bool:
        return self.code.decodable(received, self.oracle.materialize)

    def aggregate(self, decoded: Decoded) -> Combination | None:
        cands = decoded.candidates
        if not cands:
            return None
        weights = getattr(self.rule, "weights", None)
        if weights is not None:
            return weighted(weights(len(cands)), cands)
        return Combination(None, self.rule(self.oracle.stack(cands)))

    def vector(self, c: Combination) -> torch.Tensor:
        if c.symbolic is None:
            return c.dense if c.dense is not None else self.oracle.theta.new_zeros(self.oracle.d)
        out = self.oracle.materialize(c.symbolic)
        return out if c.dense is None else out + c.dense

    def corrupted(
        self, decoded: Decoded, applied: Combination | None, received: dict[int, Message]
    ) -> bool:
        """Ground truth only a simulator knows: does the update differ from the honest one?"""
        if not self.ranks:
            return False
        senders = set(received) | set(self.ranks)
        honest = {i: self.honest[i] for i in sorted(senders)}
        truth = self.code.decode(honest, self.oracle.materialize)
        if _same_symbols(decoded.candidates, truth.candidates):
            return False  # the rule saw exactly the honest inputs: decided without tensors
        reference = self.aggregate(truth)
        if applied is None or reference is None:
            return applied is not reference
        same = applied.same_as(reference, RELATIVE_TOLERANCE)
        if same is not None:
            return not same
        a, b = self.vector(applied), self.vector(reference)
        if bits_equal(a, b):
            return False
        err = torch.linalg.vector_norm((a - b).double())
        return not bool(err <= RELATIVE_TOLERANCE * torch.linalg.vector_norm(b.double()))

    def finish(self, iteration: int, received: dict[int, Message]) -> Outcome:
        decoded = self.code.decode(received, self.oracle.materialize)
        applied = self.aggregate(decoded)
        corrupted = self.corrupted(decoded, applied, received)
        update = None if applied is None else self.vector(applied)  # forms the batch loss
        loss_t = self.oracle.loss_tensor()
        if update is not None:
            self.oracle.step(update, self.lr)
        # NaN/inf anywhere makes the sum non-finite (so does |theta| near float max):
        # one cheap reduction instead of an elementwise pass
        finite = torch.isfinite(self.oracle.theta.sum())
        loss, ok = torch.stack([loss_t.double(), finite.double()]).tolist()  # one device sync
        diverged = not ok
        test_loss = accuracy = math.nan
        last = iteration == self.iterations - 1
        if last or diverged or (iteration + 1) % self.eval_every == 0:
            test_loss, accuracy = self.oracle.evaluate(self.data.x_test, self.data.y_test)
        d = self.oracle.d
        return Outcome(
            decode_ops=self.code.decode_ops(len(received), d),
            aggregate_ops=self.rule.ops(len(decoded.candidates), d) if decoded.candidates else 0.0,
            fields=dict(
                loss=loss,
                test_loss=test_loss,
                accuracy=accuracy,
                adversaries=len(self.ranks),
                adversary_ranks=";".join(map(str, self.ranks)),
                received=len(received),
                decode_failures=decoded.failures,
                corrupted_updates=int(corrupted),
                suspects=";".join(map(str, sorted(decoded.suspects))),
            ),
            diverged=diverged,
        )


def _same_symbols(a: list[Message], b: list[Message]) -> bool:
    """Both candidate lists are the same symbolic honest messages, in the same order."""
    return len(a) == len(b) and all(
        isinstance(x, PartSum) and isinstance(y, PartSum) and x.same_as(y)
        for x, y in zip(a, b, strict=True)
    )
