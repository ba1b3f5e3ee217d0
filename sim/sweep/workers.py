"""Workers of a parallel sweep that start in milliseconds.

The joblib launcher runs jobs in loky worker processes; each one started fresh would
import torch, Hydra and the simulator again (seconds per worker on a small machine),
which on a short sweep costs more than running the jobs side by side saves. Instead the
workers are forked from a fork server (a clean process, one thread, nothing run yet)
that has imported all of that once, the drawing code included (a job of a parallel sweep
draws its figures itself: the other cores run the other jobs). The server is started as
soon as the command line names the joblib launcher (else when the sweep is set up), so
its imports overlap with the sweep's own process importing and checking every job.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
from typing import Any

from sim.report.painter import DRAWING

PRELOAD = ["torch", "sim.cli", "sim.build", "sim.runs.session", *DRAWING]


def start_fork_server() -> bool:
    """Make loky fork its workers from a server holding the simulator; False where the
    platform has no fork server (the workers then start the usual way)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    from joblib.externals.loky.backend.context import set_start_method

    os.environ.setdefault("MPLBACKEND", "agg")  # the server's environment, not a display
    multiprocessing.set_forkserver_preload(PRELOAD)
    set_start_method("forkserver", force=True)
    multiprocessing.forkserver.ensure_running()
    return True


def stop_workers() -> None:
    """At the end of the command: stop the launcher's workers (idle by now), then the
    fork server. Left to the interpreter's exit, the server would tear down torch for
    most of a second while still holding the command's output streams open."""
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(loky, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)
    server: Any = multiprocessing.forkserver._forkserver
    pid = getattr(server, "_forkserver_pid", None)
    if pid is None:
        return
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)  # it holds no work: no need to wait for its teardown
    with contextlib.suppress(Exception):
        server._stop()  # reaps it, closes its pipe, removes its socket
