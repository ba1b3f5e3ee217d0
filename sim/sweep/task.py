"""What ``python -m sim`` does around one run: cap CPU threads, resume inside a multirun."""

from __future__ import annotations

from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.sweep.resume import Simulate, Summary, resumable
from sim.sweep.threads import cap_threads


def run_job(cfg: DictConfig, simulate: Simulate) -> tuple[Path, Summary]:
    """Run (or, in a multirun, reuse) the scenario in Hydra's output dir; return both."""
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    threads = cap_threads(cfg.threads, hydra_cfg.launcher)
    if hydra_cfg.mode is RunMode.MULTIRUN:
        sweep_dir = Path(hydra_cfg.sweep.dir)
        return out_dir, resumable(cfg, out_dir, sweep_dir, simulate, threads)
    return out_dir, simulate(cfg, out_dir)
