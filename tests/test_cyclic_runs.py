"""DRACO's cyclic code end to end: exact inside the bound, a reported failure beyond it."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import Run
from tests.test_cli import sim

CYC15 = ["code=cyclic", "code.s=2", "cluster.workers=15", "train.iterations=12"]


def test_two_reverse_gradients_change_nothing_three_are_reported(run: Run) -> None:
    clean = run(*CYC15, "adversary=none")
    attacked = run(*CYC15, "adversary=reverse", "adversary.count=2")
    beyond = run(*CYC15, "adversary=reverse", "adversary.count=3")
    assert clean["status"] == attacked["status"] == "completed"
    assert abs(attacked["final_loss"] - clean["final_loss"]) <= 1e-5 * clean["final_loss"]
    assert attacked["decode_failures"] == 0 and attacked["corrupted_updates"] == 0
    assert attacked["guarantee_held"] is True
    with open(Path(attacked["_dir"]) / "metrics.csv") as f:
        first = next(csv.DictReader(f))
    assert first["suspects"] == first["adversary_ranks"] and first["received"] == "15"
    assert beyond["decode_failures"] == 12  # every iteration, and no update applied:
    assert beyond["corrupted_updates"] == 0  # nothing applied, so nothing corrupted
    assert beyond["guarantee_held"] is False
    with open(Path(beyond["_dir"]) / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["corrupted_updates"] for r in rows} == {"0"}


def test_cyclic_runs_are_deterministic(run: Run) -> None:
    args = [*CYC15, "train.iterations=4", "adversary.count=2", "adversary.placement=random"]
    a, b = run(*args, "seed=5"), run(*args, "seed=5")
    for name in ("metrics.csv", "trace.json"):
        assert (a["_dir"] / name).read_bytes() == (b["_dir"] / name).read_bytes()
    assert a["model_digest"] == b["model_digest"]


def test_too_large_s_fails_before_the_run_with_one_line(tmp_path: Path) -> None:
    p = sim("code=cyclic", "code.s=8", "cluster.workers=15", f"hydra.run.dir={tmp_path}")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == [
        "error: code.s=8 needs cluster.workers >= 2s+1 = 17 (got 15); "
        "with 15 workers code.s can be at most 7"
    ]
