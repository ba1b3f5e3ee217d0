"""The SimPy world: PS, workers and network wired together; runs the rounds, writes outputs."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import simpy
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from sim import checkpoint
from sim.build import Parts, build, rng
from sim.errors import InputFileError
from sim.interrupt import Interrupted, Stop, graceful
from sim.network import Network
from sim.nodes.ps import Outcome, ParameterServer, WaitPolicy
from sim.nodes.worker import Worker
from sim.report.plots import training_curves
from sim.trace import IterationRecord, MetricsWriter, Trace, write_atomic


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
        self.trace = Trace(limit=min(cfg.train.iterations, 20))
        self.network = Network(self.env, parts.graph, n)
        self.network.on_link = self._link_span
        self.workers = [Worker(self.env, i, self.network, self.trace) for i in range(n)]
        wait = WaitPolicy(cfg.ps.wait, cfg.ps.k or n, cfg.ps.deadline_s)
        self.ps = ParameterServer(
            self.env,
            self.workers,
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
            self._trace_until = float(saved["trace_until"])
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

    def _link_span(self, hop: tuple[str, str], start: float, end: float) -> None:
        if self.env.now <= self._trace_until:
            self.trace.span("network", f"{hop[0]}->{hop[1]}", "transfer", start, end)

    _trace_until = math.inf
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
        if it + 1 == self.trace.limit:
            self._trace_until = end
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

    def quiescent(self) -> bool:
        """No transfer in flight: nothing but the saved state carries into the next round."""
        return all(
            not link.busy.users and not link.busy.queue for link in self.network.links.values()
        )

    def save_checkpoint(self, next_iteration: int, now: float) -> None:
        if not self.quiescent():  # a straggler still holds a link: try after the next round
            self.checkpoint_due = True
            self.deferred += 1
            return
        world = {
            "iteration": next_iteration,
            "now": now,
            "trace_until": self._trace_until,
            "wall_s": self.wall_before + time.perf_counter() - self.wall_start,
            "config": fingerprint(self.cfg),
        }
        checkpoint.save(self.checkpoint_path, world, self.holders())
        self.checkpoint_at, self.checkpoint_due = next_iteration, False

    # ------------------------------------------------------------------ running

    wall_start = 0.0
    deferred = 0  # checkpoints put off because transfers were still in flight

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
            "guarantee_held": corrupted == 0 and failures == 0,
            "parameters": learning.oracle.d,
            "model_digest": learning.oracle.digest(),
            "rejected_messages": sum(r.rejected for r in rows),
            "signal": self.stop.name,
            "error": self.error,
            "resumed_from": self.first if self.first else None,
            "checkpoint_iteration": self.checkpoint_at,
            "checkpoints_deferred": self.deferred,
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


def _save_figure(rows: list[Any], path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    training_curves(rows, tmp)
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
    if world.metrics.rows:
        _save_figure(world.metrics.rows, out_dir / "training.png")
    write_atomic(out_dir / "summary.json", dumps(summary))  # last: the run's outputs are complete
    return summary
