"""CPU threads per job, so that parallel sweep jobs do not oversubscribe the cores.

``threads=0`` (the default) means *auto*: a single run, or a sequential multirun, keeps
torch's default (one thread per physical core); a job of the joblib launcher gets its
share of the cores (``cores // n_jobs``); a submitit job (local or SLURM) gets its ``cpus_per_task``
(1 when unset, because ``submitit_local`` starts all jobs at once).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch


def available_cores() -> int:
    """Cores this process may run on (respects affinity masks, e.g. a SLURM allocation)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def auto_threads(cores: int, launcher: Mapping[str, Any] | None) -> int | None:
    """Threads one job should use when ``cores`` are shared by the launcher's jobs.

    None: the jobs run one at a time, torch's default is right.
    """
    target = str((launcher or {}).get("_target_", ""))
    if target.endswith("JoblibLauncher"):
        n_jobs = int((launcher or {}).get("n_jobs") or 1)
        parallel = cores + 1 + n_jobs if n_jobs < 0 else n_jobs  # joblib: -1 = all cores
        return max(1, cores // max(1, min(parallel, cores)))
    if "hydra_submitit_launcher" in target:
        return max(1, int((launcher or {}).get("cpus_per_task") or 1))
    return None


def parallel_jobs(launcher: Mapping[str, Any] | None) -> bool:
    """The launcher runs several jobs of this machine at once (joblib)."""
    target = str((launcher or {}).get("_target_", ""))
    return target.endswith("JoblibLauncher") and int((launcher or {}).get("n_jobs") or 1) != 1


def cap_threads(threads: int, launcher: Mapping[str, Any] | None) -> int:
    """Set torch's intra-op threads (and OMP_NUM_THREADS for child processes); return them."""
    n = threads or auto_threads(available_cores(), launcher)
    if n is None:
        return torch.get_num_threads()
    torch.set_num_threads(n)
    os.environ["OMP_NUM_THREADS"] = str(n)
    return n
