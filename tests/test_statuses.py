"""Statuses tell the truth: skipped updates, ground-truth corruption, reported parameters."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sim.cli import cli
from tests.conftest import Run, problems, said

FAST = ["data=synthetic", "train.iterations=4", "progress=false"]
# 15 workers without a code; worker 14 computes five times slower than the others
SLOW_LAST = ["code=none", "latency=constant", f"latency.speed_factors=[{'1,' * 14}5]"]


def rows(summary: dict) -> list[dict[str, str]]:
    with (Path(summary["_dir"]) / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def test_nothing_in_time_is_a_skipped_update_and_the_guarantee_does_not_hold(run: Run) -> None:
    s = run("code=none", "adversary=none", "ps.wait=deadline", "ps.deadline_s=0.01")
    assert s["skipped_updates"] == s["iterations"] == 30
    assert s["decode_failures"] == 0 and s["corrupted_updates"] == 0
    assert s["guarantee_held"] is False
    assert {r["skipped_updates"] for r in rows(s)} == {"1"}


def test_every_update_skipped_is_a_warning_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["code=none", "adversary=none", "ps.wait=deadline", "ps.deadline_s=0.01"]
    assert cli([*FAST, *args, f"hydra.run.dir={tmp_path}"]) == 0
    err = capsys.readouterr().err
    assert "warning: no iteration applied an update: the model never trained" in err


def test_an_ordinary_run_skips_nothing(run: Run) -> None:
    s = run("train.iterations=5")
    assert s["skipped_updates"] == 0 and s["guarantee_held"] is True


def test_a_liar_the_ps_never_waits_for_corrupts_nothing(run: Run) -> None:
    """The liar is the slowest worker and the PS takes the first 14 of 15: its lie is
    never used, so the model is the adversary-free one and no update is corrupted."""
    wait = ["ps.wait=first_k", "ps.k=14", "train.iterations=6"]
    clean = run(*SLOW_LAST, *wait, "adversary=none")
    for attack in ("reverse", "crash"):
        s = run(*SLOW_LAST, *wait, f"adversary={attack}", "adversary.ids=[14]")
        assert s["model_digest"] == clean["model_digest"], attack
        assert s["corrupted_updates"] == 0, attack


def test_a_late_honest_message_that_changes_what_is_used_is_a_corruption(run: Run) -> None:
    """A delay attack by a fast worker pushes it out of the first 14: the PS uses the slow
    worker's message instead of its own, an update the honest run would not apply."""
    wait = ["ps.wait=first_k", "ps.k=14", "train.iterations=6"]
    clean = run(*SLOW_LAST, *wait, "adversary=none")
    s = run(*SLOW_LAST, *wait, "adversary=delay", "adversary.seconds=10", "adversary.ids=[0]")
    assert s["model_digest"] != clean["model_digest"]
    assert s["corrupted_updates"] == 6


def test_an_overflowing_clock_fails_the_run_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["latency=constant", "latency.seconds=1e308", f"hydra.run.dir={tmp_path}"]
    assert cli([*FAST, *args]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "error: iteration 0: worker 0's compute time overflows the simulated clock (overhead + "
        "load 3 x latency draw, times its speed factor, is not a finite number of seconds); "
        "lower the latency settings"
    ]
    summary = (tmp_path / "summary.json").read_text()
    assert '"status": "failed"' in summary and "overflows the simulated clock" in summary


def test_a_parameter_that_would_be_clamped_is_refused() -> None:
    assert said(r"adversary.target=100: there are 12 honest workers", problems(
        "adversary=mimic", "adversary.target=100"
    ))  # fmt: skip
    assert problems("adversary=mimic", "adversary.target=11") == []


def test_trace_max_spans_is_a_hard_limit(tmp_path: Path) -> None:
    """Not even one round of 5000 workers fits in 1000 spans: one round of the first ones."""
    import json

    args = ["workload=timing_only", "code=none", "cluster.workers=5000", "trace.max_spans=1000"]
    assert cli([*FAST, *args, f"hydra.run.dir={tmp_path}"]) == 0
    trace = json.loads((tmp_path / "trace.json").read_text())
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert 0 < len(spans) <= 1000
    assert trace["otherData"] == {"traced_iterations": 1, "traced_workers": 142, "workers": 5000}
    assert {e["args"]["iteration"] for e in spans} == {0}


def test_a_large_cluster_with_gradients_fits_in_little_memory() -> None:
    """Honest messages of one part are its index: 100,002 workers, well under 1 GiB."""
    from sim.config.validate import check
    from sim.footprint import estimate
    from tests.conftest import make_cfg

    cfg = make_cfg("cluster.workers=100002", "train.batch_size=100002", "data.samples=130000")
    assert estimate(check(cfg)).total < 2**30
