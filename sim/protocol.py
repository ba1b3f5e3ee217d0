"""The math of one synchronous iteration, kept apart from the clock.

``prepare`` draws the global batch, forms every worker's honest message (symbolic) and
lets the adversary replace some; ``finish`` decodes what the PS received, aggregates,
checks the result against ground truth (the adversary-free update over the same
arrivals) and takes the SGD step.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import torch

from sim.admission import admit_as, computed
from sim.adversaries.adversary import Adversary
from sim.aggregators.base import Aggregator, Linear, influence
from sim.codes.base import Code, Decoded
from sim.codes.distortion import distorted_parts
from sim.messages import Combination, Delayed, Message, PartSum, bits_equal, weighted
from sim.runs.records import IterationRecord, Outcome
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
        self.rejected: set[int] = set()  # ranks whose message this iteration is malformed

    def message_bytes(self) -> int:
        return self.code.message_bytes(self.oracle.d)

    def load(self, rank: int) -> int:
        return self.code.load(rank)

    def _relabeled(self, m: Message) -> torch.Tensor:
        """A worker's message computed on flipped labels ``y -> classes - 1 - y``."""
        return self.oracle.flipped(m, self.data.classes)

    def prepare(self, iteration: int) -> list[Message | Delayed | None]:
        P = self.code.parts
        m = self.sampler.batch // P
        idx = torch.from_numpy(self.sampler.next()[: P * m]).to(self.data.x_train.device)
        x = self.data.x_train[idx].reshape(P, m, -1)
        y = self.data.y_train[idx].reshape(P, m)
        self.oracle.start(x, y)
        self.honest = self.code.honest_messages()
        if self.oracle.reference:  # the naive simulator: every worker computes on its own
            self.honest = [computed(self.oracle.compute, m) for m in self.honest]
        self.ranks, forged = self.adversary.attack(
            iteration, self.honest, self.oracle.materialize, self._relabeled
        )
        sent: list[Message | Delayed | None] = list(self.honest)
        self.rejected = set()
        theta = self.oracle.theta
        for rank, msg in forged.items():
            if msg is None:
                sent[rank] = None
                continue
            held = msg.seconds if isinstance(msg, Delayed) else 0.0
            body = msg.message if isinstance(msg, Delayed) else msg
            honest = self.honest[rank]
            ok = admit_as(body, honest, self.oracle.d, theta.dtype, self.code.parts, theta.device)
            if ok is None:
                self.rejected.add(rank)  # still sent (it costs network time), then dropped
            kept: Any = body if ok is None else ok  # a refused message still travels
            sent[rank] = Delayed(kept, held) if held > 0 else kept
        return sent

    def admitted(self, received: dict[int, Message]) -> dict[int, Message]:
        """What the PS keeps: malformed messages are erasures."""
        if not self.rejected:
            return received
        return {r: m for r, m in received.items() if r not in self.rejected}

    def decodable(self, received: dict[int, Message]) -> bool:
        return self.code.decodable(
            self.admitted(received), self.oracle.materialize, self.oracle.project
        )

    def aggregate(self, decoded: Decoded, rule: Aggregator | None = None) -> Combination | None:
        """The rule over the candidates; None when there are none or too few for the rule."""
        rule = self.rule if rule is None else rule
        cands = decoded.candidates
        if not cands or rule.invalid(len(cands)) is not None:
            return None
        if isinstance(rule, Linear):  # a weighted sum: honest candidates stay symbolic
            return weighted(rule.weights(len(cands)), cands)
        return Combination(None, rule(self.oracle.stack(cands)))

    def diagnostics(self, decoded: Decoded, applied: Combination | None) -> dict[str, Any]:
        """The rule's influence (adversarial candidates it kept) and geomed's iterations."""
        cands = decoded.candidates
        if applied is None:
            return dict(influence=0.0, geomed_iterations=math.nan)
        adversarial = [not isinstance(c, PartSum) for c in cands]  # honest ones stay symbolic
        if isinstance(self.rule, Linear):  # a linear rule keeps candidate i as k * w_i
            kept = len(cands) * torch.tensor(self.rule.weights(len(cands)), dtype=torch.float64)
            return dict(influence=influence(kept, adversarial), geomed_iterations=math.nan)
        report = self.rule.report
        steps = math.nan if report.iterations is None else report.iterations
        return dict(influence=influence(report.kept, adversarial), geomed_iterations=steps)

    def vector(self, c: Combination) -> torch.Tensor:
        if c.symbolic is None:
            return c.dense if c.dense is not None else self.oracle.theta.new_zeros(self.oracle.d)
        out = self.oracle.materialize(c.symbolic)
        return out if c.dense is None else out + c.dense

    def corrupted(
        self,
        decoded: Decoded,
        applied: Combination | None,
        received: dict[int, Message],
        rule: Aggregator,
    ) -> bool:
        """Ground truth only a simulator knows: does the applied update differ from the
        honest one? An iteration that applies no update (a decode failure, too few
        candidates for the rule) applied nothing corrupted: it is counted as what it is,
        never here. An update applied where the adversary-free arrivals would give none
        is corrupted.

        ``rule`` is the rule as it was before ``applied`` was computed (a stateful rule
        and a random pre-aggregator must start from the same state for the reference).
        """
        if not self.ranks or applied is None:
            return False
        senders = set(received) | set(self.ranks)
        honest = {i: self.honest[i] for i in sorted(senders)}
        truth = self.code.decode(honest, self.oracle.materialize, self.oracle.project)
        if _same_symbols(decoded.candidates, truth.candidates):
            return False  # the rule saw exactly the honest inputs: decided without tensors
        reference = self.aggregate(truth, rule)
        if reference is None:
            return True
        same = applied.same_as(reference, RELATIVE_TOLERANCE)
        if same is not None:
            return not same
        a, b = self.vector(applied), self.vector(reference)
        if bits_equal(a, b):
            return False
        err = torch.linalg.vector_norm((a - b).double())
        return not bool(err <= RELATIVE_TOLERANCE * torch.linalg.vector_norm(b.double()))

    def finish(self, iteration: int, arrived: dict[int, Message]) -> Outcome:
        received = self.admitted(arrived)
        decoded = self.code.decode(received, self.oracle.materialize, self.oracle.project)
        before = copy.deepcopy(self.rule) if self.ranks else self.rule
        applied = self.aggregate(decoded)
        corrupted = self.corrupted(decoded, applied, received, before)
        skipped = applied is None and bool(decoded.candidates)  # too few for the rule
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
        record = IterationRecord(
            iteration=iteration,
            loss=loss,
            test_loss=test_loss,
            accuracy=accuracy,
            adversaries=len(self.ranks),
            adversary_ranks=";".join(map(str, self.ranks)),
            received=len(received),
            decode_failures=decoded.failures + int(skipped),
            corrupted_updates=int(corrupted),
            suspects=";".join(map(str, sorted(decoded.suspects))),
            rejected=len(arrived) - len(received),
            **self.diagnostics(decoded, applied),
            attack=self.adversary.description,
            distorted_parts=distorted_parts(self.code, decoded, self.ranks),
        )
        return Outcome(
            record,
            decode_ops=self.code.decode_ops(len(received), d),
            aggregate_ops=0.0 if applied is None else self.rule.ops(len(decoded.candidates), d),
            diverged=diverged,
        )


def _same_symbols(a: list[Message], b: list[Message]) -> bool:
    """Both candidate lists are the same symbolic honest messages, in the same order."""
    return len(a) == len(b) and all(
        isinstance(x, PartSum) and isinstance(y, PartSum) and x.same_as(y)
        for x, y in zip(a, b, strict=True)
    )
