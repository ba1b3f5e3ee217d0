"""Interruptions (Ctrl-C, SIGTERM, a hard kill) and resuming from checkpoints."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.cli import cli
from sim.runs.records import IterationRecord
from sim.runs.session import Session
from tests.conftest import SMALL, make_cfg, simulate

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ("metrics.csv", "trace.json")


def rows(path: Path) -> list[dict[str, str]]:
    with open(path / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def summary(path: Path) -> dict[str, Any]:
    return json.loads((path / "summary.json").read_text())


def same_outputs(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert summary(a)["model_digest"] == summary(b)["model_digest"]


@pytest.fixture
def signal_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``signal_at(it, signum, times)``: the run receives the signal during iteration ``it``."""
    plan: dict[str, Any] = {}
    original = Session.on_record

    def hooked(self: Session, rec: IterationRecord, *args: Any) -> bool:
        if rec.iteration == plan.get("it"):
            for _ in range(plan["times"]):
                os.kill(os.getpid(), plan["signum"])
        return original(self, rec, *args)

    monkeypatch.setattr(Session, "on_record", hooked)

    def arm(it: int | None, signum: int = signal.SIGTERM, times: int = 1) -> None:
        plan.update(it=it, signum=signum, times=times)

    yield arm


def sim_process(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *SMALL, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_rows(path: Path, count: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if len((path / "metrics.csv").read_text().splitlines()) > count:
                return
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"the run ended or stalled before {count} rows: {proc.communicate()}")


LONG = ["code=repetition", "cluster.workers=9", "adversary.placement=random", "model.hidden=[8]"]


def test_sigterm_mid_run_then_resume_gives_the_uninterrupted_model(tmp_path: Path) -> None:
    """Must show 3: kill with SIGTERM mid-way, resume, get the uninterrupted model_digest."""
    args = [*LONG, "train.iterations=150", "checkpoint.every=50"]
    cut = tmp_path / "cut"
    proc = sim_process(*args, f"hydra.run.dir={cut}")
    wait_for_rows(cut, 5, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and "interrupted by SIGTERM" in err and "resume=true" in err
    s = summary(cut)
    done = s["iterations"]
    assert s["status"] == "interrupted" and s["signal"] == "SIGTERM" and 5 <= done < 150
    assert s["checkpoint_iteration"] == done  # stopped at an iteration boundary and saved it
    assert [int(r["iteration"]) for r in rows(cut)] == list(range(done))  # valid partial CSV

    resumed = simulate(make_cfg(*args, "resume=true"), cut)
    whole = tmp_path / "whole"
    simulate(make_cfg(*args), whole)
    assert resumed["resumed_from"] == done and resumed["status"] == "completed"
    same_outputs(cut, whole)


@pytest.mark.slow  # ~18 s; the SIGTERM test above covers resuming fast
def test_a_hard_kill_resumes_from_the_last_periodic_checkpoint(tmp_path: Path) -> None:
    args = [*LONG, "train.iterations=150", "checkpoint.every=7"]
    cut = tmp_path / "cut"
    proc = sim_process(*args, f"hydra.run.dir={cut}")
    wait_for_rows(cut, 10, proc)
    proc.kill()  # SIGKILL: no chance to clean up, like SLURM after its grace period
    proc.communicate(timeout=60)
    written = len(rows(cut))
    assert not (cut / "summary.json").exists() and written < 150

    resumed = simulate(make_cfg(*args, "resume=true"), cut)
    assert resumed["resumed_from"] % 7 == 0 and resumed["resumed_from"] <= written
    whole = tmp_path / "whole"
    simulate(make_cfg(*args), whole)
    same_outputs(cut, whole)  # rows written after the checkpoint were dropped, then redone


STRAGGLERS = ["code=none", "adversary=none", "latency.speed_factors=[1,1,1,1,2,3]"]
# name -> (overrides, iteration during which the signal arrives)
RESUMABLE: dict[str, tuple[list[str], int]] = {
    "repetition": (["code=repetition", "cluster.workers=9"], 7),
    "random placement": (["cluster.workers=9", "adversary.placement=random"], 7),
    "no code": (["code=none", "cluster.workers=6", "adversary=none"], 7),
    "first k": (
        ["cluster.workers=6", *STRAGGLERS, "ps.wait=first_k", "ps.k=4"],
        7,
    ),
    "deadline": (
        ["cluster.workers=6", *STRAGGLERS, "ps.wait=deadline", "ps.deadline_s=0.08"],
        7,
    ),
    "decodable": (
        ["cluster.workers=9", "ps.wait=decodable", "latency.speed_factors=[1,2,1,1,3,1,1,1,2]"],
        7,
    ),
    "momenta and shards": (
        [
            "code=none",
            "aggregator=median",
            "cluster.workers=6",
            "adversary=label_flip",
            "train.momentum=0.9",
            "train.worker_momentum=0.5",
            "data.split=dirichlet",
            "data.alpha=0.5",
        ],
        7,
    ),  # fmt: skip
    "past the trace window": (
        ["code=none", "adversary=none", "cluster.workers=4", "train.iterations=26"],
        21,
    ),
}


@pytest.mark.parametrize("case", list(RESUMABLE))
def test_interrupt_and_resume_reproduce_every_output(
    tmp_path: Path, signal_at: Any, case: str
) -> None:
    overrides, stop_at = RESUMABLE[case]
    args = ["train.iterations=14", "checkpoint.every=5", "model.hidden=[8]", *overrides]
    signal_at(None)
    simulate(make_cfg(*args), tmp_path / "whole")
    signal_at(stop_at)
    cut = simulate(make_cfg(*args), tmp_path / "cut")
    assert cut["status"] == "interrupted" and cut["checkpoint_iteration"] is not None
    signal_at(None)
    simulate(make_cfg(*args, "resume=true"), tmp_path / "cut")
    same_outputs(tmp_path / "cut", tmp_path / "whole")


def test_a_second_signal_stops_at_once_and_still_writes_the_summary(
    tmp_path: Path, signal_at: Any
) -> None:
    signal_at(0, signal.SIGINT, times=2)
    s = simulate(make_cfg("train.iterations=5"), tmp_path)
    assert s["status"] == "interrupted" and s["signal"] == "SIGINT" and s["iterations"] == 0
    on_disk = summary(tmp_path)
    assert on_disk["final_loss"] is None and on_disk["checkpoint_iteration"] is None
    assert rows(tmp_path) == []  # the header is there, and no half-written row
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


def test_resuming_a_finished_run_changes_nothing(tmp_path: Path) -> None:
    args = ["train.iterations=10", "checkpoint.every=5", "cluster.workers=6", "adversary=none"]
    first = simulate(make_cfg(*args), tmp_path)
    before = (tmp_path / "metrics.csv").read_bytes()
    again = simulate(make_cfg(*args, "resume=true"), tmp_path)
    assert again["model_digest"] == first["model_digest"] and again["resumed_from"] == 10
    assert (tmp_path / "metrics.csv").read_bytes() == before


def test_a_fresh_run_removes_a_stale_checkpoint(tmp_path: Path) -> None:
    simulate(make_cfg("train.iterations=4", "checkpoint.every=2"), tmp_path)
    assert (tmp_path / "checkpoint.pt").exists()
    simulate(make_cfg("train.iterations=4"), tmp_path)
    assert not (tmp_path / "checkpoint.pt").exists()


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    simulate(make_cfg("train.iterations=6", "checkpoint.every=2"), tmp_path)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------- resuming from the command line


def test_the_printed_hint_alone_resumes_with_the_saved_settings(
    tmp_path: Path, signal_at: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``resume=true hydra.run.dir=DIR`` is the whole command: DIR's own overrides are
    used; settings that cannot change the result may differ; a refused attempt leaves
    the record of the original command as it was."""
    args = [*SMALL, "cluster.workers=6", "code=none", "adversary=none", "train.iterations=14"]
    args.append("checkpoint.every=5")
    assert cli([*args, f"hydra.run.dir={tmp_path / 'whole'}"]) == 0
    cut = tmp_path / "cut"
    signal_at(7)
    assert cli([*args, f"hydra.run.dir={cut}"]) == 128 + signal.SIGTERM
    hint = capsys.readouterr().err.strip().splitlines()[-1]
    assert hint.endswith(f"with: resume=true hydra.run.dir={cut}")
    signal_at(None)
    done = summary(cut)["iterations"]
    record = (cut / ".hydra" / "overrides.yaml").read_bytes()
    assert cli(["resume=true", f"hydra.run.dir={cut}", "train.lr=0.1"]) == 2
    assert "train.lr=0.5 (now 0.1)" in capsys.readouterr().err
    assert (cut / ".hydra" / "overrides.yaml").read_bytes() == record
    again = ["resume=true", f"hydra.run.dir={cut}", "threads=1", "trace.timeline_workers=2"]
    assert cli(again) == 0
    assert summary(cut)["resumed_from"] == done and summary(cut)["status"] == "completed"
    same_outputs(cut, tmp_path / "whole")
    saved = (cut / ".hydra" / "overrides.yaml").read_text()
    assert "train.iterations=14" in saved and "resume=true" in saved


def test_resume_without_a_run_dir_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["resume=true"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: resume=true needs hydra.run.dir=DIR: the run dir of the run to continue"
    ]


def test_a_rerun_sweep_continues_its_interrupted_job_from_the_checkpoint(
    tmp_path: Path, signal_at: Any
) -> None:
    sweep = [
        "-m",
        *SMALL,
        "cluster.workers=6",
        "code=none",
        "adversary=none",
        "train.iterations=14",
    ]
    sweep += ["checkpoint.every=5", "seed=0,1", "outputs.figures=false"]
    assert cli([*sweep, f"hydra.sweep.dir={tmp_path / 'whole'}"]) == 0
    signal_at(7)  # job 0 stops after iteration 7; job 1 runs whole
    cli([*sweep, f"hydra.sweep.dir={tmp_path / 'cut'}"])
    assert summary(tmp_path / "cut" / "0")["status"] == "interrupted"
    done = summary(tmp_path / "cut" / "0")["iterations"]
    signal_at(None)
    assert cli([*sweep, f"hydra.sweep.dir={tmp_path / 'cut'}"]) == 0
    job = json.loads((tmp_path / "cut" / "0" / "job.json").read_text())
    assert job["outcome"] == "resumed" and summary(tmp_path / "cut" / "0")["resumed_from"] == done
    for k in ("0", "1"):
        same_outputs(tmp_path / "cut" / k, tmp_path / "whole" / k)
