"""Workers of a parallel sweep that start in milliseconds.

The joblib launcher runs jobs in loky worker processes; each one started fresh would
import torch, Hydra and the simulator again (seconds per worker on a small machine),
which on a short sweep costs more than running the jobs side by side saves. Instead the
workers are forked from a fork server (a clean process, one thread, nothing run yet)
that has imported all of that once. The server is started when the sweep is set up, so
its imports overlap with the checking of every job's config in the sweep's own process.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

PRELOAD = ["torch", "sim.cli", "sim.build", "sim.runs.session"]


def start_fork_server() -> bool:
    """Make loky fork its workers from a server holding the simulator; False where the
    platform has no fork server (the workers then start the usual way)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    from joblib.externals.loky.backend.context import set_start_method

    multiprocessing.set_forkserver_preload(PRELOAD)
    set_start_method("forkserver", force=True)
    multiprocessing.forkserver.ensure_running()
    return True
