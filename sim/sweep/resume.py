"""Resumable sweeps: a job whose configuration already has a finished result is not rerun.

Every job of a multirun writes ``job.json`` into its directory: the SHA-256 of its resolved
configuration (``config_hash``) and what the job did (``outcome``). When a job starts, the
sweep directory is searched, under a file lock, for a finished result of the same hash:

- in the job's own directory (the same command rerun): the result is reused in place, and
  no output file is touched;
- in another job's directory (values reordered or added): its outputs are copied in;
- nowhere: the job runs. Outputs of a *different* finished configuration that sit in this
  directory are first moved to ``.stash/<hash>/`` so that a later job can still reuse them.

A result is finished when ``summary.json`` exists with a finished status (``completed``
or ``diverged``). A run that crashed or was interrupted has no such summary, so rerunning
the same command with the same ``hydra.sweep.dir`` redoes exactly the unfinished jobs;
one that left a checkpoint of its own config (a SIGTERM, or ``checkpoint.every``)
continues from it.
"Same config" is :func:`sim.runs.store.config_hash`, the notion checkpoints use too.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from sim.config.errors import ConfigError
from sim.runs.records import Summary
from sim.runs.store import RECORD, config_hash, launch_id, read_json

log = logging.getLogger(__name__)

STASH = ".stash"

Simulate = Callable[[DictConfig, Path, Any], Summary]  # (config, job dir, checkpoint or None)


def read_record(job_dir: Path) -> dict[str, Any]:
    return read_json(job_dir / RECORD)


def finished_hash(job_dir: Path) -> str | None:
    """The config hash of the finished result in ``job_dir``, or None if there is none."""
    summary = Summary.load(job_dir)
    if summary is None or not summary.status.finished:
        return None
    hashed = read_record(job_dir).get("config_hash")
    return None if hashed is None else str(hashed)


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


def resumable(
    cfg: DictConfig, job_dir: Path, sweep_dir: Path, simulate: Simulate, threads: int = 0
) -> Summary:
    """Run one sweep job into ``job_dir`` unless a finished result of its config exists.

    Returns the summary (reused or new). ``job.json`` says which: ``outcome`` is ``ran``,
    ``resumed`` (from its own checkpoint), ``reused`` (in place) or ``copied`` (from
    ``source``); with the process id and the torch threads of the job that decided it.
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
            return _loaded(job_dir)
        source = find(sweep_dir, digest, exclude=job_dir)
        job_dir.mkdir(parents=True, exist_ok=True)
        _clear_foreign(job_dir, digest, sweep_dir)
        if source is not None:
            _copy_all(source, job_dir)
            write_record(job_dir, {**record, "outcome": "copied", "source": str(source)})
            log.info("%s: config %s finished in %s, copied", job_dir, digest[:12], source)
            return _loaded(job_dir)
        payload = _interrupted(cfg, job_dir)
        write_record(job_dir, {**record, "outcome": "running"})
    summary = simulate(cfg, job_dir, payload)
    outcome = {"outcome": "ran"} if payload is None else {"outcome": "resumed"}
    write_record(job_dir, {**record, **outcome})
    return summary


def _interrupted(cfg: DictConfig, job_dir: Path) -> dict[str, Any] | None:
    """The checkpoint an interrupted run of this same config left in ``job_dir``, if it
    can be continued (otherwise the job starts over, and says why)."""
    from sim.runs import checkpoint
    from sim.runs.session import resume_payload

    if not (job_dir / checkpoint.FILE).is_file():
        return None
    try:
        payload = resume_payload(cfg, job_dir)
    except ConfigError as err:
        log.warning("%s: cannot continue its checkpoint (%s); starting over", job_dir, err)
        return None
    log.info("%s: continuing from iteration %s", job_dir, payload["world"].get("iteration"))
    return payload


def _loaded(job_dir: Path) -> Summary:
    summary = Summary.load(job_dir)
    assert summary is not None  # finished_hash found it
    return summary
