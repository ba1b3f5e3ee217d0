"""The command line as a user meets it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_default_scenario_writes_its_outputs(tmp_path: Path) -> None:
    p = sim("train.iterations=20", f"hydra.run.dir={tmp_path}")
    assert p.returncode == 0, p.stderr
    for name in ("metrics.csv", "summary.json", "trace.json", "training.png", "config.yaml"):
        assert (tmp_path / name).stat().st_size > 0, name
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["iterations"] == 20 and len(summary["model_digest"]) == 64


def test_misspelt_key_fails_at_composition_naming_it(tmp_path: Path) -> None:
    p = sim("cluster.wokers=9", f"hydra.run.dir={tmp_path}")
    assert p.returncode != 0
    assert "cluster.wokers" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "metrics.csv").exists()


def test_misspelt_option_lists_the_valid_ones() -> None:
    p = sim("code=repitition")
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert "code=repitition" in p.stderr
    assert "valid options: assignment, cyclic, none, repetition" in p.stderr


def test_impossible_setting_fails_with_one_line(tmp_path: Path) -> None:
    p = sim("cluster.workers=10", "code=repetition", "code.r=3", f"hydra.run.dir={tmp_path}")
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("error: cluster.workers=10")
    assert "code.r=3" in lines[0] and "Traceback" not in p.stderr
    assert not (tmp_path / "metrics.csv").exists()
