"""The SimPy world: PS, workers and network wired together; runs the rounds, writes outputs."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import simpy
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from sim import checkpoint
from sim.build import Parts, build, rng
from sim.errors import InputFileError
from sim.interrupt import Interrupted, Stop, graceful
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
    """The run: SimPy clock, nodes and outputs; resumable from a checkpoint ``payload``."""

    def __init__(
        self, cfg: DictConfig, parts: Parts, out_dir: Path, payload: dict[str, Any] | None = None
    ) -> None:
        self.cfg, self.parts, self.out_dir = cfg, parts, out_dir
        n = cfg.cluster.workers
        saved = payload["world"] if payload is not None else {}
        self.first = int(saved.get("iteration", 0))
        self.wall_before = float(saved.get("wall_s", 0.0))
        self.env = simpy.Environment(initial_time=float(saved.get("now", 0.0)))
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
        self.checkpoint_path = out_dir / checkpoint.FILE
        self.checkpoint_at: int | None = None
        self.checkpoint_due = False
        self.stop = Stop()
        if payload is not None:
            checkpoint.apply(payload, self.holders(), self.checkpoint_path)
            self.checkpoint_at = self.first
        keep = self.first if payload is not None else None
        self.metrics = MetricsWriter(out_dir / "metrics.csv", keep=keep)
        self.bar = tqdm(
            total=cfg.train.iterations,
            initial=self.first,
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
            return False
        every = self.cfg.checkpoint.every
        self.checkpoint_due |= every > 0 and (it + 1) % every == 0
        if self.stop.requested and it + 1 < self.cfg.train.iterations:
            self.status = "interrupted"
            self.save_checkpoint(it + 1, end)
            return False
        if self.checkpoint_due:
            self.save_checkpoint(it + 1, end)
        return True

    # ------------------------------------------------------------------ checkpoints

    def holders(self) -> dict[str, Any]:
        """Every object whose state decides the rest of the run (see :mod:`sim.checkpoint`)."""
        roots = {"learning": self.parts.learning, "latency": self.parts.latency}
        return checkpoint.stateful({**roots, "ps": self.ps, "trace": self.trace})

    def save_checkpoint(self, next_iteration: int, now: float) -> None:
        """Between rounds nothing is in flight (the PS cancels what it no longer waits
        for), so the holders' state and the clock are the whole future."""
        world = {
            "iteration": next_iteration,
            "now": now,
            "wall_s": self.wall_before + time.perf_counter() - self.wall_start,
            "config": fingerprint(self.cfg),
        }
        checkpoint.save(self.checkpoint_path, world, self.holders())
        self.checkpoint_at, self.checkpoint_due = next_iteration, False

    # ------------------------------------------------------------------ running

    wall_start = 0.0

    def run(self) -> dict[str, Any]:
        """Run the remaining iterations; a signal or an error still leaves valid outputs."""
        self.wall_start = time.perf_counter()
        process = self.ps.run(self.cfg.train.iterations, first=self.first)
        try:
            with graceful() as self.stop:
                self.env.run(until=self.env.process(process))
        except Interrupted as sig:  # a second signal: stop where we are
            self.status, self.stop.signum = "interrupted", sig.signum
        except BaseException as exc:  # a bug or a crash: say so, keep what was done
            self.status = "failed"
            self.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.metrics.close()
            self.bar.close()
            self.wall_s = self.wall_before + time.perf_counter() - self.wall_start
        return self.summary(self.wall_s)

    error: str | None = None
    wall_s = 0.0

    def summary(self, wall_s: float) -> dict[str, Any]:
        rows = self.metrics.rows
        last = rows[-1] if rows else None
        learning = self.parts.learning
        corrupted = sum(r.corrupted_updates for r in rows)
        failures = sum(r.decode_failures for r in rows)
        if isinstance(learning, TimingOnly):  # no values: nothing decoded, nothing learnt
            d, digest, held = learning.d, None, None
        else:
            d, digest = learning.oracle.d, learning.oracle.digest()
            held = corrupted == 0 and failures == 0
        nan = math.nan
        return {
            "status": self.status,
            "iterations": len(rows),
            "sim_time_s": last.sim_time_s if last else 0.0,
            "wall_time_s": wall_s,
            "final_loss": last.test_loss if last else nan,
            "final_train_loss": last.loss if last else nan,
            "final_accuracy": last.accuracy if last else nan,
            "decode_failures": failures,
            "corrupted_updates": corrupted,
            "iterations_with_adversaries": sum(1 for r in rows if r.adversaries),
            "guarantee_held": held,
            "parameters": d,
            "model_digest": digest,
            "workload": self.cfg.workload.value,
            "mean_iteration_time_s": last.sim_time_s / len(rows) if last else nan,
            "rejected_messages": sum(r.rejected for r in rows),
            "signal": self.stop.name,
            "error": self.error,
            "resumed_from": self.first if self.first else None,
            "checkpoint_iteration": self.checkpoint_at,
        }


def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def dumps(summary: dict[str, Any]) -> str:
    """Strict JSON: a non-finite number (a diverged model's loss) becomes null."""
    return json.dumps({k: _finite(v) for k, v in summary.items()}, indent=2) + "\n"


def fingerprint(cfg: DictConfig) -> dict[str, Any]:
    """The settings a resumed run must share with the run it continues."""
    plain = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    assert isinstance(plain, dict)
    return {str(k): v for k, v in plain.items() if k not in RESUMABLE_CHANGES}


RESUMABLE_CHANGES = ("resume", "progress", "checkpoint")  # may differ between the sessions


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix[:-1]: d}
    return {k: v for key, sub in d.items() for k, v in _flat(sub, f"{prefix}{key}.").items()}


def resume_payload(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """The run dir's checkpoint, checked against ``cfg``."""
    path = out_dir / checkpoint.FILE
    payload = checkpoint.load(path)
    then, now = _flat(payload["world"].get("config", {})), _flat(fingerprint(cfg))
    differ = sorted(k for k in then.keys() | now.keys() if then.get(k) != now.get(k))
    if differ:
        shown = ", ".join(f"{k}={then.get(k)} (now {now.get(k)})" for k in differ[:3])
        raise InputFileError(
            "resume", path, f"the checkpoint was made with other settings: {shown}"
        )
    return payload


def _save_figure(draw: Callable[[Path], None], path: Path) -> None:
    """Draw into a temporary file, then rename: a figure is whole or absent."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    draw(tmp)
    if tmp.exists():  # a figure with nothing to show is not written
        os.replace(tmp, path)


def simulate(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Build, run and write every output of one scenario into ``out_dir``.

    With ``resume=true`` the run continues from ``out_dir``'s checkpoint; otherwise a
    checkpoint left there by an earlier run is removed first.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = resume_payload(cfg, out_dir) if cfg.resume else None
    parts = build(cfg)
    if payload is None:
        (out_dir / checkpoint.FILE).unlink(missing_ok=True)
    write_atomic(out_dir / "config.yaml", OmegaConf.to_yaml(cfg))
    world = World(cfg, parts, out_dir, payload)
    try:
        summary = world.run()
    except BaseException:
        write_atomic(out_dir / "summary.json", dumps(world.summary(world.wall_s)))
        raise
    write_atomic(out_dir / "trace.json", world.trace.to_json())
    rows = world.metrics.rows
    if rows and not isinstance(parts.learning, TimingOnly):
        _save_figure(lambda tmp: training_curves(rows, tmp), out_dir / "training.png")
    draw = cfg.trace

    def _timeline(tmp: Path) -> None:
        timeline(world.trace, rows, tmp, iterations=draw.timeline_iterations,
                 workers=draw.timeline_workers)  # fmt: skip

    if rows:
        _save_figure(_timeline, out_dir / "timeline.png")
    write_report(out_dir, summary)
    write_atomic(out_dir / "summary.json", dumps(summary))  # last: the run's outputs are complete
    return summary
