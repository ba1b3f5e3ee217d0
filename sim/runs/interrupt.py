"""Ctrl-C and SIGTERM (what SLURM sends before it kills a job): stop cleanly.

Inside :func:`graceful`, the first SIGINT or SIGTERM only raises a flag; the world
finishes the iteration in progress, writes a checkpoint, flushes ``metrics.csv`` and
writes ``summary.json`` with ``status: interrupted``. A second signal stops at once
(:class:`Interrupted` is raised wherever the program is); the outputs are still written
from what was finished.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A second interrupt: leave now (a BaseException, so ``except Exception`` lets it by)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Stop:
    """The flag the run checks between iterations."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.count = 0  # signals received so far

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.signum is not None:
            raise Interrupted(signum)
        self.signum = signum


@contextmanager
def graceful() -> Iterator[Stop]:
    """Catch SIGINT/SIGTERM while the block runs (only the main thread can)."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {s: signal.signal(s, stop.handle) for s in SIGNALS}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
