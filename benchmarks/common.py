"""Shared by the benchmarks: compose the real scenarios and time what users run."""

from __future__ import annotations

import time

from omegaconf import DictConfig

from sim.api import compose
from sim.build import build
from sim.runs.records import Summary
from sim.runs.session import Session


def make_cfg(*overrides: str) -> DictConfig:
    """The shipped config with ``overrides``, exactly as ``python -m sim`` composes it."""
    return compose(overrides)


def time_simulation(cfg: DictConfig) -> tuple[float, Summary]:
    """Seconds of the run itself (every iteration: DES, gradients, decoding, metrics),
    excluding one-time setup (data, model, building the world), and the run's summary."""
    session = Session(build(cfg), None, None)
    start = time.perf_counter()
    session.run()
    return time.perf_counter() - start, session.summary()
