"""The parameter server: broadcast, wait, decode, aggregate, update — one round at a time."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import simpy

from sim.config import Wait
from sim.latency import LatencyModel
from sim.network import PS
from sim.nodes.worker import Worker
from sim.trace import Trace


@dataclass
class Outcome:
    """What the PS's math produced in one iteration (see :mod:`sim.protocol`)."""

    decode_ops: float
    aggregate_ops: float
    fields: dict[str, Any]  # metric columns filled by the protocol
    diverged: bool = False  # the model is no longer finite: the run stops here


class RoundMath(Protocol):
    """The numbers behind a round; the PS only moves them and spends time."""

    model_bytes: int

    def prepare(self, iteration: int) -> list[Any]: ...
    def message_bytes(self) -> int: ...
    def load(self, rank: int) -> int: ...
    def decodable(self, received: dict[int, Any]) -> bool: ...
    def finish(self, iteration: int, received: dict[int, Any]) -> Outcome: ...


@dataclass
class WaitPolicy:
    kind: Wait
    k: int
    deadline_s: float


class ParameterServer:
    def __init__(
        self,
        env: simpy.Environment,
        workers: list[Worker],
        math: RoundMath,
        latency: LatencyModel,
        rng: np.random.Generator,
        wait: WaitPolicy,
        flops: float,
        trace: Trace,
        on_iteration: Callable[[int, float, float, Outcome], bool],
    ) -> None:
        self.env, self.workers, self.math = env, workers, math
        self.latency, self.rng, self.wait, self.flops = latency, rng, wait, flops
        self.trace, self.on_iteration = trace, on_iteration
        self.speeds = latency.speeds(len(workers))
        self.loads = np.array([math.load(w.rank) for w in workers], dtype=float)

    def run(self, iterations: int) -> Generator[Any, Any, None]:
        for it in range(iterations):
            start = self.env.now
            traced = it < self.trace.limit
            sent = self.math.prepare(it)
            compute_s = (
                self.loads * self.latency.draw(self.rng, len(self.workers), it) * self.speeds
            )
            inbox = simpy.Store(self.env)
            size = self.math.message_bytes()
            procs = [
                self.env.process(
                    w.serve(
                        it,
                        inbox,
                        self.math.model_bytes,
                        float(compute_s[w.rank]),
                        sent[w.rank],
                        size,
                        traced,
                    )
                )
                for w in self.workers
            ]
            received: dict[int, Any] = yield from self.collect(inbox, procs, start)
            if traced:
                self.trace.span(
                    PS,
                    "wait",
                    "wait for messages",
                    start,
                    self.env.now,
                    iteration=it,
                    received=len(received),
                )
            for p in procs:
                if p.is_alive:
                    p.interrupt("iteration over")
            outcome = self.math.finish(it, received)
            yield from self.busy("decode", outcome.decode_ops, it, traced)
            yield from self.busy("aggregate", outcome.aggregate_ops, it, traced)
            if not self.on_iteration(it, start, self.env.now, outcome):
                return

    def busy(self, lane: str, ops: float, it: int, traced: bool) -> Generator[Any, Any, None]:
        start = self.env.now
        yield self.env.timeout(ops / self.flops)
        if traced and ops > 0:
            self.trace.span(PS, lane, lane, start, self.env.now, iteration=it)

    def enough(self, received: dict[int, Any]) -> bool:
        kind = self.wait.kind
        if len(received) == len(self.workers):
            return True
        if kind is Wait.first_k:
            return len(received) >= self.wait.k
        if kind is Wait.decodable:
            return self.math.decodable(received)
        return False

    def _join(self, procs: list[simpy.Process]) -> Generator[Any, Any, None]:
        yield self.env.all_of(procs)

    def collect(
        self, inbox: simpy.Store, procs: list[simpy.Process], start: float
    ) -> Generator[Any, Any, dict[int, Any]]:
        """Messages in arrival order until the wait policy is met or nothing more can come."""
        received: dict[int, Any] = {}
        # A Process, not a bare Condition: SimPy strips a Condition nested in any_of of its
        # callbacks once the any_of fires, so a nested all_of would never trigger.
        everyone_done = self.env.process(self._join(procs))
        deadline = None
        if self.wait.kind is Wait.deadline:
            deadline = self.env.timeout(max(0.0, start + self.wait.deadline_s - self.env.now))
        while not self.enough(received):
            get = inbox.get()
            wake = [get, everyone_done] + ([deadline] if deadline is not None else [])
            yield self.env.any_of(wake)
            if get.triggered:
                rank, msg = get.value  # type: ignore[misc]  # the Store holds (rank, message)
                received[rank] = msg
                continue
            get.cancel()
            if everyone_done.triggered:
                for rank, msg in inbox.items:
                    received[rank] = msg
            break
        return received
