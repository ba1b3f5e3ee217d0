"""One run, from a config to its outputs: build, resume, run, write.

:func:`execute` runs a built :class:`~sim.world.World` (or builds one), streaming each
iteration's record into the sink. Ctrl-C and SIGTERM stop it cleanly between iterations
(:mod:`sim.runs.interrupt`): a checkpoint is written and the run can continue with
``resume=true``. The end is a transaction:

1. the essential files first, with signals held off while they are written:
   ``metrics.csv`` is closed, ``summary.json`` says how the run ended, and the final
   checkpoint is saved when checkpoints are on;
2. then the optional ones, best-effort: ``trace.json``, the figures and ``report.html``.
   One that fails is logged and named in the summary (``output_errors``), never loses
   the run; a signal while they are written skips the rest.

With ``out_dir=None`` nothing is written (a Python API run); the records stay in memory.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from sim.codes.distortion import epsilon
from sim.config.errors import InputFileError
from sim.report.painter import TIMELINE, TRAINING, FigureError, Painter, Request, painter
from sim.report.scenario import describe, headline
from sim.runs import checkpoint
from sim.runs.interrupt import SIGNALS, Interrupted, Stop, graceful
from sim.runs.records import IterationRecord, Status, Summary
from sim.runs.sink import MetricsFile, Sink, read_metrics, write_atomic
from sim.runs.store import Result, differences, identity
from sim.world import World

log = logging.getLogger(__name__)

Output = Callable[[Path], None]  # writes one optional file into the run dir


def resume_payload(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """The run dir's checkpoint, checked against ``cfg`` and against the rows of
    ``metrics.csv`` it continues (nothing in the run dir is changed here)."""
    path = out_dir / checkpoint.FILE
    payload = checkpoint.load(path)
    differ = differences(payload["world"].get("config", {}), identity(cfg))
    if differ:
        shown = ", ".join(f"{k}={a} (now {b})" for k, a, b in differ[:3])
        raise InputFileError(
            "resume", path, f"the checkpoint was made with other settings: {shown}"
        )
    rows = len(read_metrics(out_dir / "metrics.csv"))
    after = int(payload["world"].get("iteration", 0))
    if rows < after:
        what = f"has {rows} rows but the checkpoint is after {after}"
        raise InputFileError("resume", out_dir / "metrics.csv", what)
    return payload


class Session:
    """The state of one run while it goes: where it is, why it stopped, what was saved."""

    def __init__(
        self,
        world: World,
        out_dir: Path | None,
        payload: dict[str, Any] | None,
        label: str = "",
    ) -> None:
        self.world, self.out_dir, self.label = world, out_dir, label
        cfg = world.cfg
        saved = payload["world"] if payload is not None else {}
        self.first = int(saved.get("iteration", 0))
        self.start_s = float(saved.get("now", 0.0))
        self.wall_before = float(saved.get("wall_s", 0.0))
        self.status = Status.completed
        self.error: str | None = None
        self.checkpoint_at: int | None = None
        self.due = False
        self.stop = Stop()
        self.painter: Painter | None = None  # started by execute() when figures are drawn
        self.wall_start = time.perf_counter()
        if payload is not None and out_dir is not None:
            checkpoint.apply(payload, world.holders(), out_dir / checkpoint.FILE)
            self.checkpoint_at = self.first
        if out_dir is None:
            self.sink: Sink = Sink()
        else:
            keep = self.first if payload is not None else None
            self.sink = MetricsFile(out_dir / "metrics.csv", keep=keep)
        self.bar = tqdm(
            total=cfg.train.iterations,
            initial=self.first,
            desc="iterations",
            unit="it",
            disable=None if cfg.progress else True,
            leave=False,
        )

    def on_record(self, rec: IterationRecord, diverged: bool) -> bool:
        """Take one iteration's record; False stops the run."""
        self.sink.write(rec)
        self.bar.update(1)
        if not math.isnan(rec.accuracy):
            self.bar.set_postfix(loss=f"{rec.loss:.3f}", acc=f"{rec.accuracy:.3f}")
        if diverged:
            self.status = Status.diverged
            return False
        every = self.world.cfg.checkpoint.every
        self.due |= every > 0 and (rec.iteration + 1) % every == 0
        if self.stop.requested and rec.iteration + 1 < self.world.iterations:
            self.status = Status.interrupted
            self.save_checkpoint(rec.iteration + 1, rec.sim_time_s)
            return False
        if self.due:
            self.save_checkpoint(rec.iteration + 1, rec.sim_time_s)
        return True

    def save_checkpoint(self, next_iteration: int, now: float) -> None:
        """Between rounds nothing is in flight (the PS cancels what it no longer waits
        for), so the holders' state and the clock are the whole future."""
        if self.out_dir is None:
            return
        world = {
            "iteration": next_iteration,
            "now": now,
            "wall_s": self.wall_s(),
            "config": identity(self.world.cfg),
            "threads": torch.get_num_threads(),
        }
        checkpoint.save(self.out_dir / checkpoint.FILE, world, self.world.holders())
        self.checkpoint_at, self.due = next_iteration, False

    def wall_s(self) -> float:
        return self.wall_before + time.perf_counter() - self.wall_start

    def run(self) -> None:
        """The remaining iterations; a signal or an error still leaves valid outputs.
        Signals are caught by whoever set ``self.stop`` (:func:`execute`)."""
        self.wall_start = time.perf_counter()
        try:
            self.world.run(self.first, self.start_s, self.on_record)
        except Interrupted as sig:  # a second signal: stop where we are
            self.status, self.stop.signum = Status.interrupted, sig.signum
        except BaseException as exc:  # a bug or a crash: say so, keep what was done
            self.status = Status.failed
            self.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.sink.close()
            self.bar.close()
            self.wall_end = self.wall_s()

    wall_end = 0.0

    def summary(self) -> Summary:
        rows = self.sink.rows
        last = rows[-1] if rows else None
        world = self.world
        corrupted = sum(r.corrupted_updates for r in rows)
        failures = sum(r.decode_failures for r in rows)
        skipped = sum(r.skipped_updates for r in rows)
        held = None if world.timing_only else corrupted == failures == skipped == 0
        nan = math.nan
        return Summary(
            status=self.status,
            iterations=len(rows),
            sim_time_s=last.sim_time_s if last else 0.0,
            wall_time_s=self.wall_end,
            final_loss=last.test_loss if last else nan,
            final_train_loss=last.loss if last else nan,
            final_accuracy=last.accuracy if last else nan,
            decode_failures=failures,
            corrupted_updates=corrupted,
            skipped_updates=skipped,
            iterations_with_adversaries=sum(1 for r in rows if r.adversaries),
            guarantee_held=held,
            parameters=world.parameters(),
            classes=getattr(getattr(world.math, "data", None), "classes", None),
            model_digest=world.digest(),
            workload=world.cfg.workload.value,
            mean_iteration_time_s=last.sim_time_s / len(rows) if last else nan,
            rejected_messages=sum(r.rejected for r in rows),
            signal=self.stop.name,
            error=self.error,
            resumed_from=self.first if self.first else None,
            checkpoint_iteration=self.checkpoint_at,
            epsilon=epsilon_of(rows, getattr(world.math, "code", None)),
            threads=torch.get_num_threads(),
        )


@contextmanager
def threads_of(payload: dict[str, Any] | None) -> Iterator[None]:
    """A resumed run computes with the torch CPU threads it started with: another count
    can change the last bits of a sum (parallel kernels add in another order), and a
    resumed run must end with the model an uninterrupted one ends with."""
    before = torch.get_num_threads()
    saved = int(payload["world"].get("threads", 0)) if payload is not None else 0
    if saved and saved != before:
        log.info("continuing with %d torch threads, as the run started", saved)
        torch.set_num_threads(saved)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def epsilon_of(rows: list[IterationRecord], code: object) -> float:
    """The fraction of distorted parts over the run (NaN without per-part votes)."""
    parts = getattr(code, "parts", 0)
    return epsilon([r.distorted_parts for r in rows], parts) if rows and parts else math.nan


@contextmanager
def held_signals() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done (the essential files are whole)."""
    if os.name != "posix":
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def execute(
    cfg: DictConfig,
    out_dir: Path | None,
    world: World | None = None,
    outputs: dict[str, Output] | None = None,
    label: str = "",
    payload: dict[str, Any] | None = None,
) -> Result:
    """Run ``cfg`` (built as ``world`` if given) into ``out_dir``; see the module doc.

    ``outputs`` maps each optional file to the function that writes it; None: the
    standard ones (:func:`standard_outputs`). ``label`` names the run in its figures
    (what the command line changed). ``payload``: the checkpoint to continue from,
    already checked (:func:`resume_payload`); with ``resume=true`` and none given, the
    run dir's own is loaded and checked here.
    """
    from sim.build import build

    world = world if world is not None else build(cfg)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        if payload is None and world.cfg.resume:
            payload = resume_payload(world.cfg, out_dir)
        if payload is None:
            (out_dir / checkpoint.FILE).unlink(missing_ok=True)
        write_atomic(out_dir / "config.yaml", OmegaConf.to_yaml(world.cfg))
    session = Session(world, out_dir, payload, label)
    if out_dir is not None and outputs is None and world.cfg.outputs.figures:
        session.painter = painter()  # the CLI started it; else it imports while the run runs
    # signals are caught from the first iteration to the last file
    with graceful() as session.stop, threads_of(payload):
        try:
            session.run()
        except BaseException:
            if out_dir is not None:
                write_atomic(out_dir / "summary.json", session.summary().to_json())
            raise
        ended = session.stop.count  # signals after this one skip the optional files
        summary = session.summary()
        if out_dir is None:
            return Result(summary, given=session.sink.rows)
        with held_signals():
            final = session.status is Status.completed and world.cfg.checkpoint.every > 0
            if final and session.checkpoint_at != world.iterations:
                session.save_checkpoint(len(session.sink.rows), summary.sim_time_s)
                summary = replace(summary, checkpoint_iteration=session.checkpoint_at)
            write_atomic(out_dir / "summary.json", summary.to_json())
        errors, signum = write_outputs(out_dir, session, summary, outputs, ended)
        if errors:
            summary = replace(summary, output_errors=errors)
            with held_signals():
                write_atomic(out_dir / "summary.json", summary.to_json())
    return Result(summary, out_dir, given=session.sink.rows, signal=signum)


def write_outputs(
    out_dir: Path,
    session: Session,
    summary: Summary,
    outputs: dict[str, Output] | None,
    before: int,
) -> tuple[list[str], int | None]:
    """Every optional file, each on its own: a failure is logged and returned, not raised;
    a signal that came after the last iteration (more than ``before`` in all) skips the
    rest; one that stopped the run earlier does not. Returns (problems, the signal if one
    came)."""
    todo = standard_outputs(session, summary) if outputs is None else outputs
    errors: list[str] = []
    stop = session.stop
    for name, write in todo.items():
        if stop.count > before:
            errors.append(f"{name}: skipped ({stop.name} while writing outputs)")
            continue
        try:
            write(out_dir / name)
        except Interrupted as sig:
            errors.append(f"{name}: interrupted by {signal.Signals(sig.signum).name}")
            stop.signum = sig.signum
        except Exception as exc:  # an optional file must never lose the run
            what = str(exc) if isinstance(exc, FigureError) else f"{type(exc).__name__}: {exc}"
            log.warning("could not write %s: %s", name, what)
            errors.append(f"{name}: {what}".splitlines()[0][:300])
    return errors, stop.signum if stop.count > before else None


def standard_outputs(session: Session, summary: Summary) -> dict[str, Output]:
    """``trace.json``, ``training.png``, ``timeline.png`` and ``report.html``."""
    world, rows = session.world, session.sink.rows
    draw, wanted = world.cfg.trace, world.cfg.outputs

    def trace(path: Path) -> None:
        write_atomic(path, world.trace.to_json())

    request: Request = {}
    if wanted.figures and rows and not world.timing_only:
        data = getattr(world.math, "data", None)
        outcome = (
            f"final test accuracy {summary.final_accuracy:.3f}  ·  corrupted updates "
            f"{summary.corrupted_updates}  ·  decode failures {summary.decode_failures}  ·  "
            f"{summary.status}"
        )
        request["training.png"] = (
            TRAINING,
            dict(
                rows=rows,
                title=headline(session.label, wanted.title),
                scenario=describe(identity(world.cfg)),
                outcome=outcome,
                classes=None if data is None else data.classes,
                diverged=summary.status is Status.diverged,
            ),
        )
    if wanted.figures and rows:
        request["timeline.png"] = (
            TIMELINE,
            dict(
                trace=world.trace,
                rows=rows,
                iterations=draw.timeline_iterations,
                workers=draw.timeline_workers,
                title=headline(session.label, wanted.title),
            ),
        )
    drawer = session.painter or Painter(spawn=False)

    drawn: dict[str, str | None] = {}  # every figure at once, on the first one's turn

    def figure(path: Path) -> None:
        if not drawn:
            drawn.update(drawer.paint(path.parent, request))
        error = drawn[path.name]
        if error is not None:
            raise FigureError(error)

    def report(path: Path) -> None:
        from sim.report.html import write_report

        write_report(path.parent, summary, label=session.label)

    out: dict[str, Output] = {"trace.json": trace} if wanted.trace else {}
    out.update(dict.fromkeys(request, figure))
    if wanted.report:
        out["report.html"] = report
    return out
