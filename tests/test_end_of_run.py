"""The end of a run is a transaction: killed at any point after its last iteration, a run
is either complete (``summary.json`` says so, with the right ``model_digest``) or can be
resumed to the same model.

``tests/slow_end.py`` runs the real command line with a pause before the final
checkpoint and before every optional file, so that a signal lands after the last
iteration: in the essential files (checkpoint, summary) or in the optional ones (trace,
figures, report).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import cli

ROOT = Path(__file__).resolve().parents[1]
ITERATIONS = 12
ARGS = [
    "data=synthetic",
    "data.samples=2000",
    "progress=false",
    "cluster.workers=6",
    "code=none",
    "model.hidden=[8]",
    f"train.iterations={ITERATIONS}",
    "checkpoint.every=5",  # periodic checkpoints at 5 and 10, a final one at 12
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The model an uninterrupted run ends with."""
    whole = tmp_path_factory.mktemp("whole")
    assert cli([*ARGS, f"hydra.run.dir={whole}"]) == 0
    return str(json.loads((whole / "summary.json").read_text())["model_digest"])


def rows_written(run_dir: Path) -> int:
    try:
        return len((run_dir / "metrics.csv").read_text().splitlines()) - 1
    except FileNotFoundError:
        return 0


def killed_after_the_last_iteration(run_dir: Path, signum: int, delay_s: float) -> int:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    script = str(ROOT / "tests" / "slow_end.py")
    proc = subprocess.Popen(
        [sys.executable, script, *ARGS, f"hydra.run.dir={run_dir}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 180
    while rows_written(run_dir) < ITERATIONS:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    time.sleep(delay_s)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    return proc.returncode


def complete_or_resumable(run_dir: Path, reference: str) -> str:
    """'complete' or 'resumed'; asserts the model is the uninterrupted one either way."""
    for name in ("summary.json", "trace.json"):  # whatever exists is whole
        if (run_dir / name).exists():
            json.loads((run_dir / name).read_text())
    summary_file = run_dir / "summary.json"
    if summary_file.exists():
        summary = json.loads(summary_file.read_text())
        if summary["status"] == "completed":
            assert summary["model_digest"] == reference
            assert summary["iterations"] == ITERATIONS
            return "complete"
    assert cli(["resume=true", f"hydra.run.dir={run_dir}", "progress=false"]) == 0
    summary = json.loads(summary_file.read_text())
    assert summary["status"] == "completed" and summary["model_digest"] == reference
    return "resumed"


@pytest.mark.parametrize(
    ("signum", "delay_s", "expected"),
    [
        (signal.SIGTERM, 0.1, "complete"),  # held off while the essential files are written
        pytest.param(  # among the optional files: the rest is skipped
            signal.SIGTERM, 0.8, "complete", marks=pytest.mark.slow
        ),
        (signal.SIGKILL, 0.1, "resumed"),  # before the final checkpoint: the periodic one
    ],
)
def test_a_signal_after_the_last_iteration_loses_nothing(
    tmp_path: Path, reference: str, signum: int, delay_s: float, expected: str
) -> None:
    status = killed_after_the_last_iteration(tmp_path / "run", signum, delay_s)
    assert status == -signal.SIGKILL if signum == signal.SIGKILL else 128 + signum
    assert complete_or_resumable(tmp_path / "run", reference) == expected
    if signum == signal.SIGTERM:
        summary = json.loads((tmp_path / "run" / "summary.json").read_text())
        assert any("skipped (SIGTERM while writing outputs)" in e for e in summary["output_errors"])


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_signals_at_random_points_after_the_last_iteration(
    tmp_path: Path, reference: str, signum: int
) -> None:
    draw = random.Random(signum)
    for k in range(6):
        run_dir = tmp_path / f"run{k}"
        killed_after_the_last_iteration(run_dir, signum, draw.uniform(0.0, 2.0))
        complete_or_resumable(run_dir, reference)


# ---------------------------------------------------------------- optional files


EDGES = {
    "the PS linked to every worker": ["ps w0", "ps w1", "ps w2"],
    "a switch named wan": ["ps wan", "wan w0", "wan w1", "wan w2"],
}


@pytest.mark.parametrize("topology", list(EDGES))
def test_any_node_names_draw_a_timeline(tmp_path: Path, topology: str) -> None:
    graph = tmp_path / "net.edges"
    graph.write_text("".join(f"{edge} 1e9 1e-4\n" for edge in EDGES[topology]))
    args = ["network=graph", f"network.path={graph}", "code=none", "cluster.workers=3"]
    run_dir = tmp_path / "run"
    small = [*ARGS[:2], "progress=false", "train.iterations=3"]
    assert cli([*small, *args, f"hydra.run.dir={run_dir}"]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["output_errors"] == [] and (run_dir / "timeline.png").stat().st_size > 0


def test_a_figure_that_fails_is_named_and_the_run_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.report import timeline
    from sim.report.painter import Painter
    from sim.runs import session

    def broken(*_: object, **__: object) -> None:
        raise ValueError("drawing failed")

    monkeypatch.setattr(timeline, "timeline", broken)
    monkeypatch.setattr(session, "painter", lambda: Painter(spawn=False))  # draw here
    run_dir = tmp_path / "run"
    small = [*ARGS[:2], "progress=false", "train.iterations=3"]
    assert cli([*small, f"hydra.run.dir={run_dir}"]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["model_digest"]
    assert [e.split(":")[0] for e in summary["output_errors"]] == ["timeline.png"]
    assert "warning: timeline.png" in capsys.readouterr().err
    assert (run_dir / "report.html").exists()  # the files after it are still written
