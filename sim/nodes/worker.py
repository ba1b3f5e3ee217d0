"""A worker: receive the model, compute for its drawn time, send its message.

Its times in a round come from the PS's plan (:mod:`sim.nodes.ps`); here they become
the worker's trace lanes. Whatever is still under way when the PS stops waiting is
cancelled, and its span ends there.
"""

from __future__ import annotations

import math

from sim.network import worker_node
from sim.runs.trace import Trace


class Worker:
    def __init__(self, rank: int, trace: Trace) -> None:
        self.rank, self.trace = rank, trace
        self.node = worker_node(rank)

    def spans(
        self,
        iteration: int,
        start: float,
        model_at: float,
        done: float,
        sent_at: float,
        arrive: float,
        stop: float,
        used: bool,
    ) -> None:
        """Lanes of one traced round: downlink ``[start, model_at)``, compute
        ``[model_at, done)``, uplink ``[sent_at, arrive)`` (inf: sent nothing) after
        holding the message back during ``[done, sent_at)``, each cut at ``stop``;
        ``used``: the PS took this worker's message."""
        self._span("downlink", "receive model", start, model_at, stop, iteration)
        self._span("compute", "compute", model_at, done, stop, iteration)
        if math.isfinite(arrive):
            if sent_at > done:
                self._span("uplink", "hold message back", done, sent_at, stop, iteration)
            name = "send message" if used or arrive > stop else "send message (unused)"
            self._span("uplink", name, sent_at, arrive, stop, iteration)

    def _span(self, lane: str, name: str, a: float, b: float, stop: float, it: int) -> None:
        if a > stop or (a == stop and b > a):
            return  # never started before the PS moved on
        if b > stop:
            name, b = f"{name} (cancelled)", stop
        self.trace.span(self.node, lane, name, a, b, iteration=it)
