"""metrics.csv holds plain numbers, whatever numeric type the simulator computed them in."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sim.runs.sink import _fmt
from tests.conftest import Run


def test_numpy_floats_are_written_as_plain_numbers() -> None:
    assert _fmt(np.float64(0.5)) == "0.5" and _fmt(0.25) == "0.25"
    assert _fmt(np.float64("nan")) == "" and _fmt(3) == 3


def test_a_crash_run_without_a_code_writes_readable_times(run: Run) -> None:
    """Crashed workers leave erasures; the PS's wait then ends on a numpy-computed time."""
    s = run("code=none", "cluster.workers=9", "adversary=crash", "train.iterations=3")
    with open(Path(s["_dir"]) / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    for r in rows:
        float(r["sim_time_s"]), float(r["iteration_time_s"])
