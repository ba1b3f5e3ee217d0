"""PS wait policies against stragglers: when the PS stops waiting, and what that costs.

Every scenario has one straggler (rank n-1, six times slower). With the cyclic code
(n=7, s=1, three parts per worker: 0.15 s fast, 0.9 s slow) and the repetition code
(n=9, r=3: 0.05 s fast, 0.3 s slow).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import Run

SHORT = ["train.iterations=6", "latency=constant", "latency.seconds=0.05"]
CYC7 = [*SHORT, "code=cyclic", "code.s=1", "cluster.workers=7"]
CYC7 += ["latency.speed_factors=[1,1,1,1,1,1,6]"]
REP9 = [*SHORT, "code=repetition", "code.r=3", "cluster.workers=9"]
REP9 += ["latency.speed_factors=[1,1,1,1,1,1,1,1,6]"]
LIAR0 = ["adversary=reverse", "adversary.ids=[0]"]  # a fast liar


def rows(summary: dict) -> list[dict[str, str]]:  # type: ignore[type-arg]
    with open(Path(summary["_dir"]) / "metrics.csv") as f:
        return list(csv.DictReader(f))


def received(summary: dict) -> set[int]:  # type: ignore[type-arg]
    return {int(r["received"]) for r in rows(summary)}


def longest_iteration_s(summary: dict) -> float:  # type: ignore[type-arg]
    return max(float(r["iteration_time_s"]) for r in rows(summary))


def close(a: float, b: float, rtol: float = 1e-5) -> bool:
    return abs(a - b) <= rtol * abs(b)


POLICIES = {  # policy overrides -> (messages used, stops before the straggler)
    "all": (["ps.wait=all"], 7, False),
    "first_k": (["ps.wait=first_k", "ps.k=6"], 6, True),
    "deadline": (["ps.wait=deadline", "ps.deadline_s=0.5"], 6, True),
    "decodable": (["ps.wait=decodable"], 6, True),
}


@pytest.mark.parametrize("policy", list(POLICIES))
def test_every_policy_stops_when_told_and_decodes_exactly(run_once: Run, policy: str) -> None:
    overrides, used, early = POLICIES[policy]
    s = run_once(*CYC7, "adversary=none", *overrides)
    reference = run_once(*CYC7, "adversary=none", "ps.wait=all")
    assert received(s) == {used}
    assert (longest_iteration_s(s) < 0.6) is early  # the straggler needs 0.9 s
    if policy == "deadline":
        assert all(close(float(r["iteration_time_s"]), 0.5, 1e-2) for r in rows(s))
    assert s["decode_failures"] == 0 and s["corrupted_updates"] == 0
    assert close(s["final_loss"], reference["final_loss"])


def test_decodable_waits_for_the_straggler_when_a_liar_is_among_the_fast(run_once: Run) -> None:
    """Five fast honest rows and a liar: n - s = 6 rows must agree, so the PS waits."""
    s = run_once(*CYC7, *LIAR0, "ps.wait=decodable")
    clean = run_once(*CYC7, "adversary=none", "ps.wait=all")
    assert received(s) == {7} and longest_iteration_s(s) > 0.9
    assert s["decode_failures"] == 0 and s["corrupted_updates"] == 0
    assert {r["suspects"] for r in rows(s)} == {"0"}
    assert close(s["final_loss"], clean["final_loss"])


def test_first_k_with_a_liar_beyond_the_bound_fails_loudly(run_once: Run) -> None:
    """k=6 of 7: one erasure and one liar, 2e + t = 3 > 2s: detected, no update applied
    (so none corrupted)."""
    s = run_once(*CYC7, *LIAR0, "ps.wait=first_k", "ps.k=6")
    assert s["decode_failures"] == 6 and s["skipped_updates"] == 6
    assert s["corrupted_updates"] == 0  # nothing was applied, so nothing corrupted
    assert s["guarantee_held"] is False


def test_first_k_at_n_minus_2s_cannot_check_anything(run_once: Run) -> None:
    """k=5 of 7 (t = 2s): the rows received fix the codeword alone; a liar among them goes
    unnoticed by the PS. Ground truth catches it."""
    s = run_once(*CYC7, *LIAR0, "ps.wait=first_k", "ps.k=5")
    assert s["decode_failures"] == 0 and s["corrupted_updates"] == 6


def test_repetition_decodable_skips_the_straggler_and_trains_the_same_model(run_once: Run) -> None:
    waited = run_once(*REP9, *LIAR0, "ps.wait=all")
    early = run_once(*REP9, *LIAR0, "ps.wait=decodable")
    assert received(waited) == {9} and received(early) == {8}
    assert early["sim_time_s"] < waited["sim_time_s"] / 2
    assert early["model_digest"] == waited["model_digest"]
    assert early["corrupted_updates"] == 0 and early["decode_failures"] == 0


@pytest.mark.parametrize("policy", [["ps.wait=first_k", "ps.k=8"], ["ps.wait=deadline"]])
def test_repetition_erasures_inside_the_bound_change_nothing(
    run_once: Run, policy: list[str]
) -> None:
    waited = run_once(*REP9, *LIAR0, "ps.wait=all")
    s = run_once(*REP9, *LIAR0, *policy, "ps.deadline_s=0.2")
    assert received(s) == {8}
    assert s["model_digest"] == waited["model_digest"]


def test_repetition_decodable_beats_wait_all_under_shifted_exp_with_the_same_model(
    run_once: Run,
) -> None:
    """Issue 3 must-show 2: random stragglers (shift 0.05 s + Exp(0.01 s) per part), a
    liar at rank 0. Stopping once every group has a majority saves simulated time and
    changes no bit of the model."""
    rep = ["train.iterations=6", "latency=shifted_exp", "code=repetition", "code.r=3"]
    rep += ["cluster.workers=9", *LIAR0]
    waited = run_once(*rep, "ps.wait=all")
    early = run_once(*rep, "ps.wait=decodable")
    assert received(waited) == {9} and min(received(early)) < 9
    assert early["sim_time_s"] < waited["sim_time_s"]
    assert early["model_digest"] == waited["model_digest"]
    assert early["corrupted_updates"] == 0 and early["decode_failures"] == 0
