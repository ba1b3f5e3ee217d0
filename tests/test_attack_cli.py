"""Must show 1: every strategy runs from the CLI against plain averaging, the median (and
every other shipped rule) and DRACO's repetition code, and does what its definition says.

One ``-m`` sweep per setting runs all strategies in one process; the sweep table helper
reads the jobs back.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from sim.config.options import GROUPS
from sim.report.table import collect
from tests.conftest import SCENARIOS, Run
from tests.test_cli import sim

STRATEGIES = sorted(set(GROUPS["adversary"].options) - {"mixed"})
RULES = sorted(GROUPS["aggregator"].options)
ITERATIONS = 3
SMALL = [
    "cluster.workers=9",
    f"train.iterations={ITERATIONS}",
    "data=synthetic",
    "data.samples=2000",
]


def sweep(tmp_path: Path, *setting: str) -> dict[str, dict[str, Any]]:
    """Run every strategy under ``setting``; {strategy: summary + metrics rows}."""
    p = sim(
        "-m",
        f"adversary={','.join(STRATEGIES)}",
        *setting,
        *SMALL,
        "progress=false",
        f"hydra.sweep.dir={tmp_path}",
    )
    assert p.returncode == 0, p.stderr[-3000:]
    rows, _ = collect(tmp_path)
    out = {}
    for row in rows:
        with open(tmp_path / row["job"] / "metrics.csv") as f:
            row["metrics"] = list(csv.DictReader(f))
        out[row["adversary"]] = row
    assert sorted(out) == STRATEGIES
    for name, row in out.items():  # each ran under its own name, every iteration recorded
        attack = {r["attack"].split("(")[0] for r in row["metrics"]}
        assert attack == ({""} if name == "none" else {name}), name
    return out


@pytest.mark.slow  # ~45 s on a 2-core CPU: ALIE, IPM and mimic materialize every part
def test_every_strategy_against_plain_averaging(tmp_path: Path) -> None:
    runs = sweep(tmp_path, "code=none", "aggregator=mean", "latency=constant")
    for name, row in runs.items():
        m = row["metrics"]
        if name in ("nans", "infs"):  # one non-finite vector poisons the mean at once
            assert row["status"] == "diverged" and len(m) == 1, name
        elif name in ("none", "delay"):  # delay: honest content, only late
            assert row["corrupted_updates"] == 0, name
        else:
            assert row["corrupted_updates"] == ITERATIONS, name
    assert all(r["received"] == "8" for r in runs["crash"]["metrics"])  # erasure
    assert all(r["received"] == "9" for r in runs["delay"]["metrics"])
    slow = [float(r["iteration_time_s"]) for r in runs["delay"]["metrics"]]
    fast = [float(r["iteration_time_s"]) for r in runs["none"]["metrics"]]
    assert all(s == pytest.approx(f + 1.0, abs=1e-3) for s, f in zip(slow, fast, strict=True))


ROBUST = [
    pytest.param(
        rule,
        marks=[
            pytest.mark.slow,  # ~26 s each; test_every_defense_of_the_attack_matrix_runs is fast
            pytest.mark.skipif(rule not in RULES, reason=f"no aggregator={rule} in this checkout"),
        ],
    )
    for rule in sorted({"median", *RULES} - {"mean"})
]


@pytest.mark.parametrize("rule", ROBUST)
def test_every_strategy_against_a_robust_rule(tmp_path: Path, rule: str) -> None:
    runs = sweep(tmp_path, "code=none", f"aggregator={rule}")
    assert all(row["status"] in ("completed", "diverged") for row in runs.values())
    if rule == "median":  # a minority of non-finite or huge vectors never reaches the median
        for name in ("nans", "infs", "reverse", "constant", "gaussian"):
            assert runs[name]["status"] == "completed", name
            assert runs[name]["final_loss"] is not None, name


@pytest.mark.slow  # ~24 s; tests/test_nonfinite_runs.py checks DRACO fast
def test_every_strategy_against_draco_within_its_bound(tmp_path: Path) -> None:
    runs = sweep(tmp_path, "code=repetition", "code.r=3", "adversary.count=1")
    digests = {}
    for name, row in runs.items():
        summary = json.loads((tmp_path / row["job"] / "summary.json").read_text())
        digests[name] = summary["model_digest"]
        assert row["corrupted_updates"] == 0 and row["decode_failures"] == 0, name
        assert all(r["adversaries"] == ("0" if name == "none" else "1") for r in row["metrics"])
    assert set(digests.values()) == {digests["none"]}, digests  # the adversary-free model, exactly


DEFENSES = sorted(p.stem for p in (SCENARIOS / "defense").glob("*.yaml"))


@pytest.mark.parametrize("defense", DEFENSES)
def test_every_defense_of_the_attack_matrix_runs(run: Run, defense: str) -> None:
    """The matrix's own setting (Krum declares ``f = ${adversary.count}``, an interpolation
    that must resolve against the whole config, not the aggregator node alone)."""
    s = run(
        "experiment=attack_matrix", f"defense={defense}", "adversary=reverse", "train.iterations=2"
    )
    assert s["status"] in ("completed", "diverged") and s["iterations"] == 2
    if defense == "draco":  # 5 liars, one per group of 3: exactly within the bound
        assert s["corrupted_updates"] == 0
