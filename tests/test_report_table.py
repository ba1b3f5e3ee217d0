"""The sweep table helper and the shipped attack matrix scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sim.config.options import GROUPS
from sim.report.__main__ import main
from sim.report.table import collect, write
from tests.conftest import SCENARIOS, make_cfg


def fake_sweep(root: Path) -> None:
    jobs = [
        ("reverse", "mean", 0.1, 5, "diverged"),
        ("reverse", "draco", 0.9, 0, "completed"),
        ("alie", "mean", 0.8, 7, "completed"),
        ("alie", "draco", 0.9, 0, "completed"),
    ]
    for num, (adv, defense, acc, bad, status) in enumerate(jobs):
        job = root / str(num)
        (job / ".hydra").mkdir(parents=True)
        (job / ".hydra" / "overrides.yaml").write_text(
            yaml.safe_dump([f"adversary={adv}", f"defense={defense}", "train.iterations=3"])
        )
        summary = {"status": status, "final_accuracy": acc, "corrupted_updates": bad}
        (job / "summary.json").write_text(json.dumps(summary))


def test_collect_and_pivot(tmp_path: Path) -> None:
    fake_sweep(tmp_path)
    rows, swept = collect(tmp_path)
    assert swept == ["adversary", "defense"]  # train.iterations did not vary
    assert [r["job"] for r in rows] == ["0", "1", "2", "3"]
    csv_path, md_path = write(tmp_path)
    assert csv_path.read_text().splitlines()[0].startswith("adversary,defense,train.iterations")
    md = md_path.read_text()
    assert "| adversary | mean | draco |" in md
    assert "| reverse | 0.100 (diverged) | 0.900 |" in md
    assert "| alie | 7 | 0 |" in md


def test_entry_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 2  # nothing there yet
    assert "no run" in capsys.readouterr().err
    fake_sweep(tmp_path)
    assert main([str(tmp_path)]) == 0 and (tmp_path / "table.md").exists()


def test_attack_matrix_sweeps_every_strategy_against_the_defenses() -> None:
    text = (SCENARIOS / "experiment" / "attack_matrix.yaml").read_text()
    assert text.startswith("# @package _global_")
    params = yaml.safe_load(text)["hydra"]["sweeper"]["params"]
    strategies = set(GROUPS["adversary"].options) - {"mixed"}
    assert set(params["adversary"].split(",")) == strategies
    assert set(params["defense"].split(",")) == {"mean", "median", "krum", "draco"}
    cfg = make_cfg("experiment=attack_matrix", "defense=draco", "adversary=alie", small=False)
    assert cfg.adversary.ids == [0, 3, 6, 9, 12] and cfg.code.r == 3 and cfg.cluster.workers == 15
