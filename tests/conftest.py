"""Compose the real shipped configs, shrink them, run them into a temporary directory."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from sim.cli import CONFIG_DIR, register
from sim.config.validate import problems as config_problems
from sim.runs.session import execute

SCENARIOS = CONFIG_DIR
register()

SMALL = ["train.iterations=30", "progress=false", "data=synthetic", "data.samples=2000"]


@pytest.fixture(autouse=True)
def own_threads() -> Iterator[None]:
    """A run with ``threads=N`` sets torch's threads in this process and OMP_NUM_THREADS
    for its children: every test gets both back, so a later run's bits (which depend on
    the thread count) do not depend on the tests before it."""
    import torch

    before, env = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    yield
    torch.set_num_threads(before)
    if env is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = env


def load_script(path: Path, name: str) -> ModuleType:
    """A script of the repository (not a module of the package), imported by its path."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def make_cfg(*overrides: str, small: bool = True) -> DictConfig:
    with initialize_config_dir(config_dir=str(SCENARIOS), version_base="1.3"):
        return compose("config", overrides=[*(SMALL if small else []), *overrides])


def simulate(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Run ``cfg`` into ``out_dir``; its summary as ``summary.json`` holds it."""
    return execute(cfg, out_dir).finished.plain()


def problems(*overrides: str) -> list[str]:
    """What the config layer says of ``overrides`` (on the small default)."""
    return config_problems(make_cfg(*overrides))


def said(match: str, lines: list[str]) -> bool:
    """Some line matches the regular expression ``match``."""
    return any(re.search(match, line) for line in lines)


Run = Callable[..., dict[str, Any]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """``run(*overrides)`` -> summary dict; outputs land in a fresh directory per call."""
    count = iter(range(10_000))

    def _run(*overrides: str, small: bool = True) -> dict[str, Any]:
        out = tmp_path / f"run{next(count)}"
        simulate(make_cfg(*overrides, small=small), out)
        summary = json.loads((out / "summary.json").read_text())
        summary["_dir"] = out
        return summary

    return _run


@pytest.fixture(scope="module")
def run_once(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Like ``run``, but a scenario runs once per module; later calls reuse its summary."""
    done: dict[tuple[str, ...], dict[str, Any]] = {}

    def _run(*overrides: str) -> dict[str, Any]:
        if overrides not in done:
            out = tmp_path_factory.mktemp("run")
            simulate(make_cfg(*overrides), out)
            done[overrides] = json.loads((out / "summary.json").read_text()) | {"_dir": out}
        return done[overrides]

    return _run
