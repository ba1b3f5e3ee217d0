"""Finished runs read back, and when two configs are the same run.

A run dir holds ``summary.json``, ``metrics.csv`` and, under Hydra, ``.hydra/overrides.yaml``
(what the command line changed). :func:`load_run` reads one, :func:`load_runs` every run
under a folder (a sweep dir, or any tree of run dirs; folders starting with a dot, such
as a sweep's ``.stash``, are not runs of it), :func:`job_dirs` the jobs of a sweep's
latest launch. :func:`identity` is the one notion of "the same run": the resolved config
without the settings that cannot change a result; checkpoints and sweep resume both use it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from sim.runs.records import IterationRecord, Summary
from sim.runs.sink import read_metrics

# Settings that cannot change a result: how a run is shown, scheduled, saved or drawn.
# (torch's CPU kernels give the same bits for any thread count on these models.)
INCIDENTAL = (
    "progress",
    "threads",
    "resume",
    "checkpoint",
    "trace.timeline_iterations",
    "trace.timeline_workers",
    "outputs",
)
LAUNCH = ".launch.json"  # written by the sweep callback: which multirun this is
RECORD = "job.json"  # written by every sweep job: its config hash and what it did


def identity(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as plain data, without ``hydra`` and the incidental settings."""
    plain: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)  # type: ignore[assignment]
    plain.pop("hydra", None)
    for key in INCIDENTAL:
        head, _, leaf = key.partition(".")
        if not leaf:
            plain.pop(head, None)
        elif isinstance(plain.get(head), dict):
            plain[head].pop(leaf, None)
    return plain


def config_hash(cfg: DictConfig) -> str:
    """SHA-256 of :func:`identity` with sorted keys."""
    text = json.dumps(identity(cfg), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def differences(then: dict[str, Any], now: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) of every leaf that differs, sorted."""
    a, b = _flat(then), _flat(now)
    return [(k, a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix[:-1]: d}
    return {k: v for key, sub in d.items() for k, v in _flat(sub, f"{prefix}{key}.").items()}


def parse_overrides(lines: Any) -> dict[str, str]:
    """``["adversary=none", "+x=1"]`` -> ``{"adversary": "none", "x": "1"}``."""
    out: dict[str, str] = {}
    for line in lines or []:
        key, _, value = str(line).partition("=")
        out[key.lstrip("+~")] = value
    return out


@dataclass
class Result:
    """One run: its summary and every iteration's record, fresh from a run or read back
    from its run dir (then the records are read on first use)."""

    summary: Summary | None  # None: a run dir whose run never wrote one
    path: Path | None = None  # the run dir; None for a run that wrote no files
    overrides: dict[str, str] = field(default_factory=dict)  # what the command line changed
    given: list[IterationRecord] | None = field(default=None, repr=False)
    signal: int | None = field(default=None, repr=False)  # came while its outputs were written
    resolved: dict[str, Any] | None = field(default=None, repr=False)  # its config, if known

    @property
    def finished(self) -> Summary:
        """The summary of a run that wrote one (a fresh run always has)."""
        if self.summary is None:
            raise ValueError(f"{self.path}: the run wrote no summary.json")
        return self.summary

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else "run"

    @cached_property
    def records(self) -> list[IterationRecord]:
        if self.given is not None:
            return self.given
        metrics = None if self.path is None else self.path / "metrics.csv"
        return read_metrics(metrics) if metrics is not None and metrics.is_file() else []

    @cached_property
    def config(self) -> dict[str, Any]:
        """The resolved config (the run dir's ``config.yaml``); empty if unknown."""
        if self.resolved is not None:
            return self.resolved
        try:
            data = yaml.safe_load((self.path / "config.yaml").read_text()) if self.path else {}
        except (OSError, yaml.YAMLError):
            return {}
        return data if isinstance(data, dict) else {}

    def label(self, keys: list[str]) -> str:
        return ", ".join(f"{k}={self.overrides.get(k, '-')}" for k in keys) or self.name

    def to_pandas(self) -> Any:
        """The records as a ``pandas.DataFrame`` (one row per iteration); needs pandas."""
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.records])


OVERRIDES = Path(".hydra") / "overrides.yaml"  # what the command line changed (Hydra's record)


def saved_overrides(run_dir: Path) -> list[str]:
    """The overrides a run was made with, as typed (empty if the run dir has no record)."""
    try:
        lines = yaml.safe_load((Path(run_dir) / OVERRIDES).read_text())
    except (OSError, yaml.YAMLError):
        return []
    return [str(x) for x in lines] if isinstance(lines, list) else []


def overrides_of(run_dir: Path) -> dict[str, str]:
    return parse_overrides(saved_overrides(run_dir))


def resumed_overrides(run_dir: Path, overrides: list[str]) -> list[str]:
    """``resume=true``: the run's own saved overrides, then ``overrides`` (which win; a
    setting that would change the result is refused later, by the checkpoint's check)."""
    given = {o.lstrip("+~").partition("=")[0] for o in overrides}
    saved = [o for o in saved_overrides(run_dir) if o.lstrip("+~").partition("=")[0] not in given]
    return [*saved, *overrides]


def wants_resume(overrides: list[str]) -> bool:
    return parse_overrides(overrides).get("resume", "").strip().lower() == "true"


def load_run(run_dir: Path) -> Result:
    """A finished (or unfinished) run dir as a :class:`Result`."""
    run_dir = Path(run_dir)
    return Result(Summary.load(run_dir), run_dir, overrides_of(run_dir))


def load_runs(root: Path) -> list[Result]:
    """Every run dir (one holding ``summary.json``) under ``root``, in natural path order."""
    root = Path(root)
    found = (p.parent for p in root.rglob("summary.json") if not _hidden(p.relative_to(root)))
    return [load_run(d) for d in sorted(found, key=lambda p: [natural(x) for x in p.parts])]


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts[:-1])


def natural(part: str) -> tuple[int, str]:
    return (int(part), "") if part.isdigit() else (-1, part)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def launch_id(sweep_dir: Path) -> str | None:
    value = read_json(Path(sweep_dir) / LAUNCH).get("id")
    return None if value is None else str(value)


def job_dirs(sweep_dir: Path) -> list[Path]:
    """Job directories of the latest multirun into ``sweep_dir`` (all, if none is marked)."""
    sweep_dir = Path(sweep_dir)
    dirs = [p for p in sweep_dir.iterdir() if (p / ".hydra" / "overrides.yaml").is_file()]
    launch = launch_id(sweep_dir)
    if launch is not None:
        dirs = [p for p in dirs if read_json(p / RECORD).get("launch") == launch]
    return sorted(dirs, key=lambda p: (int(p.name), "") if p.name.isdigit() else (1 << 62, p.name))


def load_sweep(sweep_dir: Path) -> list[Result]:
    """The jobs of a sweep's latest launch, finished or not, in job order."""
    return [load_run(d) for d in job_dirs(sweep_dir)]
