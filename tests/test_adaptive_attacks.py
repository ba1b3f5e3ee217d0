"""Adaptive attacks: min-max and min-sum against their closed forms, ALIE and IPM tuned
against the rule, checked against numpy and against their fixed-scale versions."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from sim.adversaries.adversary import Adversary, Group
from sim.adversaries.line_search import ALIELineSearch, IPMLineSearch, maximise
from sim.adversaries.min_max import Direction, MinMax, MinSum, gamma_search
from sim.adversaries.omniscient import ALIE, IPM, alie_z
from sim.adversaries.placement import Placement, Placer
from sim.adversaries.rule_input import Layout, candidate_index, model_candidates
from sim.adversaries.schedule import Schedule
from sim.adversaries.strategies import Knowledge
from sim.aggregators.bucketing import Bucketing
from sim.aggregators.centered_clip import CenteredClip
from sim.aggregators.chain import Chain
from sim.aggregators.krum import Krum
from sim.aggregators.median import Median
from tests.conftest import make_cfg, simulate

H, A, D = 10, 5, 200  # honest workers, adversaries, coordinates: n = 15, f = 5


def honest_messages(dtype: torch.dtype = torch.float32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (0.5 + torch.randn(H, D, dtype=dtype, generator=g)).to(dtype)


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(3)


def real64(x: torch.Tensor) -> np.ndarray:
    """Real coordinates in float64, as numpy: (k, d) -> (k, d) or (k, 2d) for complex."""
    arr = x.numpy()
    if np.iscomplexobj(arr):
        arr = np.stack([arr.real, arr.imag], -1).reshape(len(arr), -1)
    return arr.astype(np.float64)


# ------------------------------------------------------------------ min-max and min-sum


def np_direction(x: np.ndarray, direction: Direction) -> np.ndarray:
    mu = x.mean(0)
    if direction is Direction.unit:
        return -mu / np.linalg.norm(mu)
    if direction is Direction.std:
        return -x.std(0, ddof=1)
    return -np.sign(mu)


def np_gamma_star(x: np.ndarray, p: np.ndarray, kind: str) -> float:
    """The exact largest gamma: where the test's quadratic in gamma meets its bound."""
    mu = x.mean(0)
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)  # (h, h)
    a = mu - x  # (h, D): lie - x_i at gamma = 0
    if kind == "min_sum":  # sum_i ||a_i + g p||^2 = sum ||a_i||^2 + h g^2 ||p||^2 (sum a_i = 0)
        return float(np.sqrt((d2.sum(1).max() - (a**2).sum()) / (len(x) * p @ p)))
    # min-max: the smallest positive root of ||a_i||^2 + 2 g a_i.p + g^2 ||p||^2 = max d2
    b, c = a @ p, (a**2).sum(1) - d2.max()
    roots = (-b + np.sqrt(b**2 - (p @ p) * c)) / (p @ p)
    return float(roots.min())


@pytest.mark.parametrize("dtype", [torch.float32, torch.complex64])
@pytest.mark.parametrize("direction", list(Direction))
@pytest.mark.parametrize("attack", [MinMax, MinSum])
def test_min_max_and_min_sum_send_mu_plus_the_largest_passing_gamma(
    attack: type[MinMax] | type[MinSum], direction: Direction, dtype: torch.dtype
) -> None:
    honest = honest_messages(dtype)
    strategy = attack(direction=direction, tau=1e-6)
    sent = strategy(honest[:A], lambda: honest, gen())
    x = real64(honest)
    p = np_direction(x, direction)
    star = np_gamma_star(x, p, "min_max" if attack is MinMax else "min_sum")
    assert 0.0 < star < 2 * strategy.gamma_init  # inside the bracket the search covers
    assert strategy.gamma <= star and strategy.gamma == pytest.approx(star, abs=4e-6)
    lie = sent[0]
    assert lie is not None and lie.dtype == dtype and all(s is lie for s in sent)
    expect = x.mean(0) + strategy.gamma * p
    np.testing.assert_allclose(real64(lie[None])[0], expect, rtol=1e-5, atol=1e-5)


def test_gamma_search_halves_its_step_and_brackets_zero_to_twice_the_start() -> None:
    assert gamma_search(lambda g: g <= 3.3, 10.0, 1e-9) == pytest.approx(3.3, abs=1e-8)
    assert gamma_search(lambda g: True, 10.0, 1e-9) == pytest.approx(20.0, abs=1e-8)
    assert gamma_search(lambda g: g == 0.0, 10.0, 1e-9) == 0.0  # nothing passes but 0


def test_min_max_without_knowledge_uses_its_own_messages_and_needs_two() -> None:
    own = honest_messages()[:4]
    assert MinMax().invalid(2, Knowledge.none) is None
    why = MinSum().invalid(1, Knowledge.none)
    assert why is not None and re.search("adversary=min_sum .* adversary.count >= 2", why)
    blind = MinMax()(own, None, gen())[0]
    seeing = MinMax()(own, lambda: own, gen())[0]
    assert blind is not None and seeing is not None and torch.equal(blind, seeing)


# ------------------------------------------------------------------ what the rule sees


def test_candidates_follow_the_codes_groups_and_leave_out_unknown_messages() -> None:
    uncoded = Layout(6, own=(1, 4), liars=(1, 3, 4), groups=tuple((i,) for i in range(6)))
    h = 3  # honest ranks 0, 2, 5 are rows 0, 1, 2; row 3 is the lie
    assert candidate_index(uncoded) == [0, h, 1, h, 2]  # rank 3 (another group) left out
    groups = ((0, 1, 2), (3, 4, 5), (6, 7, 8))
    coded = Layout(9, own=(0, 1, 4), liars=(0, 1, 4, 5), groups=groups)
    # group 0: two of three are ours -> the lie; group 1: no majority; group 2: honest
    assert candidate_index(coded) == [5, 2]
    honest = torch.arange(5.0)[:, None].expand(5, 2)
    cands = model_candidates(honest, torch.tensor([-1.0, -1.0]), candidate_index(coded))
    assert cands.tolist() == [[-1.0, -1.0], [2.0, 2.0]]
    assert candidate_index(Layout.uncoded(2, 1)) == [0, 1, 2]


# ------------------------------------------------------------------ line search


def distance_from_mean(rule: object, honest: torch.Tensor, lie: torch.Tensor) -> float:
    cands = torch.cat([honest, lie[None].expand(A, -1)])
    out = rule(cands)  # type: ignore[operator]
    return float(torch.linalg.vector_norm(out.double() - honest.double().mean(0)))


def test_maximise_finds_the_peak_between_grid_points_and_keeps_the_extra_scale() -> None:
    scale, value = maximise(lambda s: -((s - 3.21) ** 2), 10.0, points=11, refine=40)
    assert scale == pytest.approx(3.21, abs=1e-6) and value == pytest.approx(0.0, abs=1e-10)
    spike = maximise(lambda s: 1.0 if s == 0.77 else 0.0, 10.0, 11, 5, extra=(0.77,))
    assert spike == (0.77, 1.0)
    assert maximise(lambda s: float("nan") if s > 0 else 0.0, 1.0, 3, 2) == (0.0, 0.0)


def test_tuned_alie_against_the_median_is_the_numpy_argmax_of_its_formula() -> None:
    honest = honest_messages()
    attack = ALIELineSearch(n=H + A, f=A, rule=Median())
    lie = attack(honest[:A], lambda: honest, gen())[0]
    assert lie is not None
    x = real64(honest)
    mu, sigma = x.mean(0), x.std(0, ddof=1)
    np.testing.assert_allclose(lie.numpy(), mu - attack.z * sigma, rtol=1e-5, atol=1e-5)

    def np_distance(z: float) -> float:
        cands = np.concatenate([x, np.repeat((mu - z * sigma)[None], A, 0)])
        return float(np.linalg.norm(np.median(cands, 0) - mu))

    fine = max(np_distance(z) for z in np.linspace(0.0, attack.z_max, 4001))
    assert np_distance(attack.z) >= 0.999 * fine
    assert np_distance(attack.z) > 1.02 * np_distance(alie_z(H + A, A))


@pytest.mark.parametrize("rule", [Median(), Krum(f=A)], ids=["median", "krum"])
def test_line_search_attacks_beat_their_fixed_scale_versions(rule: object) -> None:
    honest = honest_messages(seed=1)
    own = honest[:A]
    pairs = [
        (ALIE(n=H + A, f=A), ALIELineSearch(n=H + A, f=A, rule=rule)),  # type: ignore[arg-type]
        (IPM(epsilon=0.1), IPMLineSearch(rule=rule)),  # type: ignore[arg-type]
    ]
    for fixed, tuned in pairs:
        lie_fixed, lie_tuned = (
            fixed(own, lambda: honest, gen())[0],
            tuned(own, lambda: honest, gen())[0],
        )
        assert lie_fixed is not None and lie_tuned is not None
        far_fixed = distance_from_mean(rule, honest, lie_fixed)
        far_tuned = distance_from_mean(rule, honest, lie_tuned)
        assert far_tuned > 1.02 * far_fixed, (type(tuned).__name__, far_fixed, far_tuned)


def test_ipm_line_search_sends_minus_epsilon_times_the_honest_mean() -> None:
    honest = honest_messages(seed=2)
    attack = IPMLineSearch(rule=Krum(f=A))
    lie = attack(honest[:A], lambda: honest, gen())[0]
    assert lie is not None and 0.0 <= attack.epsilon <= attack.epsilon_max
    np.testing.assert_allclose(lie.numpy(), -attack.epsilon * real64(honest).mean(0), rtol=1e-5)


def test_a_stateful_rule_and_its_random_stream_are_left_untouched() -> None:
    honest = honest_messages(seed=3)
    clip = CenteredClip(tau=0.5)
    clip(honest)  # now it has a center
    center = clip.center.clone()  # type: ignore[union-attr]
    rng = np.random.default_rng(5)
    chain = Chain([Bucketing(2, rng)], Median())
    state = rng.bit_generator.state
    for rule in (clip, chain):
        ALIELineSearch(n=H + A, f=A, rule=rule)(honest[:A], lambda: honest, gen())  # type: ignore[arg-type]
    assert torch.equal(clip.center, center)  # type: ignore[arg-type]
    assert rng.bit_generator.state == state


def test_complex_messages_are_tuned_on_their_real_coordinates() -> None:
    honest = honest_messages(torch.complex64)
    attack = ALIELineSearch(n=H + A, f=A, rule=Median())
    lie = attack(honest[:A], lambda: honest, gen())[0]
    assert lie is not None and lie.dtype == torch.complex64
    x = real64(honest)
    expect = x.mean(0) - attack.z * x.std(0, ddof=1)
    np.testing.assert_allclose(real64(lie[None])[0], expect, rtol=1e-5, atol=1e-5)


def test_tuned_attacks_need_the_honest_messages() -> None:
    for attack in (ALIELineSearch(n=15, f=5, rule=Median()), IPMLineSearch(rule=Median())):
        assert attack.invalid(5, Knowledge.omniscient) is None
        why = attack.invalid(5, Knowledge.none)
        assert why is not None and "knowledge=omniscient" in why


def test_the_adversary_tells_a_strategy_where_it_stands() -> None:
    n, ranks = 9, [2, 5]
    groups = [[i, i + 1, i + 2] for i in range(0, n, 3)]
    placer = Placer(Placement.explicit, 0, ranks, n, groups, np.random.default_rng(0))
    attack = ALIELineSearch(n=n, f=2, rule=Median())
    group = Group("alie_line_search", placer, Schedule(), attack, Knowledge.omniscient, gen())
    messages = list(honest_messages()[:n])
    Adversary([group]).attack(0, messages, lambda m: m)  # type: ignore[arg-type, return-value]
    assert attack._layout == Layout(n, (2, 5), (2, 5), tuple(map(tuple, groups)))
    assert candidate_index(attack._layout) == [0, 2, 4]  # every group keeps its honest majority


COMBINATIONS = {
    "alie_ls/none/krum": (["adversary=alie_line_search", "code=none", "aggregator=krum",
                           "aggregator.f=3", "adversary.points=9", "adversary.refine=4"], True),
    "ipm_ls/cyclic/median": (["adversary=ipm_line_search", "code=cyclic", "aggregator=median",
                              "adversary.count=1", "adversary.points=5", "adversary.refine=2"],
                             None),
    "min_max/mols/median": (["adversary=min_max", "code=assignment", "code.scheme=mols",
                             "adversary.count=5", "adversary.placement=max_distortion",
                             "aggregator=median"], True),
    "min_sum/random/centered_clip": (["adversary=min_sum", "code=assignment",
                                      "code.scheme=random", "aggregator=centered_clip",
                                      "aggregator.pre=[bucketing]"], None),
    "mixed/repetition/mean": (["adversary=mixed", "adversary.groups=[{name: alie_line_search, "
                               "count: 1, points: 5, refine: 2}, {name: min_sum, count: 1, "
                               "placement: random}]",
                               "code=repetition", "aggregator=mean"], False),
}  # fmt: skip


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_the_new_attacks_compose_with_codes_rules_and_placements(tmp_path: Path, name: str) -> None:
    """Through the real world (config, build, protocol): each run completes; where the
    outcome is known, a rule alone is corrupted and one liar per repetition group is not."""
    overrides, corrupts = COMBINATIONS[name]
    summary = simulate(make_cfg("cluster.workers=15", "train.iterations=2", *overrides),
                       tmp_path / "run")  # fmt: skip
    assert summary["status"] == "completed" and summary["model_digest"]
    if corrupts is not None:
        assert (summary["corrupted_updates"] > 0) is corrupts
