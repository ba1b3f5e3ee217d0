"""Who is adversarial: worst-case and random placement against repetition groups; schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.adversaries.placement import (
    Placement,
    Placer,
    corrupted_fraction,
    corruption_probability,
    corrupts,
    worst_case,
)
from sim.adversaries.schedule import Schedule
from sim.config.errors import ConfigError
from tests.conftest import Run, problems, said


def groups(n: int, r: int) -> list[list[int]]:
    return [list(range(g * r, (g + 1) * r)) for g in range(n // r)]


@pytest.mark.parametrize("r", [3, 5, 7])
def test_worst_case_corrupts_a_group_with_exactly_ceil_r_over_2(r: int) -> None:
    gs = groups(3 * r, r)
    need = math.ceil(r / 2)
    assert not corrupts(worst_case(need - 1, gs), gs)
    assert corrupts(worst_case(need, gs), gs)
    assert worst_case(need, gs) == list(range(need))  # concentrated in the first group
    assert sum(corrupts(worst_case(2 * need, gs), [g]) for g in gs) == 2  # fills groups in turn


def test_exact_probability_of_a_corrupted_group_n45_r3() -> None:
    sizes = [3] * 15
    assert corruption_probability(sizes, 1) == 0.0
    assert corruption_probability(sizes, 2) == pytest.approx(1 - 105 * 9 / 990)  # 0.04545
    assert corruption_probability(sizes, 3) == pytest.approx(1 - 455 * 27 / 14190)  # 0.1343
    assert corruption_probability(sizes, 2) == pytest.approx(0.04545, abs=5e-5)
    assert corruption_probability(sizes, 3) == pytest.approx(0.1342, abs=1e-4)


@pytest.mark.parametrize("s", [1, 2, 3])
def test_random_placement_matches_the_exact_probability(s: int) -> None:
    gs = groups(45, 3)
    draws = 20_000
    placer = Placer(Placement.random, s, [], 45, gs, np.random.default_rng(s))
    fraction = corrupted_fraction(placer, gs, draws)
    p = corruption_probability([3] * 15, s)
    assert abs(fraction - p) <= 4 * math.sqrt(p * (1 - p) / draws) + 1e-12


@pytest.mark.parametrize("r", [3, 5])
def test_worst_case_finds_the_minimal_count_that_corrupts_a_run(run: Run, r: int) -> None:
    corrupted = []
    for count in range(1, r + 1):
        s = run(
            "code=repetition",
            f"code.r={r}",
            f"cluster.workers={2 * r}",
            "adversary=collude",
            f"adversary.count={count}",
            "adversary.placement=worst_case",
            "train.iterations=2",
        )
        corrupted.append(s["corrupted_updates"] > 0)
    assert corrupted.index(True) + 1 == math.ceil(r / 2)
    assert all(corrupted[math.ceil(r / 2) - 1 :])


def test_placements_avoid_ranks_taken_by_earlier_groups() -> None:
    gs = groups(9, 3)
    rng = np.random.default_rng(0)
    fixed = Placer(Placement.fixed, 3, [], 9, gs, rng)
    taken = frozenset(fixed.fixed[:2])
    again = fixed.ranks(0, taken)
    assert len(again) == 3 and not set(again) & taken and again == fixed.ranks(1, taken)
    rand = Placer(Placement.random, 4, [], 9, gs, rng)
    assert all(not set(rand.ranks(i, taken)) & taken for i in range(50))
    assert worst_case(2, gs, frozenset({0})) == [1, 2]
    explicit = Placer(Placement.explicit, 0, [1, 4], 9, gs, rng)
    with pytest.raises(ConfigError, match="overlap"):
        explicit.ranks(0, frozenset({4}))


def test_schedule_window_and_probability() -> None:
    s = Schedule(start=2, stop=5)
    assert [s.active(i) for i in range(7)] == [False, False, True, True, True, False, False]
    coin = Schedule(probability=0.25, rng=np.random.default_rng(1))
    hits = sum(coin.active(i) for i in range(4000))
    assert abs(hits / 4000 - 0.25) < 0.03
    for bad, key in [
        ("adversary.start=-1", "adversary.start"),
        ("adversary.stop=0", "adversary.stop"),
        ("adversary.probability=1.5", "adversary.probability"),
    ]:
        assert said(key, problems(bad)), bad
