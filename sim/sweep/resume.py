"""Resumable sweeps: a job whose configuration already has a finished result is not rerun.

Every job of a multirun writes ``job.json`` into its directory: the SHA-256 of its resolved
configuration (``config_hash``) and what the job did (``outcome``). When a job starts, the
sweep directory is searched, under a file lock, for a finished result of the same hash:

- in the job's own directory (the same command rerun): the result is reused in place, and
  no output file is touched;
- in another job's directory (values reordered or added): its outputs are copied in;
- nowhere: the job runs. Outputs of a *different* finished configuration that sit in this
  directory are first moved to ``.stash/<hash>/`` so that a later job can still reuse them.

A result is finished when ``summary.json`` exists with a status in ``FINISHED``. A run
that crashed or was interrupted has no such summary, so rerunning the same command with
the same ``hydra.sweep.dir`` redoes exactly the unfinished jobs.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

RECORD = "job.json"
LAUNCH = ".launch.json"  # written by the sweep callback: which multirun this is
STASH = ".stash"
FINISHED = frozenset({"completed", "diverged"})  # a rerun would only repeat these
IGNORED_KEYS = ("progress", "threads")  # how a run is shown or scheduled, not what it computes

Summary = dict[str, Any]
Simulate = Callable[[DictConfig, Path], Summary]


def config_hash(cfg: DictConfig) -> str:
    """SHA-256 of the resolved config with sorted keys, without display/scheduling keys.

    The task's config holds no ``hydra`` node, so output paths never enter the hash.
    """
    data = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    assert isinstance(data, dict)
    for key in ("hydra", *IGNORED_KEYS):
        data.pop(key, None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def load_summary(job_dir: Path) -> Summary | None:
    """``summary.json`` with JSON nulls (non-finite numbers) back to NaN; None if absent."""
    try:
        data = json.loads((job_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    return {k: math.nan if v is None else v for k, v in data.items()}


def read_record(job_dir: Path) -> dict[str, Any]:
    try:
        record = json.loads((job_dir / RECORD).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def finished_hash(job_dir: Path) -> str | None:
    """The config hash of the finished result in ``job_dir``, or None if there is none."""
    summary = load_summary(job_dir)
    if summary is None or summary.get("status") not in FINISHED:
        return None
    return read_record(job_dir).get("config_hash")


def outputs(job_dir: Path) -> list[Path]:
    """What a run wrote into its directory: everything but Hydra's ``.hydra/`` and job log."""
    if not job_dir.is_dir():
        return []
    return [p for p in job_dir.iterdir() if p.name != ".hydra" and p.suffix != ".log"]


def candidates(sweep_dir: Path) -> Iterator[Path]:
    """Directories that may hold a finished result: the jobs' and the stashed ones."""
    for root in (sweep_dir, sweep_dir / STASH):
        if root.is_dir():
            yield from sorted(p for p in root.iterdir() if p.is_dir() and p.name != STASH)


def find(sweep_dir: Path, digest: str, exclude: Path) -> Path | None:
    for job_dir in candidates(sweep_dir):
        if job_dir != exclude and finished_hash(job_dir) == digest:
            return job_dir
    return None


@contextmanager
def locked(sweep_dir: Path) -> Iterator[None]:
    """One job at a time inspects or moves results (an advisory lock on a shared file)."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    with (sweep_dir / ".resume.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _move_all(paths: list[Path], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for p in paths:
        target = dest / p.name
        if target.is_dir():
            shutil.rmtree(target)
        shutil.move(str(p), target)


def _copy_all(src: Path, dest: Path) -> None:
    for p in outputs(src):
        if p.is_dir():
            shutil.copytree(p, dest / p.name, dirs_exist_ok=True)
        else:
            shutil.copy2(p, dest / p.name)


def _clear_foreign(job_dir: Path, digest: str, sweep_dir: Path) -> None:
    """Make room in ``job_dir`` for config ``digest``: stash a different finished result.

    Leftovers of an unfinished run of the *same* config stay (a run may resume from them).
    """
    own = read_record(job_dir).get("config_hash")
    if own == digest:
        return
    other = finished_hash(job_dir)
    if other is not None:
        stash = sweep_dir / STASH / other
        if finished_hash(stash) is None:
            _move_all(outputs(job_dir), stash)
    for p in outputs(job_dir):
        shutil.rmtree(p) if p.is_dir() else p.unlink()


def write_record(job_dir: Path, record: dict[str, Any]) -> None:
    tmp = job_dir / f".{RECORD}.tmp"
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(job_dir / RECORD)


def launch_id(sweep_dir: Path) -> str | None:
    try:
        return str(json.loads((sweep_dir / LAUNCH).read_text())["id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resumable(
    cfg: DictConfig, job_dir: Path, sweep_dir: Path, simulate: Simulate, threads: int = 0
) -> Summary:
    """Run one sweep job into ``job_dir`` unless a finished result of its config exists.

    Returns the summary (reused or new). ``job.json`` says which: ``outcome`` is ``ran``,
    ``reused`` (in place) or ``copied`` (from ``source``); with the process id and the
    torch threads of the job that decided it.
    """
    digest = config_hash(cfg)
    record: dict[str, Any] = {
        "config_hash": digest,
        "launch": launch_id(sweep_dir),
        "pid": os.getpid(),
        "threads": threads,
    }
    with locked(sweep_dir):
        if finished_hash(job_dir) == digest:
            write_record(job_dir, {**record, "outcome": "reused"})
            log.info("%s: config %s already finished here, reused", job_dir, digest[:12])
            return load_summary(job_dir) or {}
        source = find(sweep_dir, digest, exclude=job_dir)
        job_dir.mkdir(parents=True, exist_ok=True)
        _clear_foreign(job_dir, digest, sweep_dir)
        if source is not None:
            _copy_all(source, job_dir)
            write_record(job_dir, {**record, "outcome": "copied", "source": str(source)})
            log.info("%s: config %s finished in %s, copied", job_dir, digest[:12], source)
            return load_summary(job_dir) or {}
        write_record(job_dir, {**record, "outcome": "running"})
    summary = simulate(cfg, job_dir)
    write_record(job_dir, {**record, "outcome": "ran"})
    return summary
