"""DRACO's promises, and the simulator's honesty when they do not hold."""

from __future__ import annotations

import csv

from tests.conftest import Run

REP9 = ["code=repetition", "code.r=3", "cluster.workers=9"]


def test_repetition_within_bound_trains_the_adversary_free_model(run: Run) -> None:
    attacked = run(*REP9, "adversary=reverse", "adversary.count=1")
    clean = run(*REP9, "adversary=none")
    assert attacked["model_digest"] == clean["model_digest"]
    assert attacked["corrupted_updates"] == 0 and attacked["decode_failures"] == 0
    assert attacked["iterations_with_adversaries"] == 30


def test_random_placement_one_liar_per_group_is_still_exact(run: Run) -> None:
    attacked = run(*REP9, "adversary=reverse", "adversary.count=1", "adversary.placement=random")
    clean = run(*REP9, "adversary=none")
    assert attacked["model_digest"] == clean["model_digest"]


def test_one_reverse_gradient_breaks_plain_averaging(run: Run) -> None:
    clean = run("code=none", "aggregator=mean", "adversary=none")
    attacked = run("code=none", "aggregator=mean", "adversary=reverse", "adversary.count=1")
    assert clean["status"] == "completed" and clean["final_accuracy"] > 0.5
    broken = attacked["status"] == "diverged" or attacked["final_loss"] > 10 * clean["final_loss"]
    assert broken
    assert attacked["final_accuracy"] < clean["final_accuracy"] - 0.2
    assert attacked["corrupted_updates"] > 0


def test_colluding_majority_in_one_group_is_reported_as_corruption(run: Run) -> None:
    s = run(*REP9, "adversary=reverse", "adversary.count=2", "adversary.placement=worst_case")
    assert s["corrupted_updates"] > 0
    assert s["decode_failures"] == 0  # two identical lies out-vote one honest copy: undetectable
    assert s["guarantee_held"] is False
    with open(s["_dir"] / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["adversary_ranks"] == "0;1"
    assert rows[0]["corrupted_updates"] == "1"
    assert rows[0]["suspects"] == "2"  # the decoder blames the honest copy


def test_a_tied_vote_is_a_decode_failure(run: Run) -> None:
    s = run(
        "code=repetition",
        "code.r=4",
        "cluster.workers=8",
        "adversary=reverse",
        "adversary.count=2",
        "adversary.placement=worst_case",
    )
    assert s["decode_failures"] == 30  # group 0 has no strict majority, every iteration
    assert s["status"] == "completed"


def test_same_seed_same_bytes(run: Run) -> None:
    a = run(*REP9, "adversary.placement=random", "seed=3")
    b = run(*REP9, "adversary.placement=random", "seed=3")
    for name in ("metrics.csv", "trace.json"):
        assert (a["_dir"] / name).read_bytes() == (b["_dir"] / name).read_bytes()
    assert a["model_digest"] == b["model_digest"]
    c = run(*REP9, "adversary.placement=random", "seed=4")
    assert c["model_digest"] != a["model_digest"]
