"""The sweep's tables and the per-job thread budget, on hand-made job directories."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from sim.report.summary import aggregate, summarize, write_summary
from sim.sweep.threads import auto_threads
from tests.conftest import problems, said


def job(sweep: Path, num: int, overrides: list[str], summary: dict[str, object] | None) -> None:
    d = sweep / str(num)
    (d / ".hydra").mkdir(parents=True)
    (d / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    if summary is not None:
        (d / "summary.json").write_text(json.dumps(summary))


def done(acc: float, loss: float = 1.0, status: str = "completed") -> dict[str, object]:
    return {"status": status, "final_accuracy": acc, "final_loss": loss, "sim_time_s": 2.0}


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    job(tmp_path, 0, ["adversary=none", "seed=0", "train.iterations=5"], done(0.6))
    job(tmp_path, 1, ["adversary=none", "seed=1", "train.iterations=5"], done(0.8, 3.0))
    job(tmp_path, 2, ["adversary=none", "seed=2", "train.iterations=5"], None)  # crashed
    job(tmp_path, 10, ["adversary=reverse", "seed=0", "train.iterations=5"], done(0.1))
    return tmp_path


def test_summarize_lists_every_job_in_numeric_order_with_its_overrides(sweep: Path) -> None:
    rows = summarize(sweep)
    assert [r["job"] for r in rows] == ["0", "1", "2", "10"]
    assert rows[3]["adversary"] == "reverse" and rows[3]["seed"] == "0"
    assert rows[2]["status"] == "unfinished" and rows[2]["final_accuracy"] is None


def test_aggregate_gives_mean_and_spread_over_seeds_of_finished_runs(sweep: Path) -> None:
    groups = {g["adversary"]: g for g in aggregate(summarize(sweep))}
    none = groups["none"]
    assert (none["runs"], none["finished"], none["seeds"]) == (3, 2, "0 1 2")
    assert none["final_accuracy_mean"] == pytest.approx(0.7)
    assert none["final_accuracy_std"] == pytest.approx(math.sqrt(0.02))  # sample std
    assert (none["final_accuracy_min"], none["final_accuracy_max"]) == (0.6, 0.8)
    assert none["final_loss_mean"] == pytest.approx(2.0)
    assert math.isnan(groups["reverse"]["final_accuracy_std"])  # one seed: no spread


def test_write_summary_writes_both_tables(sweep: Path) -> None:
    write_summary(sweep)
    md = (sweep / "summary.md").read_text()
    assert "Same in every job: `train.iterations=5`" in md
    assert "| 2 | none | 2 | unfinished |" in md
    assert (
        (sweep / "summary.csv")
        .read_text()
        .splitlines()[0]
        .startswith("job,adversary,seed,train.iterations,status,final_accuracy")
    )
    seeds = (sweep / "summary_seeds.csv").read_text().splitlines()
    assert seeds[0].startswith("adversary,runs,finished,seeds,final_accuracy_mean")
    assert len(seeds) == 3


def test_threads_are_shared_among_parallel_jobs() -> None:
    joblib = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
    local = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher"
    assert auto_threads(8, {"_target_": joblib, "n_jobs": -1}) == 1
    assert auto_threads(8, {"_target_": joblib, "n_jobs": 2}) == 4
    assert auto_threads(8, {"_target_": joblib, "n_jobs": -3}) == 1  # 6 jobs on 8 cores
    assert auto_threads(2, {"_target_": joblib, "n_jobs": 16}) == 1
    assert auto_threads(8, {"_target_": local, "cpus_per_task": None}) == 1
    assert auto_threads(8, {"_target_": local, "cpus_per_task": 3}) == 3
    basic = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
    assert auto_threads(8, {"_target_": basic}) is None


def test_negative_threads_is_a_config_error() -> None:
    assert said("threads=-1", problems("threads=-1"))


def test_the_slurm_launcher_config_composes_with_the_settings_users_change() -> None:
    from hydra import compose, initialize_config_dir

    from tests.conftest import SCENARIOS

    overrides = [
        "hydra/launcher=slurm",
        "hydra.launcher.partition=cpu",
        "hydra.launcher.partiton=1",
    ]
    with initialize_config_dir(config_dir=str(SCENARIOS), version_base="1.3"):
        cfg = compose("config", overrides=overrides[:2], return_hydra_config=True)
        with pytest.raises(Exception, match="partiton"):
            compose("config", overrides=overrides, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher") and launcher.partition == "cpu"
    assert auto_threads(64, launcher) == launcher.cpus_per_task == 2
    assert launcher.array_parallelism == 64 and list(launcher.setup) == []
