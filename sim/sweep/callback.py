"""The Hydra callback that marks a multirun's start and writes its summary at the end."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.report.painter import painter
from sim.runs.store import LAUNCH

log = logging.getLogger(__name__)


class SweepSummary(Callback):
    """``on_multirun_start``: a fresh launch id in the sweep dir, so the summary lists this
    multirun's jobs and not leftovers of an earlier, larger one; the figure process starts
    (it imports matplotlib while the jobs run). ``on_multirun_end``: the sweep's tables
    (``summary.csv``, ``summary_seeds.csv``, ``summary.md``) and comparison figures
    (accuracy against simulated time, time to target accuracy, accuracy heatmap)."""

    def __init__(self) -> None:
        self.sweep_dir: Path | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        where = str(config.hydra.sweep.dir)
        if not where.strip():
            return  # refused by the sweeper, which says why
        self.sweep_dir = Path(where)
        with contextlib.suppress(OSError):  # an unusable dir: the sweeper says why
            self.sweep_dir.mkdir(parents=True, exist_ok=True)
            (self.sweep_dir / LAUNCH).write_text(json.dumps({"id": uuid.uuid4().hex}) + "\n")
        painter()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from sim.report.sweep import write_sweep_report  # plotting only when a sweep ends

        sweep_dir = self.sweep_dir or Path(str(config.hydra.sweep.dir))
        paths = write_sweep_report(sweep_dir, drawer=painter())
        log.info("Sweep summary: %s", ", ".join(str(p) for p in paths))
