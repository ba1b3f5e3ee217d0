"""The paper scenarios (experiment=paper_fc, paper_fc_small): they compose, they run, and
DRACO within its bound trains exactly the adversary-free model there."""

from __future__ import annotations

import csv

import pytest
import yaml

from tests.conftest import SCENARIOS, Run, load_script, make_cfg

EXPERIMENTS = SCENARIOS / "experiment"


def sweep_params(name: str) -> dict[str, list[str]]:
    params = yaml.safe_load((EXPERIMENTS / f"{name}.yaml").read_text())["hydra"]["sweeper"][
        "params"
    ]
    return {k: str(v).split(",") for k, v in params.items()}


@pytest.mark.parametrize("name", ["paper_fc", "paper_fc_small"])
def test_every_method_of_the_sweep_composes_the_paper_cluster(name: str) -> None:
    params = sweep_params(name)
    methods = {"draco", "draco5", "mean", "geomed_paper", "geomed", "median", "krum"}
    assert methods <= set(params["defense"])
    assert "reverse" in params["adversary"] and "none" in params["adversary"]
    expected = {
        "draco": ("Repetition", 3),
        "draco5": ("Repetition", 5),
        "geomed": ("NoCode", 1),
        "geomed_paper": ("NoCode", 1),
    }
    for defense in params["defense"]:
        cfg = make_cfg(f"experiment={name}", f"defense={defense}", small=False)
        assert cfg.cluster.workers == 45
        assert list(cfg.model.hidden) == [800, 500] and "mnist" in cfg.data._target_
        assert cfg.network.bandwidth_bps == 1.184e9 and cfg.ps.flops == 3.046e8
        if defense in expected:
            kind, r = expected[defense]
            assert kind in cfg.code._target_ and cfg.code.get("r", 1) == r
        if defense == "krum":
            assert cfg.aggregator.f == cfg.adversary.count == 9
    # 9 adversaries, each alone in its repetition group for r=3 and for r=5
    ids = list(make_cfg(f"experiment={name}", small=False).adversary.ids)
    assert len({i // 3 for i in ids}) == len({i // 5 for i in ids}) == len(ids) == 9


def test_paper_fc_small_shrunk_runs_and_geomed_costs_more_at_the_ps(run: Run) -> None:
    """Two timing-only iterations of the real cluster: DRACO's PS time is one pass over the
    messages, the geometric median's a sort plus Weiszfeld passes."""
    ps_time = {}
    for defense in ("draco5", "geomed"):
        s = run("experiment=paper_fc_small", f"defense={defense}", "adversary=reverse",
                "workload=timing_only", "train.iterations=2", small=False)  # fmt: skip
        assert s["status"] == "completed" and s["iterations"] == 2 and s["sim_time_s"] > 0
        with open(s["_dir"] / "metrics.csv") as f:
            rows = list(csv.DictReader(f))
        ps_time[defense] = float(rows[0]["decode_s"]) + float(rows[0]["aggregate_s"])
    assert ps_time["geomed"] > 5 * ps_time["draco5"] > 0


SHRUNK = [
    "experiment=paper_fc",
    "cluster.workers=15",
    "adversary.count=3",
    "adversary.ids=[0,5,10]",  # one per group for r=3 (groups 0, 1, 3) and r=5 (0, 1, 2)
    "model=mlp",
    "model.hidden=[32,16]",
    "data.samples=600",
    "train.batch_size=150",
    "train.iterations=4",
    "train.eval_every=2",
]


@pytest.mark.parametrize("defense", ["draco", pytest.param("draco5", marks=pytest.mark.slow)])
def test_paper_scenario_shrunk_draco_equals_the_adversary_free_model(
    run: Run, defense: str
) -> None:
    clean = run(*SHRUNK, f"defense={defense}", "adversary=none", small=False)
    for attack in ("reverse", "constant"):
        s = run(*SHRUNK, f"defense={defense}", f"adversary={attack}", small=False)
        assert s["model_digest"] == clean["model_digest"], attack
        assert s["corrupted_updates"] == 0 and s["guarantee_held"] is True
    # the same attack breaks the plain mean: the digest check can fail
    mean = run(*SHRUNK, "defense=mean", "adversary=reverse", small=False)
    assert mean["model_digest"] != clean["model_digest"] and mean["corrupted_updates"] > 0


# The DRACO authors' measurements of this cluster (docs/paper_study.md, "Calibration")
COMPUTE = {45: 0.586, 15: 0.241, 9: 0.173, 5: 0.125, 3: 0.101}  # r -> worker seconds
ITERATION = {"mean": 1.53, "draco": 1.70, "geomed_paper": 4.04}  # seconds, no adversary


def test_the_calibrated_compute_model_is_within_10_percent_of_every_measured_time() -> None:
    lat = make_cfg("experiment=paper_fc", small=False).latency
    for r, measured in COMPUTE.items():
        assert lat.overhead_s + r * lat.seconds == pytest.approx(measured, rel=0.10), r


@pytest.mark.parametrize("defense", ["mean", "draco"])
def test_the_calibrated_cluster_times_averaging_and_the_vote_within_10_percent(
    run: Run, defense: str
) -> None:
    s = run("experiment=paper_fc", f"defense={defense}", "adversary=none",
            "workload=timing_only", "train.iterations=1", small=False)  # fmt: skip
    assert s["mean_iteration_time_s"] == pytest.approx(ITERATION[defense], rel=0.10)


@pytest.mark.slow
def test_the_authors_geomed_on_real_gradients_is_within_10_percent(run: Run) -> None:
    """Its PS time comes from the Weiszfeld steps it takes on real gradients."""
    s = run("experiment=paper_fc", "defense=geomed_paper", "adversary=none",
            "train.iterations=2", small=False)  # fmt: skip
    assert s["mean_iteration_time_s"] == pytest.approx(ITERATION["geomed_paper"], rel=0.10)


def study_script():  # type: ignore[no-untyped-def]
    return load_script(SCENARIOS.parents[1] / "docs" / "paper" / "make_study.py", "make_study")


def test_the_study_keeps_draco_within_its_bound_at_every_adversary_count() -> None:
    """9, 17 and 22 adversaries of 45, spread evenly: DRACO needs groups of 3, 5 and 45."""
    study = study_script()
    assert [study.smallest_r(study.spread(c)) for c in study.COUNTS] == [3, 5, 45]
    for count in study.COUNTS:
        ids = study.spread(count)
        assert len(set(ids)) == count and max(ids) < 45
    params = sweep_params("paper_fc_study")
    assert set(params["defense"]) == {"geomed_paper", "geomed"}
    assert set(params["adversary"]) == {"reverse", "constant"}
    cfg = make_cfg("experiment=paper_fc_study", "defense=geomed_paper", small=False)
    assert cfg.train.iterations == 2 and cfg.aggregator.per_tensor is True
