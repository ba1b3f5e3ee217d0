"""Multirun sweeps from the command line: parallel launchers, resuming, the Optuna search."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.test_cli import ROOT, sim

TINY = ["data=synthetic", "data.samples=1000", "train.iterations=3", "progress=false"]
GRID = ["adversary=none,reverse", "seed=0,1"]


def multirun(sweep: Path, *args: str) -> subprocess.CompletedProcess[str]:
    p = sim("-m", *args, *TINY, f"hydra.sweep.dir={sweep}")
    assert p.returncode == 0, p.stderr[-3000:]
    return p


def outcomes(sweep: Path) -> dict[str, str]:
    return {d.name: json.loads((d / "job.json").read_text())["outcome"] for d in jobs(sweep)}


def jobs(sweep: Path) -> list[Path]:
    return sorted((d for d in sweep.iterdir() if d.name.isdigit()), key=lambda d: int(d.name))


def stamps(sweep: Path) -> dict[str, int]:
    return {d.name: (d / "metrics.csv").stat().st_mtime_ns for d in jobs(sweep)}


def table(sweep: Path) -> list[dict[str, str]]:
    with (sweep / "summary.csv").open() as f:
        return list(csv.DictReader(f))


def check_rerun_trains_nothing(sweep: Path, *args: str) -> None:
    """Rerunning a finished sweep reuses every job and writes the same summary."""
    before, md = stamps(sweep), (sweep / "summary.md").read_bytes()
    multirun(sweep, *args)
    assert set(outcomes(sweep).values()) == {"reused"}
    assert stamps(sweep) == before
    assert (sweep / "summary.md").read_bytes() == md


def check_lost_result_reruns_only_it(sweep: Path, *args: str) -> None:
    """After job 1's result is lost (as if killed before its end), only job 1 trains."""
    before, rows = stamps(sweep), table(sweep)
    (sweep / "1" / "summary.json").unlink()
    multirun(sweep, *args)
    assert outcomes(sweep) == {"0": "reused", "1": "ran", "2": "reused", "3": "reused"}
    after = stamps(sweep)
    assert after["1"] > before["1"]
    assert {k: after[k] for k in "023"} == {k: before[k] for k in "023"}
    for old, new in zip(rows, table(sweep), strict=True):  # the same deterministic run
        assert {k: v for k, v in old.items() if k != "wall_time_s"} == {
            k: v for k, v in new.items() if k != "wall_time_s"
        }


def check_sweep(sweep: Path) -> None:
    rows = table(sweep)
    assert [(r["adversary"], r["seed"], r["status"]) for r in rows] == [
        ("none", "0", "completed"),
        ("none", "1", "completed"),
        ("reverse", "0", "completed"),
        ("reverse", "1", "completed"),
    ]
    # DRACO removes the reverse gradient exactly: each seed trains the same model either way
    assert rows[0]["model_digest"] == rows[2]["model_digest"] != rows[1]["model_digest"]
    with (sweep / "summary_seeds.csv").open() as f:
        groups = list(csv.DictReader(f))
    assert [(g["adversary"], g["runs"], g["seeds"]) for g in groups] == [
        ("none", "2", "0 1"),
        ("reverse", "2", "0 1"),
    ]
    acc = [float(r["final_accuracy"]) for r in rows[:2]]
    assert float(groups[0]["final_accuracy_mean"]) == pytest.approx(sum(acc) / 2)
    assert "## Over seeds" in (sweep / "summary.md").read_text()


def test_joblib_sweep_runs_jobs_in_parallel_summarizes_and_resumes(tmp_path: Path) -> None:
    args = ("hydra/launcher=joblib", *GRID)
    p = multirun(tmp_path, *args)
    assert "is launching 4 jobs" in p.stdout + p.stderr
    records = [json.loads((d / "job.json").read_text()) for d in jobs(tmp_path)]
    assert all(r["outcome"] == "ran" and r["threads"] == 1 for r in records)
    assert len({r["pid"] for r in records}) >= 2  # worker processes, not one after another
    for d in jobs(tmp_path):  # drawn by each worker itself
        assert all((d / f).read_bytes()[:4] == b"\x89PNG" for f in ("training.png", "timeline.png"))
    check_sweep(tmp_path)
    check_rerun_trains_nothing(tmp_path, *args)


@pytest.mark.slow
def test_joblib_sweep_reruns_only_the_job_whose_result_is_lost(tmp_path: Path) -> None:
    args = ("hydra/launcher=joblib", *GRID)
    multirun(tmp_path, *args)
    check_lost_result_reruns_only_it(tmp_path, *args)


@pytest.mark.slow
def test_submitit_local_sweep_summarizes_and_resumes(tmp_path: Path) -> None:
    args = ("hydra/launcher=submitit_local", *GRID)
    multirun(tmp_path, *args)
    assert (tmp_path / ".submitit").is_dir()
    records = [json.loads((d / "job.json").read_text()) for d in jobs(tmp_path)]
    assert len({r["pid"] for r in records}) == 4 and all(r["threads"] == 1 for r in records)
    check_sweep(tmp_path)
    check_rerun_trains_nothing(tmp_path, *args)
    check_lost_result_reruns_only_it(tmp_path, *args)


@pytest.mark.slow
def test_a_killed_sweep_resumes_without_redoing_finished_jobs(tmp_path: Path) -> None:
    args = ["-m", "seed=0,1,2", *TINY, "train.iterations=40", f"hydra.sweep.dir={tmp_path}"]
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:  # kill the sweep (launcher and job) while job 1 is training
        deadline = time.monotonic() + 240
        while not (tmp_path / "1" / "metrics.csv").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "sweep ended early"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (tmp_path / "0" / "summary.json").exists()
    assert not (tmp_path / "1" / "summary.json").exists()
    before = stamps(tmp_path)["0"]
    p = sim(*args)  # the same command again
    assert p.returncode == 0, p.stderr[-3000:]
    assert outcomes(tmp_path) == {"0": "reused", "1": "ran", "2": "ran"}
    assert stamps(tmp_path)["0"] == before
    assert [r["status"] for r in table(tmp_path)] == ["completed"] * 3


@pytest.mark.slow
def test_strongest_attack_search_finds_a_damaging_attack_and_resumes(tmp_path: Path) -> None:
    args = ("experiment=strongest_attack", "hydra.sweeper.n_trials=4", "train.iterations=5")
    multirun(tmp_path, *args)
    rows = table(tmp_path)
    assert len(rows) == 4 and {"adversary.scale", "adversary.count"} <= set(rows[0])
    best = yaml.safe_load((tmp_path / "optimization_results.yaml").read_text())
    accuracies = [float(r["final_accuracy"]) for r in rows]
    assert best["best_value"] == pytest.approx(min(accuracies))
    multirun(tmp_path, *args)  # the seeded sampler proposes the same trials: all reused
    assert set(outcomes(tmp_path).values()) == {"reused"}
    assert yaml.safe_load((tmp_path / "optimization_results.yaml").read_text()) == best


def test_a_job_beside_others_draws_without_a_figure_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under joblib the other cores run the other jobs: no child process to draw."""
    from sim.report import painter
    from sim.sweep.threads import parallel_jobs

    joblib = {"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"}
    assert parallel_jobs({**joblib, "n_jobs": 2}) and parallel_jobs({**joblib, "n_jobs": -1})
    assert not parallel_jobs({**joblib, "n_jobs": 1}) and not parallel_jobs(None)
    monkeypatch.setattr(painter, "_here", False)
    painter.draw_here()
    assert painter.painter().proc is None
