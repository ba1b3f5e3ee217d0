"""``python -m sim.report`` over a real 2 x 3 multirun."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from sim.report.__main__ import main as report_main

ROOT = Path(__file__).resolve().parents[1]
TINY = ["data=synthetic", "data.samples=1000", "train.iterations=10", "train.eval_every=2",
        "progress=false", "code=none"]  # fmt: skip


@pytest.mark.slow  # ~17 s; tests/test_report_table.py covers the report fast
def test_report_over_a_two_by_three_multirun(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    p = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *TINY, "adversary=reverse",
         "adversary.count=0,1", "latency=constant,shifted_exp,pareto",
         f"hydra.sweep.dir={sweep}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    for name in ("summary.csv", "summary.md", "accuracy_vs_time.png", "time_to_target.png",
                 "accuracy_heatmap.png"):  # fmt: skip
        (sweep / name).unlink()  # written by the sweep's end; the command must remake them
    assert report_main([str(sweep), "--target", "0.5"]) == 0
    with (sweep / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    assert {(r["adversary.count"], r["latency"]) for r in rows} == {
        (c, lat) for c in ("0", "1") for lat in ("constant", "shifted_exp", "pareto")
    }
    clean = [r for r in rows if r["adversary.count"] == "0"]
    assert all(float(r["final_accuracy"]) > 0.5 for r in clean)
    assert "| adversary.count | latency |" in (sweep / "summary.md").read_text()
    for name in ("accuracy_vs_time.png", "time_to_target.png", "accuracy_heatmap.png"):
        with Image.open(sweep / name) as im:
            assert im.width > 400 and im.height > 200
    # one run dir: its report.html is rebuilt
    (sweep / "0" / "report.html").unlink()
    assert report_main([str(sweep / "0")]) == 0
    assert "<img" in (sweep / "0" / "report.html").read_text()


def test_report_rejects_a_dir_without_runs(tmp_path: Path) -> None:
    assert report_main([str(tmp_path)]) == 2
