"""The parameter server: broadcast, wait, decode, aggregate, update — one round at a time.

A round on the simulated clock (docs/architecture.md, "Time"):

1. the model goes to every worker over the network (:meth:`Network.broadcast`);
2. worker ``i`` computes for ``(overhead + load_i x draw_i) x speed_i`` seconds
   (:mod:`sim.latency`);
3. it sends its message back (:meth:`Network.gather`), or nothing (omission), or
   holds it back first (:class:`sim.messages.Delayed`, a timing attack);
4. the PS takes messages in arrival order until its wait policy is met or nothing more
   can come; the workers it no longer waits for are cancelled;
5. it decodes and aggregates, each for ``ops / ps.flops`` seconds, and updates.

Within a round nothing but these transfers and computations happens, so their times
follow from the draws and the network's FIFO links without an event per transfer; the
PS process then spends the round's time on the SimPy clock.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import simpy

from sim.config.errors import SimulationError
from sim.config.schema import Wait
from sim.latency import LatencyModel
from sim.messages import Delayed
from sim.network import PS, Network, Transfers
from sim.nodes.worker import Worker
from sim.runs.records import IterationRecord, Outcome
from sim.runs.trace import Trace

OnRecord = Callable[[IterationRecord, bool], bool]  # (record, diverged) -> go on?


class RoundMath(Protocol):
    """The numbers behind a round; the PS only moves them and spends time."""

    model_bytes: int

    def prepare(self, iteration: int) -> list[Any]:
        """What each worker sends this iteration; ``None``: it sends nothing."""
        ...

    def message_bytes(self) -> int: ...
    def load(self, rank: int) -> int: ...
    def decodable(self, received: dict[int, Any]) -> bool:
        """Called once per arrival, ``received`` grown by that arrival (insertion order)."""
        ...

    def counterfactual(self) -> list[Any] | None:
        """What every worker would have sent this iteration had all of them followed the
        protocol; None when there is no ground truth to compare with (no adversary this
        iteration, or no values at all)."""
        ...

    def finish(
        self, iteration: int, received: dict[int, Any], reference: list[int] | None
    ) -> Outcome:
        """Decode, aggregate, update. ``reference``: the ranks the PS would have used
        had every worker followed the protocol (None: no counterfactual)."""
        ...


@dataclass
class WaitPolicy:
    kind: Wait
    k: int
    deadline_s: float


@dataclass
class Round:
    """The times of one round, in seconds on the simulated clock."""

    iteration: int
    start: float
    model_at: np.ndarray  # (n,) the model reached each worker
    done: np.ndarray  # (n,) compute finished
    sent_at: np.ndarray  # (n,) the message left (later than done for a Delayed one)
    arrive: np.ndarray  # (n,) the message reached the PS; inf: nothing sent
    stop: float = math.nan  # the PS stopped waiting
    received: dict[int, Any] = field(default_factory=dict)
    transfers: list[Transfers] = field(default_factory=list)  # traced rounds only
    # the ranks the PS would have used had every worker followed the protocol (same
    # draws, same clock); None when no one deviated
    reference: list[int] | None = None


@dataclass
class ParameterServer:
    """The PS of one run, with the workers, links and compute-time model it drives."""

    workers: list[Worker]
    network: Network
    math: RoundMath
    latency: LatencyModel
    speeds: np.ndarray  # (n,) persistent speed factors
    overhead_s: float  # compute seconds per iteration whatever the load
    rng: np.random.Generator  # the latency stream
    wait: WaitPolicy
    flops: float  # scalar operations per second (the PS's cost model)
    trace: Trace

    def __post_init__(self) -> None:
        self.n = len(self.workers)
        self.loads = np.array([self.math.load(w.rank) for w in self.workers], dtype=float)

    def rounds(
        self, env: simpy.Environment, first: int, last: int, on_record: OnRecord
    ) -> Generator[Any, Any, None]:
        """Iterations ``first .. last-1`` on ``env``'s clock; stops early when
        ``on_record`` says so."""
        for it in range(first, last):
            traced = it < self.trace.limit
            start = env.now
            rnd = self.plan(it, start, traced)
            yield env.timeout(rnd.stop - rnd.start)
            if traced:
                self.record(rnd)
            outcome = self.math.finish(it, rnd.received, rnd.reference)
            yield from self.busy(env, "decode", outcome.decode_ops, it, traced)
            yield from self.busy(env, "aggregate", outcome.aggregate_ops, it, traced)
            rec = dataclasses.replace(
                outcome.record,
                sim_time_s=env.now,
                iteration_time_s=env.now - start,
                decode_s=outcome.decode_ops / self.flops,
                aggregate_s=outcome.aggregate_ops / self.flops,
            )
            if not on_record(rec, outcome.diverged):
                return

    def plan(self, it: int, start: float, traced: bool) -> Round:
        """Steps 1-4 of a round starting at ``start``: who delivers when, and when the PS
        stops waiting."""
        sent = self.math.prepare(it)
        with np.errstate(over="ignore"):
            draw = self.latency.draw(self.rng, self.n, it)
            compute_s = (self.overhead_s + self.loads * draw) * self.speeds
        if not np.isfinite(compute_s).all():
            worst = int(np.argmax(~np.isfinite(compute_s)))
            raise SimulationError(
                f"iteration {it}: worker {worst}'s compute time overflows the "
                f"simulated clock (overhead + load {self.loads[worst]:g} x latency draw, "
                f"times its speed factor, is not a finite number of seconds); lower the "
                f"latency settings"
            )
        model_at, down = self.network.broadcast(start, self.math.model_bytes, traced)
        done = model_at + compute_s
        silent, held = np.zeros(self.n, dtype=bool), np.zeros(self.n)
        for rank, m in enumerate(sent):
            if m is None:
                silent[rank] = True
            elif isinstance(m, Delayed):
                held[rank], sent[rank] = m.seconds, m.message
        sent_at = done + held
        arrive, up = self.network.gather(
            np.where(silent, math.inf, sent_at), self.math.message_bytes(), traced
        )
        rnd = Round(it, start, model_at, done, sent_at, arrive, transfers=down + up)
        self.collect(rnd, sent, np.where(silent, done, arrive).max())
        if not math.isfinite(rnd.stop):
            raise SimulationError(
                f"iteration {it}: the simulated clock overflows (the round would end at "
                f"{rnd.stop} s); lower the latency settings"
            )
        honest = self.math.counterfactual()
        if honest is not None:
            rnd.reference = self.would_use(rnd, honest)
        return rnd

    def would_use(self, rnd: Round, honest: list[Any]) -> list[int]:
        """The ranks the PS would have used in ``rnd`` had every worker sent its honest
        message as soon as it was computed: the same draws, links and wait policy."""
        arrive, _ = self.network.gather(rnd.done, self.math.message_bytes())
        twin = Round(rnd.iteration, rnd.start, rnd.model_at, rnd.done, rnd.done, arrive)
        self.collect(twin, honest, float(arrive.max()))
        return list(twin.received)

    def busy(
        self, env: simpy.Environment, lane: str, ops: float, it: int, traced: bool
    ) -> Generator[Any, Any, None]:
        start = env.now
        yield env.timeout(ops / self.flops)
        if traced and ops > 0:
            self.trace.span(PS, lane, lane, start, env.now, iteration=it)

    def enough(self, received: dict[int, Any]) -> bool:
        kind = self.wait.kind
        if len(received) == self.n:
            return True
        if kind is Wait.first_k:
            return len(received) >= self.wait.k
        if kind is Wait.decodable:
            return self.math.decodable(received)
        return False

    def collect(self, rnd: Round, sent: list[Any], all_done: float) -> None:
        """Messages in arrival order (ties by rank) until the wait policy is met or nothing
        more can come (every worker has delivered or finished without sending).

        Fills ``rnd.received`` and ``rnd.stop``. Counting policies find their message by
        position; ``decodable`` asks the math once per arrival. O(n log n) per round.
        """
        deadline = math.inf
        if self.wait.kind is Wait.deadline:
            deadline = rnd.start + self.wait.deadline_s
        order = np.argsort(rnd.arrive, kind="stable")
        times = rnd.arrive[order]
        finite = int(np.isfinite(times).sum())
        arrived = min(finite, int(np.searchsorted(times, deadline, side="right")))
        ranks: list[int] = order[:arrived].tolist()
        if self.wait.kind is Wait.decodable:
            last = self._first_enough(rnd.received, ranks, sent)
        else:
            need = self.wait.k if self.wait.kind is Wait.first_k else self.n
            last = need - 1 if need <= arrived else None
        if last is not None:
            ranks, rnd.stop = ranks[: last + 1], float(times[last])
        else:
            rnd.stop = min(deadline, max(all_done, rnd.start))
        rnd.received.update(zip(ranks, map(sent.__getitem__, ranks), strict=True))

    def _first_enough(
        self, received: dict[int, Any], ranks: list[int], sent: list[Any]
    ) -> int | None:
        """Position of the arrival after which the policy is met, or None."""
        for pos, rank in enumerate(ranks):
            received[rank] = sent[rank]
            if self.enough(received):
                return pos
        return None

    def record(self, rnd: Round) -> None:
        """Trace spans of a finished wait: workers' lanes, links, the PS's wait."""
        it, stop, shown = rnd.iteration, rnd.stop, self.trace.workers
        for w in self.workers[:shown]:
            i = w.rank
            w.spans(
                it,
                rnd.start,
                float(rnd.model_at[i]),
                float(rnd.done[i]),
                float(rnd.sent_at[i]),
                float(rnd.arrive[i]),
                stop,
                used=i in rnd.received,
            )
        names: dict[int, str] = {}
        for tr in rnd.transfers:
            label = "model to w" if tr.what == "model" else "message from w"
            keep = (tr.start < stop) & (tr.rank < shown)
            for link, rank, s, e in zip(
                tr.link[keep].tolist(),
                tr.rank[keep].tolist(),
                tr.start[keep].tolist(),
                np.minimum(tr.end[keep], stop).tolist(),
                strict=True,
            ):
                if link not in names:
                    names[link] = self.network.link_name(link)
                self.trace.span("network", names[link], f"{label}{rank}", s, e, iteration=it)
        self.trace.span(
            PS,
            "wait",
            "wait for messages",
            rnd.start,
            stop,
            iteration=it,
            received=len(rnd.received),
        )
