"""Shared by the benchmarks: compose the real scenarios and time what users run."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from sim.build import build
from sim.config import register
from sim.world import World

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
register()


def make_cfg(*overrides: str) -> DictConfig:
    """The shipped config with ``overrides``, exactly as ``python -m sim`` composes it."""
    with initialize_config_dir(config_dir=str(SCENARIOS), version_base="1.3"):
        return compose("config", overrides=list(overrides))


def time_simulation(cfg: DictConfig) -> tuple[float, dict]:
    """Seconds of ``World.run()`` (every iteration: DES, gradients, decoding, metrics),
    excluding one-time setup (data, model, building the world), and the run's summary."""
    parts = build(cfg)
    with tempfile.TemporaryDirectory() as out:
        world = World(cfg, parts, Path(out))
        start = time.perf_counter()
        summary = world.run()
        return time.perf_counter() - start, summary
