"""Figures drawn by a child process that starts before the run.

Importing matplotlib costs about as much as the default scenario's whole simulation.
A :class:`Painter` starts ``python -m sim.report.painter``: a single run starts it first
thing, so that the child imports matplotlib and the drawing functions while the run's
own process imports torch (a sweep starts it when the sweep starts). At the end the run
sends it what to draw (the records and the trace, pickled) and gets back, per figure,
``None`` or the error it met. The child draws the figures of one request side by side,
each but the first in a fork of itself (it holds the drawing code and nothing else),
then waits for the next run of the same process (a sweep's jobs share it, and the
sweep's own comparison figures are drawn by it at the end). Each figure is written to a
temporary name and renamed, so it is whole or absent.

When the child cannot start or dies without an answer, the figures are drawn in the
run's own process instead (the same functions, the same files); so they are in a job of
a parallel sweep (:func:`draw_here`), whose neighbours use the other cores.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# figure name -> (drawing function as "module:function", keyword arguments but the path)
Request = dict[str, tuple[str, dict[str, Any]]]
TRAINING, TIMELINE = "sim.report.plots:training_curves", "sim.report.timeline:timeline"
PROGRESS = "sim.report.compare:accuracy_vs_time"
TO_TARGET = "sim.report.compare:time_to_target_bars"
HEATMAP = "sim.report.compare:accuracy_heatmap"
DRAWERS = (TRAINING, TIMELINE, PROGRESS)
DRAWING = sorted({spec.partition(":")[0] for spec in DRAWERS})  # their modules


def resolve(spec: str) -> Callable[..., None]:
    import importlib

    module, _, name = spec.partition(":")
    fn: Callable[..., None] = getattr(importlib.import_module(module), name)
    return fn


def draw(out_dir: Path, request: Request) -> dict[str, str | None]:
    """Draw every figure of ``request`` into ``out_dir``; per figure, its error or None."""
    done: dict[str, str | None] = {}
    for name, (spec, kwargs) in request.items():
        path = out_dir / name
        tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
        try:
            resolve(spec)(path=tmp, **kwargs)
            if tmp.exists():  # a figure with nothing to show is not written
                os.replace(tmp, path)
            done[name] = None
        except Exception as exc:  # reported to the run, which names it in the summary
            tmp.unlink(missing_ok=True)
            done[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    return done


class FigureError(Exception):
    """A figure could not be drawn (the message names the error met)."""


class Painter:
    """A child process that has imported the drawing code and draws what it is sent.

    One painter serves every run of a process (the jobs of a sequential sweep share it):
    :func:`painter` starts it, or returns the one already running.
    """

    def __init__(self, spawn: bool = True) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        if not spawn:
            return
        root = str(Path(__file__).resolve().parents[2])  # the folder holding ``sim``
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        env.setdefault("MPLBACKEND", "agg")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sim.report.painter"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError:
            self.proc = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def paint(self, out_dir: Path, request: Request) -> dict[str, str | None]:
        """Draw ``request`` into ``out_dir`` (here, when the child cannot); per figure,
        its error or None."""
        answer = self._ask(out_dir, request)
        return draw(out_dir, request) if answer is None else answer

    def _ask(self, out_dir: Path, request: Request) -> dict[str, str | None] | None:
        if self.proc is None or self.proc.stdin is None or self.proc.stdout is None:
            return None
        try:
            pickle.dump((str(out_dir), request), self.proc.stdin)
            self.proc.stdin.flush()
            answer: dict[str, str | None] = pickle.load(self.proc.stdout)
            return answer
        except Exception:  # the child died or answered nonsense: draw here instead
            self.close()
            return None
        except BaseException:  # a signal (Ctrl-C, SIGTERM): the answer will not come
            self.close()
            raise

    def close(self) -> None:
        """Stop the child (it ends by itself when its input closes)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


_running: Painter | None = None
_here = False


def draw_here() -> None:
    """From now on this process draws its figures itself (no child): it is one of
    several jobs running at once, and the other cores are theirs."""
    global _here
    _here = True


def painter() -> Painter:
    """This process's painter, started on first use (again if it died)."""
    global _running
    if _here:
        return Painter(spawn=False)
    if _running is None or not _running.alive:
        _running = Painter()
        atexit.register(_running.close)
    return _running


def stop_painter() -> None:
    """Stop this process's painter, if one runs (its figures are not wanted)."""
    global _running
    if _running is not None:
        _running.close()
        _running = None


def draw_at_once(out_dir: Path, request: Request) -> dict[str, str | None]:
    """:func:`draw`, each figure but the first in a fork of this process (which holds
    the drawing code and nothing else), so that they are drawn side by side."""
    if len(request) < 2 or not hasattr(os, "fork"):
        return draw(out_dir, request)
    first, *rest = request.items()
    forks: list[tuple[int | None, int, Request]] = []
    for name, spec in rest:
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            forks.append((None, -1, {name: spec}))
            continue
        if pid == 0:  # the fork: draw one figure, answer, leave without any clean-up
            try:
                os.close(read)
                with os.fdopen(write, "wb") as out:
                    pickle.dump(draw(out_dir, {name: spec}), out)
            finally:
                os._exit(0)
        os.close(write)
        forks.append((pid, read, {name: spec}))
    done = draw(out_dir, dict([first]))
    for child, read, one in forks:
        answer: dict[str, str | None] | None = None
        if child is not None:
            with os.fdopen(read, "rb") as inp, contextlib.suppress(Exception):
                answer = pickle.load(inp)
            os.waitpid(child, 0)
        done.update(draw(out_dir, one) if answer is None else answer)
    return done


def main() -> None:
    for spec in DRAWERS:  # the slow part, done while the run simulates
        resolve(spec)
    while True:
        try:
            out_dir, request = pickle.load(sys.stdin.buffer)
        except EOFError:  # the run's process is done
            return
        pickle.dump(draw_at_once(Path(out_dir), request), sys.stdout.buffer)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
