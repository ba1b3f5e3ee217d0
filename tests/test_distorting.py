"""The code-aware worst case: exact where small, a reported gap beyond; epsilon in runs."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch

from sim.adversaries.distorting import count, most_distorting, upper_bound
from sim.codes.assignment import AssignmentCode, Scheme
from tests.conftest import make_cfg, simulate


def holders(scheme: Scheme, n: int, r: int) -> list[list[int]]:
    return AssignmentCode(n, torch.Generator().manual_seed(0), scheme, r).groups()


def brute(q: int, parts: list[list[int]], n: int) -> int:
    return max(count(parts, c) for c in itertools.combinations(range(n), q))


@pytest.mark.parametrize("scheme", list(Scheme), ids=lambda s: s.value)
def test_the_search_finds_what_enumerating_every_choice_finds(scheme: Scheme) -> None:
    parts = holders(scheme, 15, 3)
    for q in range(1, 7):
        worst = most_distorting(q, parts, 15)
        assert worst.exact and worst.gap == 0
        assert len(worst.ranks) == q and count(parts, worst.ranks) == worst.distorted
        assert worst.distorted == brute(q, parts, 15)


@pytest.mark.parametrize(("n", "r"), [(15, 3), (25, 5), (21, 3), (14, 7)])
def test_frc_worst_case_is_the_closed_form(n: int, r: int) -> None:
    """floor(q / ((r+1)/2)) groups of n/r are distorted, never more than all of them."""
    parts = holders(Scheme.frc, n, r)
    for q in range(0, n + 1):
        want = min(q // ((r + 1) // 2), n // r)
        assert most_distorting(q, parts, n).distorted == want


def test_out_of_budget_the_heuristic_reports_a_valid_gap() -> None:
    parts = holders(Scheme.mols, 15, 3)
    for q in (4, 5, 6):
        cut = most_distorting(q, parts, 15, budget=5)
        best = brute(q, parts, 15)
        assert not cut.exact
        assert cut.distorted <= best <= cut.bound  # the bound really bounds the optimum
        assert cut.gap == cut.bound - cut.distorted >= 0


def test_taken_workers_are_avoided() -> None:
    parts = holders(Scheme.mols, 15, 3)
    free = most_distorting(4, parts, 15)
    avoided = most_distorting(4, parts, 15, taken=frozenset(free.ranks[:2]))
    assert not set(avoided.ranks) & set(free.ranks[:2])
    assert avoided.distorted <= free.distorted


def test_upper_bound_counts_won_parts_and_what_the_slots_allow() -> None:
    # won: 1; open needs 1, 2, 2 (one part lacks holders: 3 > 2); 2 picks x 2 parts = 4 slots
    assert upper_bound([0, 1, 2, 2, 3], [0, 2, 2, 2, 2], picks=2, per_pick=2) == 1 + 2
    assert upper_bound([1, 1], [1, 1], picks=0, per_pick=3) == 0


@pytest.mark.parametrize(
    ("scheme", "q", "distorted"), [("mols", 5, 8), ("frc", 5, 2)], ids=["mols", "frc"]
)
def test_a_run_reports_distorted_parts_and_epsilon(
    tmp_path: Path, scheme: str, q: int, distorted: int
) -> None:
    """Under max_distortion with a lie every adversary agrees on, each iteration loses
    exactly the parts the search found (MOLS n=15 r=3: 8 of 25; FRC: 2 of 5)."""
    cfg = make_cfg("code=assignment", f"code.scheme={scheme}", "cluster.workers=15",
                   "code.r=3", "adversary=reverse", f"adversary.count={q}",
                   "adversary.placement=max_distortion", "aggregator=median",
                   "train.iterations=3")  # fmt: skip
    summary = simulate(cfg, tmp_path / "run")
    parts = 25 if scheme == "mols" else 5
    assert math.isclose(summary["epsilon"], distorted / parts)
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    column = rows[0].split(",").index("distorted_parts")
    assert [float(row.split(",")[column]) for row in rows[1:]] == [distorted] * 3


def test_codes_that_do_not_vote_per_part_report_no_epsilon(tmp_path: Path) -> None:
    cfg = make_cfg("code=cyclic", "cluster.workers=15", "adversary=reverse",
                   "adversary.count=2", "train.iterations=2")  # fmt: skip
    assert simulate(cfg, tmp_path / "run")["epsilon"] is None
