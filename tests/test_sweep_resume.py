"""Resumable sweep jobs, without Hydra's launchers: a fake simulate that counts its calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import DictConfig

from sim.runs.records import Summary
from sim.sweep.resume import STASH, config_hash, read_record, resumable
from tests.conftest import make_cfg


class FakeSimulate:
    """Writes what a run writes (metrics first, summary last); optionally dies midway."""

    def __init__(self, status: str = "completed") -> None:
        self.calls: list[tuple[int, Path]] = []
        self.status = status
        self.crash = False

    def __call__(self, cfg: DictConfig, out_dir: Path, payload: object = None) -> Summary:
        self.calls.append((cfg.seed, out_dir))
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "metrics.csv").write_text(f"seed\n{cfg.seed}\n")
        if self.crash:
            raise KeyboardInterrupt  # killed before the summary is written
        summary = {"status": self.status, "final_accuracy": 0.5 + cfg.seed, "final_loss": None}
        (out_dir / "summary.json").write_text(json.dumps(summary))
        return Summary.from_dict(summary)


def cfg(seed: int, *more: str) -> DictConfig:
    return make_cfg(f"seed={seed}", "data=synthetic", *more)


def test_config_hash_ignores_key_order_and_display_keys_but_not_the_experiment() -> None:
    base = config_hash(cfg(0, "train.iterations=3", "adversary.count=1"))
    assert base == config_hash(cfg(0, "adversary.count=1", "train.iterations=3"))
    assert base == config_hash(cfg(0, "train.iterations=3", "adversary.count=1", "threads=1"))
    assert base == config_hash(cfg(0, "train.iterations=3", "adversary.count=1", "progress=true"))
    assert base != config_hash(cfg(1, "train.iterations=3", "adversary.count=1"))
    assert base != config_hash(cfg(0, "train.iterations=3", "adversary.count=2"))
    assert len(base) == 64


def test_a_finished_job_is_reused_in_place_without_touching_its_outputs(tmp_path: Path) -> None:
    sim = FakeSimulate()
    job = tmp_path / "0"
    first = resumable(cfg(0), job, tmp_path, sim)
    stamp = (job / "metrics.csv").stat().st_mtime_ns
    again = resumable(cfg(0), job, tmp_path, sim)
    assert len(sim.calls) == 1
    assert again.final_accuracy == first.final_accuracy == 0.5
    assert again.final_loss != again.final_loss  # JSON null comes back as NaN
    assert (job / "metrics.csv").stat().st_mtime_ns == stamp
    assert read_record(job)["outcome"] == "reused"


def test_a_crashed_job_is_rerun_and_a_diverged_one_is_not(tmp_path: Path) -> None:
    sim = FakeSimulate(status="diverged")
    sim.crash = True
    with pytest.raises(KeyboardInterrupt):
        resumable(cfg(0), tmp_path / "0", tmp_path, sim)
    assert read_record(tmp_path / "0")["outcome"] == "running"
    sim.crash = False
    resumable(cfg(0), tmp_path / "0", tmp_path, sim)
    resumable(cfg(0), tmp_path / "0", tmp_path, sim)
    assert len(sim.calls) == 2 and read_record(tmp_path / "0")["outcome"] == "reused"


def test_reordered_values_reuse_results_from_other_job_dirs(tmp_path: Path) -> None:
    sim = FakeSimulate()
    resumable(cfg(0), tmp_path / "0", tmp_path, sim)
    resumable(cfg(1), tmp_path / "1", tmp_path, sim)
    # the same sweep with seed=1,0: job 0 is now seed 1 and job 1 is seed 0
    resumable(cfg(1), tmp_path / "0", tmp_path, sim)
    resumable(cfg(0), tmp_path / "1", tmp_path, sim)
    assert len(sim.calls) == 2
    assert (tmp_path / "0" / "metrics.csv").read_text() == "seed\n1\n"
    assert (tmp_path / "1" / "metrics.csv").read_text() == "seed\n0\n"
    assert read_record(tmp_path / "1")["outcome"] == "copied"
    assert read_record(tmp_path / "1")["source"].startswith(str(tmp_path / STASH))


def test_a_new_config_in_an_old_job_dir_runs_and_keeps_the_old_result(tmp_path: Path) -> None:
    sim = FakeSimulate()
    resumable(cfg(0), tmp_path / "0", tmp_path, sim)
    resumable(cfg(2), tmp_path / "0", tmp_path, sim)  # a different sweep into the same dir
    resumable(cfg(0), tmp_path / "1", tmp_path, sim)  # seed 0 is found in the stash
    assert [seed for seed, _ in sim.calls] == [0, 2]
    assert (tmp_path / "0" / "metrics.csv").read_text() == "seed\n2\n"
