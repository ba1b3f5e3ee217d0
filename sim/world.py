"""The SimPy world: PS, workers and network wired together; runs the rounds, writes outputs."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import simpy
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from sim.build import Parts, build, rng
from sim.network import PS, Network
from sim.nodes.ps import Outcome, ParameterServer, WaitPolicy
from sim.nodes.worker import Worker
from sim.report.html import write_report
from sim.report.plots import training_curves
from sim.report.timeline import timeline
from sim.timing import TimingOnly
from sim.trace import IterationRecord, MetricsWriter, Trace, write_atomic


def traced_iterations(cfg: DictConfig, network: Network) -> int:
    """``trace.iterations``, fewer when a round's spans would pass ``trace.max_spans``."""
    n, hops = cfg.cluster.workers, network.down.shape[1]
    per_round = n * (3 + 2 * hops) + 3  # worker lanes, link holds, the PS's lanes
    fit = max(1, cfg.trace.max_spans // per_round)
    return min(cfg.trace.iterations, cfg.train.iterations, fit)


class World:
    def __init__(self, cfg: DictConfig, parts: Parts, out_dir: Path) -> None:
        self.cfg, self.parts, self.out_dir = cfg, parts, out_dir
        n = cfg.cluster.workers
        self.env = simpy.Environment()
        self.network = Network(parts.graph, n)
        self.trace = Trace(limit=traced_iterations(cfg, self.network))
        self.trace.pid(PS)  # the PS's lanes first, then the workers', then the links'
        self.workers = [Worker(i, self.trace) for i in range(n)]
        wait = WaitPolicy(cfg.ps.wait, cfg.ps.k or n, cfg.ps.deadline_s)
        self.ps = ParameterServer(
            self.env,
            self.workers,
            self.network,
            parts.learning,
            parts.latency,
            rng(parts.seeds["latency"]),
            wait,
            cfg.ps.flops,
            self.trace,
            self._on_iteration,
        )
        self.metrics = MetricsWriter(out_dir / "metrics.csv")
        self.bar = tqdm(
            total=cfg.train.iterations,
            desc="iterations",
            unit="it",
            disable=None if cfg.progress else True,
            leave=False,
        )

    status = "completed"

    def _on_iteration(self, it: int, start: float, end: float, outcome: Outcome) -> bool:
        rec = IterationRecord(
            iteration=it,
            sim_time_s=end,
            iteration_time_s=end - start,
            decode_s=outcome.decode_ops / self.cfg.ps.flops,
            aggregate_s=outcome.aggregate_ops / self.cfg.ps.flops,
            **outcome.fields,
        )
        self.metrics.write(rec)
        self.bar.update(1)
        if not math.isnan(rec.accuracy):
            self.bar.set_postfix(loss=f"{rec.loss:.3f}", acc=f"{rec.accuracy:.3f}")
        if outcome.diverged:
            self.status = "diverged"
        return not outcome.diverged

    def run(self) -> dict[str, Any]:
        wall = time.perf_counter()
        try:
            self.env.run(until=self.env.process(self.ps.run(self.cfg.train.iterations)))
        finally:
            self.metrics.close()
            self.bar.close()
        return self.summary(time.perf_counter() - wall)

    def summary(self, wall_s: float) -> dict[str, Any]:
        rows = self.metrics.rows
        last = rows[-1]
        learning = self.parts.learning
        corrupted = sum(r.corrupted_updates for r in rows)
        failures = sum(r.decode_failures for r in rows)
        if isinstance(learning, TimingOnly):  # no values: nothing decoded, nothing learnt
            d, digest, held = learning.d, None, None
        else:
            d, digest = learning.oracle.d, learning.oracle.digest()
            held = corrupted == 0 and failures == 0
        return {
            "status": self.status,
            "iterations": len(rows),
            "sim_time_s": last.sim_time_s,
            "wall_time_s": wall_s,
            "final_loss": last.test_loss,
            "final_train_loss": last.loss,
            "final_accuracy": last.accuracy,
            "decode_failures": failures,
            "corrupted_updates": corrupted,
            "iterations_with_adversaries": sum(1 for r in rows if r.adversaries),
            "guarantee_held": held,
            "parameters": d,
            "model_digest": digest,
            "workload": self.cfg.workload.value,
            "mean_iteration_time_s": last.sim_time_s / len(rows),
        }


def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def dumps(summary: dict[str, Any]) -> str:
    """Strict JSON: a non-finite number (a diverged model's loss) becomes null."""
    return json.dumps({k: _finite(v) for k, v in summary.items()}, indent=2) + "\n"


def simulate(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Build, run and write every output of one scenario into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = build(cfg)
    world = World(cfg, parts, out_dir)
    summary = world.run()
    write_atomic(out_dir / "summary.json", dumps(summary))
    write_atomic(out_dir / "trace.json", world.trace.to_json())
    write_atomic(out_dir / "config.yaml", OmegaConf.to_yaml(cfg))
    if not isinstance(parts.learning, TimingOnly):
        training_curves(world.metrics.rows, out_dir / "training.png")
    timeline(
        world.trace,
        world.metrics.rows,
        out_dir / "timeline.png",
        iterations=cfg.trace.timeline_iterations,
        workers=cfg.trace.timeline_workers,
    )
    write_report(out_dir)
    return summary
