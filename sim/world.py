"""The world: a built run, whose only job is to advance the simulated clock.

:func:`sim.build.build` wires the PS, its workers, the network, the round's math and
the trace into a :class:`World`; :meth:`World.run` puts the PS's rounds on a fresh SimPy
clock and hands every iteration's record to a callback. Files, signals and checkpoints
are the run session's (:mod:`sim.runs.session`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import simpy
from omegaconf import DictConfig

from sim.nodes.ps import OnRecord, ParameterServer, RoundMath
from sim.runs import checkpoint
from sim.runs.trace import Trace
from sim.timing import TimingOnly


@dataclass
class World:
    ps: ParameterServer
    iterations: int
    cfg: DictConfig  # the typed, checked config it was built from

    @property
    def math(self) -> RoundMath:
        """The round's numbers: real gradients (:class:`~sim.protocol.Learning`) or sizes
        only (:class:`~sim.timing.TimingOnly`)."""
        return self.ps.math

    @property
    def trace(self) -> Trace:
        return self.ps.trace

    @property
    def timing_only(self) -> bool:
        return isinstance(self.ps.math, TimingOnly)

    def run(self, first: int, start_s: float, on_record: OnRecord) -> None:
        """Iterations ``first ..`` on a clock that starts at ``start_s`` (a resumed run
        continues its clock), until the last one or until ``on_record`` says stop."""
        env = simpy.Environment(initial_time=start_s)
        env.run(until=env.process(self.ps.rounds(env, first, self.iterations, on_record)))

    def parameters(self) -> int:
        math: Any = self.ps.math
        return int(math.d) if self.timing_only else int(math.oracle.d)

    def digest(self) -> str | None:
        """SHA-256 of the model's parameters; None when there is no model (timing only)."""
        return None if self.timing_only else str(self.ps.math.oracle.digest())  # type: ignore[attr-defined]

    def holders(self) -> dict[str, Any]:
        """Every object whose state decides the rest of the run (see :mod:`sim.runs.checkpoint`)."""
        ps = self.ps
        roots = {"learning": ps.math, "latency": ps.latency, "ps": ps, "trace": ps.trace}
        return checkpoint.stateful(roots)
