"""A worker: receive the model, compute for its drawn time, send its message."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.messages import Late
from sim.network import PS, Network, worker_node
from sim.trace import Trace


class Worker:
    def __init__(self, env: simpy.Environment, rank: int, network: Network, trace: Trace) -> None:
        self.env, self.rank, self.network, self.trace = env, rank, network, trace
        self.node = worker_node(rank)

    def serve(
        self,
        iteration: int,
        inbox: simpy.Store,
        model_bytes: int,
        compute_s: float,
        message: Any,
        message_bytes: int,
        traced: bool,
    ) -> Generator[Any, Any, None]:
        """One iteration; ``message is None`` means this worker sends nothing.

        A :class:`~sim.messages.Late` message waits its ``delay_s`` before the upload.
        """
        env, lane, start = self.env, "downlink", self.env.now
        try:
            yield env.process(self.network.send(PS, self.node, model_bytes))
            self._span(traced, lane, "receive model", start, iteration)
            lane, start = "compute", env.now
            yield env.timeout(compute_s)
            self._span(traced, lane, "compute", start, iteration)
            if message is None:
                return
            if isinstance(message, Late):
                lane, start = "compute", env.now  # idle on purpose, not computing
                yield env.timeout(message.delay_s)
                self._span(traced, lane, "delay (adversarial)", start, iteration)
                message = message.message
            lane, start = "uplink", env.now
            yield env.process(self.network.send(self.node, PS, message_bytes))
            self._span(traced, lane, "send gradient", start, iteration)
            inbox.put((self.rank, message))
        except simpy.Interrupt:
            self._span(traced, lane, f"{lane} (cancelled)", start, iteration)

    def _span(self, traced: bool, lane: str, name: str, start: float, iteration: int) -> None:
        if traced:
            self.trace.span(self.node, lane, name, start, self.env.now, iteration=iteration)
