"""Random command lines within the schema: each one runs, or fails with clear lines.

Keys and options come from the schemas themselves (``sim.config``), so options added
later are fuzzed too. Values are drawn per type from small pools that include the
edges (0, negatives, NaN, infinities, bogus choices); keys that set the size of a run
draw from small pools only, so every example stays tiny.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import typing
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import CONFIG_DIR, cli
from sim.config.options import GROUPS, option_schema
from sim.config.schema import CheckpointConf, ClusterConf, Config, PSConf, TrainConf

SCHEMAS = {g: {n: option_schema(g, n) for n in spec.options} for g, spec in GROUPS.items()}

SECTIONS = {"cluster": ClusterConf, "train": TrainConf, "ps": PSConf, "checkpoint": CheckpointConf}
NAN, INF = math.nan, math.inf

# Keys that size the work: tiny pools, edges included.
SIZED: dict[str, list[Any]] = {
    "cluster.workers": [-1, 0, 1, 2, 3, 4, 6, 9],
    "train.iterations": [-1, 0, 1, 2, 3],
    "train.batch_size": [-1, 0, 1, 2, 9, 64, 5000],
    "train.eval_every": [-1, 0, 1, 2],
    "data.samples": [-5, 0, 9, 60, 300],
    "data.features": [-1, 0, 1, 4],
    "data.classes": [-1, 0, 1, 2, 3],
    "model.hidden": [[], [0], [4], [-1], [4, 4]],
    "checkpoint.every": [-1, 0, 1, 2],
    "ps.flops": [-1.0, 0.0, 1e3, 1e10, INF, NAN],
}
INTS = [-2, -1, 0, 1, 2, 3, 7]
FLOATS = [-1.0, 0.0, 1e-12, 0.05, 0.5, 1.0, 3.0, 1e38, INF, -INF, NAN]
FIXED = {"_target_", "progress", "resume", "device"}  # not fuzzed (resume: see test_bad_inputs)


def _show(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ",".join(_show(x) for x in v) + "]"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return str(v).lower() if isinstance(v, bool) else str(v)


def _pool(key: str, kind: Any) -> list[Any]:
    if key in SIZED:
        return SIZED[key]
    origin = typing.get_origin(kind)
    if origin is list:
        inner = typing.get_args(kind)[0]
        base = INTS if inner is int else FLOATS
        return [[], [base[3]], [base[0], base[4]], [base[-1]], [1, 1]]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return [m.name for m in kind] + ["bogus"]
    if kind is bool:
        return [True, False]
    if kind is int:
        return INTS
    if kind is float:
        return FLOATS
    return []


def _fields(prefix: str, schema: type) -> list[tuple[str, list[Any]]]:
    hints = typing.get_type_hints(schema)
    out = []
    for f in dataclasses.fields(schema):
        key = f"{prefix}.{f.name}" if prefix else f.name
        if f.name in FIXED or key in FIXED:
            continue
        pool = _pool(key, hints[f.name])
        if pool:
            out.append((key, pool))
    return out


TOP = [
    (k, p)
    for k, p in _fields("", Config)
    if k.split(".")[0] not in SCHEMAS and k not in SECTIONS and k != "checkpoint"
]


# Optional groups: every defense (which may contradict the code and rule drawn beside
# it), and misspelt names of both (an unknown option must fail, not be skipped).
OPTIONAL = {
    "defense": [*sorted(p.stem for p in (CONFIG_DIR / "defense").glob("*.yaml")), "medain"],
    "experiment": ["lesson_1_one_lair", "paper"],
}


@st.composite
def drawn(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, Any]]]:
    """(the command line without its drawn settings, those settings as (key, value))."""
    args = ["progress=false", "data=synthetic", "data.samples=300", "train.iterations=2"]
    keys: list[tuple[str, list[Any]]] = list(TOP)
    for section, schema in SECTIONS.items():
        keys += _fields(section, schema)
    for group, options in SCHEMAS.items():
        name = draw(st.sampled_from(sorted(options)))
        args.append(f"{group}={name}")
        keys += _fields(group, options[name])
    for group, names in OPTIONAL.items():
        if draw(st.integers(0, 3)) == 0:
            args.append(f"{group}={draw(st.sampled_from(names))}")
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=5, unique_by=lambda k: k[0]))
    return args, [(key, draw(st.sampled_from(pool))) for key, pool in chosen]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    args, settings_ = draw(drawn())
    return [*args, *(f"{key}={_show(v)}" for key, v in settings_)]


@st.composite
def sweeps(draw: st.DrawFn) -> list[str]:
    """``-m``: one drawn setting swept over two values (or a misspelt key swept)."""
    args, settings_ = draw(drawn())
    key, value = settings_[0]
    other = draw(st.sampled_from(SIZED.get(key, INTS if isinstance(value, int) else FLOATS)))
    if isinstance(value, list) or isinstance(other, list):
        other = value  # a list is one value: keep the sweep over scalars
    if draw(st.booleans()):
        key = f"{key}x"  # a typo in the swept key
    swept = f"{key}={_show(value)},{_show(other)}"
    rest = [f"{k}={_show(v)}" for k, v in settings_[1:]]
    return ["-m", *args, *rest, swept]


@st.composite
def misspelt(draw: st.DrawFn) -> list[str]:
    """A valid command line with one key misspelt, as a user types it (``+`` or not)."""
    args, settings_ = draw(drawn())
    key, value = settings_[0]
    head, _, leaf = key.rpartition(".")
    typo = f"{head}.{leaf}s" if head else f"{leaf}s"
    plus = draw(st.sampled_from(["", "+"]))
    return [*args, f"{plus}{typo}={_show(value)}"]


def _clear(lines: list[str]) -> None:
    assert lines and all(line.strip() and "\n" not in line for line in lines)
    assert not any("Traceback" in line for line in lines)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(args=command_lines())
def test_random_command_lines_run_or_fail_clearly(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_once(args, tmp_path, capsys)


def run_once(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line either fails with exit 2 and clear lines, or runs to a result."""
    run_dir = tmp_path / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    capsys.readouterr()
    status = cli([*args, f"hydra.run.dir={run_dir}"])
    err = capsys.readouterr().err
    if status == 2:
        _clear([line for line in err.splitlines() if line.startswith("error:")])
        assert "Traceback" not in err
        assert not (run_dir / "summary.json").exists()
        return
    assert status == 0, err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] in ("completed", "diverged")


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(args=sweeps())
def test_random_sweeps_run_or_fail_clearly(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under ``-m`` the same one-line errors as a single run, and the same results."""
    sweep_dir = tmp_path / "sweep"
    shutil.rmtree(sweep_dir, ignore_errors=True)
    capsys.readouterr()
    status = cli([*args, f"hydra.sweep.dir={sweep_dir}", "outputs.figures=false"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if status == 2:
        _clear([line for line in err.splitlines() if line.startswith("error:")])
        return
    assert status == 0, err
    for summary in sweep_dir.glob("*/summary.json"):
        assert json.loads(summary.read_text())["status"] in ("completed", "diverged")


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(args=misspelt())
def test_a_misspelt_key_never_runs(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli([*args, f"hydra.run.dir={tmp_path / 'run'}"]) == 2
    err = capsys.readouterr().err
    _clear([line for line in err.splitlines() if line.startswith("error:")])
    assert "Traceback" not in err and not (tmp_path / "run").exists()


@pytest.mark.slow
@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(args=command_lines())
def test_many_random_command_lines(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_once(args, tmp_path, capsys)
