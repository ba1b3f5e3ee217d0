"""Every rule against small hand-computed inputs, and the properties every rule must have."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from sim.aggregators.base import Aggregator
from sim.aggregators.bucketing import Bucketing
from sim.aggregators.bulyan import Bulyan, closest_to_median, recursive_krum
from sim.aggregators.centered_clip import CenteredClip
from sim.aggregators.chain import Chain
from sim.aggregators.distances import pairwise_sq_dists
from sim.aggregators.geomed import GeometricMedian, smoothed_objective, weiszfeld
from sim.aggregators.krum import Krum, krum_scores
from sim.aggregators.mean import Mean
from sim.aggregators.median import Median
from sim.aggregators.multikrum import MultiKrum
from sim.aggregators.nnm import NNM
from sim.aggregators.trimmed_mean import TrimmedMean
from tests.conftest import problems, said


def col(*values: float) -> torch.Tensor:
    """Scalars as (k, 1) candidates."""
    return torch.tensor(values, dtype=torch.float32)[:, None]


def kept(rule: Aggregator) -> list[float]:
    return rule.report.kept.tolist()


# ---------------------------------------------------------------- hand-computed values


def test_mean_keeps_everyone() -> None:
    rule = Mean()
    assert rule(col(1, 2, 6)).tolist() == [3.0] and kept(rule) == [1.0, 1.0, 1.0]


def test_median_odd_and_even() -> None:
    rule = Median()
    x = torch.tensor([[1.0, 5.0], [3.0, 2.0], [2.0, 9.0]])
    assert rule(x).tolist() == [2.0, 5.0]
    assert kept(rule) == [0.5, 0.0, 0.5]  # candidate 2 in coordinate 0, candidate 0 in 1
    assert rule(col(1, 4, 2, 10)).tolist() == [3.0]  # even k: (2 + 4) / 2
    assert kept(rule) == [0.0, 0.5, 0.5, 0.0]


def test_trimmed_mean_drops_b_per_side() -> None:
    rule = TrimmedMean(b=1)
    assert rule(col(1, 100, 2, 3)).tolist() == [2.5]
    assert kept(rule) == [0.0, 0.0, 1.0, 1.0]
    assert TrimmedMean(b=2)(col(-9, 1, 2, 3, 50)).tolist() == [2.0]


# x = [0, 4, 6, 7, 11], f = 1. Squared distances to the nearest others:
#   0: 16, 36, 49      4: 4, 9, 16      6: 1, 4, 25      7: 1, 9, 16      11: 16, 25, 49
# k-f-2 = 2 neighbours: scores 52, 13, 5, 10, 41 -> 6 wins.
# k-f-1 = 3 neighbours (the other convention): 101, 29, 30, 26, 90 -> 7 would win.
KRUM_X = col(0, 4, 6, 7, 11)


def test_krum_uses_k_minus_f_minus_2_nearest_others() -> None:
    scores = krum_scores(pairwise_sq_dists(KRUM_X), f=1)
    assert scores.tolist() == [52.0, 13.0, 5.0, 10.0, 41.0]
    rule = Krum(f=1)
    assert rule(KRUM_X).tolist() == [6.0]
    assert kept(rule) == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert krum_scores(pairwise_sq_dists(KRUM_X), f=0).argmin() == 3  # 3 neighbours: 7


def test_multikrum_averages_the_m_best_scores() -> None:
    rule = MultiKrum(f=1, m=2)
    assert rule(KRUM_X).tolist() == [6.5]  # scores 5 (x=6) and 10 (x=7)
    assert kept(rule) == [0.0, 0.0, 1.0, 1.0, 0.0]
    default = MultiKrum(f=1)  # m = k - f = 4: drops the worst score (x=0)
    assert default(KRUM_X).tolist() == [7.0]


# x = [-12, 16, -16, -4, -13, 11, 8], f = 1 (indices 0..6). One-shot Krum scores with 4
# neighbours: 481, 1273, 745, 433, 532, 788, 617 -> lowest three: idx 3, 0, 4.
# Recursive: idx 3 (-4, score 433); then over the 6 left with 3 neighbours: -12 has
# 1+16+400 = 417, the lowest -> idx 0; then over {16,-16,-13,11,8} with 2 neighbours:
# 11 has 9+25 = 34 (8 and 16), the lowest -> idx 5, which one-shot Krum ranks 6th of 7.
def test_bulyan_selection_is_recursive() -> None:
    x = col(-12, 16, -16, -4, -13, 11, 8)
    d2 = pairwise_sq_dists(x)
    assert krum_scores(d2, 1).tolist() == [481.0, 1273.0, 745.0, 433.0, 532.0, 788.0, 617.0]
    assert recursive_krum(d2, f=1, count=3) == [3, 0, 5]


# x = [0, 1, 2, 3.5, 6, 100, -50], f = 1: theta = 5, beta = 3. Recursive Krum picks
# 2 (score 23.25), 3.5 (24.75), 1 (26); then, with one neighbour, 0 and 6 tie at 36 and
# the next-nearest breaks it: 0 (36 + 2500 to -50) before 6 (36 + 3136 to -50); then,
# with none, 6 and -50 tie at 3136 and 6 wins on 3136 + 8836 against 3136 + 22500.
# The median of {0, 1, 2, 3.5, 6} is 2; the 3 values closest to it are 2, 1, 3.5.
def test_bulyan_hand_computed() -> None:
    rule = Bulyan(f=1)
    out = rule(col(0, 1, 2, 3.5, 6, 100, -50))
    assert out.item() == pytest.approx(6.5 / 3, rel=1e-6)
    assert kept(rule) == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_bulyan_averages_the_beta_values_nearest_the_median() -> None:
    out, rows = closest_to_median(col(10, 0, 3, 1), beta=2)  # median 2: nearest 1 and 3
    assert out.tolist() == [2.0] and sorted(rows.flatten().tolist()) == [2, 3]  # values 3, 1
    s = torch.randn(9, 200, generator=torch.Generator().manual_seed(5))
    out, _ = closest_to_median(s, beta=5)
    med = s.sort(0).values[4]
    nearest = (s - med).abs().topk(5, dim=0, largest=False).indices  # the definition
    torch.testing.assert_close(out, s.gather(0, nearest).mean(0))


def nearest_to_median_by_hand(s: torch.Tensor, beta: int) -> list[float]:
    """Bulyan's last step written out per coordinate: the ``beta`` values with the
    smallest ``|value - median|``, every value on its own, the lower value on a tie."""
    out = []
    for column in s.double().T.tolist():
        ordered = sorted(column)
        theta = len(ordered)
        med = (ordered[(theta - 1) // 2] + ordered[theta // 2]) / 2
        chosen = sorted(column, key=lambda v: (abs(v - med), v))[:beta]
        out.append(sum(chosen) / beta)
    return out


def test_bulyan_keeps_the_values_nearest_the_median_when_values_repeat() -> None:
    # median 0; three values at distance 1 and 0.5 at distance 0.5: 0.5 must be kept,
    # although the window [-1, -1, 0] reaches no farther from the median than [0, 0.5, 1]
    out, rows = closest_to_median(col(-1, -1, 0, 0.5, 1), beta=3)
    assert out.item() == pytest.approx((-1 + 0 + 0.5) / 3)
    assert sorted(rows.flatten().tolist()) == [0, 2, 3]  # the first -1 (lower value first)
    gen = torch.Generator().manual_seed(3)
    for theta, beta in [(7, 3), (9, 5), (11, 3), (10, 4)]:  # integers: many exact ties
        s = torch.randint(-3, 4, (theta, 300), generator=gen).float()
        s[: theta // 3] = s[0]  # colluders sending one identical vector
        out, _ = closest_to_median(s, beta)
        assert out.tolist() == pytest.approx(nearest_to_median_by_hand(s, beta), abs=1e-6)


def test_bulyan_against_its_definition_with_colluding_identical_vectors() -> None:
    gen = torch.Generator().manual_seed(11)
    k, f = 15, 3
    x = torch.randn(k, 200, generator=gen).round(decimals=1)  # repeated values
    x[:f] = x[:f].mean(0) + 0.2  # f colluders, one identical vector, close to the rest
    rule = Bulyan(f=f)
    out = rule(x)
    chosen = recursive_krum(pairwise_sq_dists(x), f, k - 2 * f)
    expected = nearest_to_median_by_hand(x[chosen], k - 4 * f)
    assert out.tolist() == pytest.approx(expected, abs=1e-6)


def test_geomed_of_an_equilateral_triangle_is_its_centre() -> None:
    x = torch.tensor([[0.0, 0.0], [2.0, 0.0], [1.0, math.sqrt(3.0)]], dtype=torch.float64)
    rule = GeometricMedian(tol=0.0, max_iter=500)  # tol=0: until the objective stalls
    out = rule(x)
    assert out.tolist() == pytest.approx([1.0, math.sqrt(3.0) / 3], abs=1e-6)
    assert rule.report.iterations is not None and 5 < rule.report.iterations < 500
    assert kept(rule) == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)  # equal distances
    rule(x.float())  # float32: the objective stalls once z is within ~sqrt(eps) of it
    assert rule(x.float()).tolist() == pytest.approx([1.0, math.sqrt(3.0) / 3], abs=1e-3)


def test_geomed_reports_iterations_and_down_weights_outliers() -> None:
    x = torch.randn(9, 5, generator=torch.Generator().manual_seed(0))
    x[-1] = 1e3  # one far candidate
    capped = GeometricMedian(tol=0.0, max_iter=3)
    capped(x)
    assert capped.report.iterations == 3
    assert kept(capped)[-1] < 0.01  # the far candidate weighs far less than 1 (the mean's)
    loose, tight = GeometricMedian(tol=1e-3), GeometricMedian(tol=1e-12)
    loose(x), tight(x)
    assert loose.report.iterations is not None and tight.report.iterations is not None
    assert 1 <= loose.report.iterations < tight.report.iterations < 100


def test_geomed_objective_never_increases() -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(15, 40, generator=gen)
    x[:3] = 50 * torch.randn(3, 40, generator=gen)  # a few far outliers
    for start in (x.median(0).values, x[0], torch.zeros(40)):
        exact = weiszfeld(x.double(), start.double(), nu=1e-6, tol=0.0, max_iter=50)
        assert (np.diff(exact.objectives) <= 1e-12 * exact.objectives[0]).all()
        assert exact.objectives[-1] < exact.objectives[0] and exact.iterations > 5
        rounded = weiszfeld(x, start, nu=1e-6, tol=0.0, max_iter=50)  # float32: up to rounding
        assert (np.diff(rounded.objectives) <= 1e-6 * rounded.objectives[0]).all()


def hdmedians_by_hand(x: np.ndarray, eps: float, cap: int) -> tuple[np.ndarray, int]:
    """The geometric median the way the ``hdmedians`` library computes it, one candidate
    at a time in float64: start at the mean; candidates within ``eps`` of the estimate
    weigh nothing and pull it back by the Vardi-Zhang rule; stop when it moves < ``eps``."""
    y = x.mean(0)
    passes = 0
    while passes < cap:
        dist = [float(np.sqrt(((row - y) ** 2).sum())) for row in x]
        inv = [1.0 / d if d > eps else 0.0 for d in dist]
        total = sum(inv)
        at_estimate = sum(d <= eps for d in dist)
        if at_estimate == len(x):
            return y, passes
        t = sum((w / total) * row for w, row in zip(inv, x, strict=True))
        if at_estimate:
            r = float(np.sqrt((((t - y) * total) ** 2).sum()))
            gamma = at_estimate / r if r > eps else 0.0
            t = max(0.0, 1 - gamma) * t + min(1.0, gamma) * y
        passes += 1
        moved = float(np.sqrt(((y - t) ** 2).sum()))
        y = t
        if moved < eps:
            break
    return y, passes


PAPER = dict(start="mean", stop="step", tol=1e-8, max_iter=1000)


@pytest.mark.parametrize("case", ["spread", "one at the mean", "all equal", "capped"])
def test_geomed_step_rule_is_the_hdmedians_iteration(case: str) -> None:
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(9, 6, generator=gen, dtype=torch.float64)
    x[:2] *= 30  # two far candidates
    settings = dict(PAPER)
    if case == "one at the mean":  # symmetric pairs and their centre: the mean is a candidate
        x = torch.cat([x[:4], -x[:4], torch.zeros(1, 6, dtype=torch.float64)])
    elif case == "all equal":
        x = x[:1].repeat(5, 1)
    elif case == "capped":
        settings["max_iter"] = 3
    rule = GeometricMedian(**settings)  # type: ignore[arg-type]
    out = rule(x)
    want, passes = hdmedians_by_hand(x.numpy(), 1e-8, int(settings["max_iter"]))
    assert rule.report.iterations == passes
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    assert passes == {"spread": passes, "one at the mean": 1, "all equal": 0, "capped": 3}[case]
    if case == "one at the mean":  # the centre of a symmetric set is its median
        np.testing.assert_allclose(out.numpy(), 0.0, atol=1e-12)


def test_geomed_per_tensor_is_one_median_per_block_and_charges_each_block_its_steps() -> None:
    gen = torch.Generator().manual_seed(6)
    x = torch.randn(11, 12, generator=gen, dtype=torch.float64)
    x[:3, 8:] += 50.0  # outliers in the last block only: it takes more steps
    rule = GeometricMedian(**PAPER, per_tensor=True, tensor_sizes=(8, 4))  # type: ignore[arg-type]
    out = rule(x)
    blocks = [GeometricMedian(**PAPER) for _ in range(2)]  # type: ignore[arg-type]
    parts = [b(x[:, :8]) for b in blocks[:1]] + [blocks[1](x[:, 8:])]
    torch.testing.assert_close(out, torch.cat(parts), rtol=0, atol=0)
    steps = [b.report.iterations for b in blocks]
    assert steps[0] != steps[1]
    assert rule.report.iterations == pytest.approx((8 * steps[0] + 4 * steps[1]) / 12)
    k, d = x.shape
    assert rule.ops(k, d) == pytest.approx(k * d + 3 * k * (8 * steps[0] + 4 * steps[1]))
    flat = GeometricMedian(**PAPER)  # type: ignore[arg-type]
    assert not torch.allclose(flat(x), out)  # the flat median is another point
    with pytest.raises(ValueError, match="tensors hold 12 values, the candidates 5"):
        rule(x[:, :5])


@pytest.mark.parametrize("start", ["median", "mean", "zero"])
def test_geomed_starts_where_asked_and_finds_the_same_median(start: str) -> None:
    gen = torch.Generator().manual_seed(8)
    x = torch.randn(15, 20, generator=gen, dtype=torch.float64) + 3.0
    x[:4] = -40.0  # a constant attack
    rule = GeometricMedian(start=start, stop="step", tol=1e-10, max_iter=5000)  # type: ignore[arg-type]
    reference = GeometricMedian(start="median", stop="step", tol=1e-12, max_iter=5000)  # type: ignore[arg-type]
    torch.testing.assert_close(rule(x), reference(x), rtol=0, atol=1e-8)
    capped = GeometricMedian(start=start, stop="step", tol=0.0, max_iter=1)  # type: ignore[arg-type]
    first = capped(x)  # one step from the start: shows where it started
    begin = {"median": x.median(0).values, "mean": x.mean(0), "zero": torch.zeros(20)}[start]
    dist = torch.linalg.vector_norm(x - begin.double(), dim=1)
    torch.testing.assert_close(first, (x / dist[:, None]).sum(0) / (1 / dist).sum())


def test_geomed_paper_preset_gets_the_model_layout_from_the_builder() -> None:
    from sim.build import build
    from tests.conftest import make_cfg

    world = build(make_cfg("code=none", "aggregator=geomed_paper", "train.iterations=1"))
    rule, oracle = world.ps.math.rule, world.ps.math.oracle  # type: ignore[attr-defined]
    assert isinstance(rule, GeometricMedian)
    assert rule.tensor_sizes == tuple(oracle.sizes) and len(rule.tensor_sizes) > 2
    assert (rule.start.value, rule.stop.value, rule.per_tensor) == ("mean", "step", True)
    assert (rule.tol, rule.max_iter) == (1e-8, 1000)


def test_smoothed_objective_is_the_distance_sum_above_nu() -> None:
    dist = torch.tensor([0.0, 0.5, 3.0], dtype=torch.float64)
    assert smoothed_objective(dist, nu=1.0) == pytest.approx(0.5 + (0.125 + 0.5) + 3.0)


def test_centered_clip_clips_around_the_carried_center() -> None:
    rule = CenteredClip(tau=1.0, iterations=1)
    x = torch.tensor([[3.0, 4.0], [0.0, 0.5]])
    # From 0: norms 5 and 0.5 -> c = [0.2, 1]; v = (0.2*[3,4] + [0,0.5]) / 2.
    assert rule(x).tolist() == pytest.approx([0.3, 0.65])
    assert kept(rule) == pytest.approx([0.2, 1.0])
    # From [0.3, 0.65]: the first offset has norm sqrt(18.5125) -> c = 0.232417.
    assert rule(x).tolist() == pytest.approx([0.463763, 0.964298], abs=1e-6)


def test_nnm_mixes_each_candidate_with_its_k_minus_f_nearest() -> None:
    y, mix = NNM(f=1)(col(0, 1, 3, 10))  # 3 nearest (self included) of 10: 10, 3, 1
    assert y.flatten().tolist() == pytest.approx([4 / 3, 4 / 3, 4 / 3, 14 / 3])
    assert mix.sum(1).tolist() == pytest.approx([1.0] * 4)


def test_bucketing_averages_disjoint_random_buckets() -> None:
    x = col(1, 10, 100, 1000, 10000)
    y, mix = Bucketing(2, np.random.default_rng(0))(x)
    assert y.shape == (3, 1)  # ceil(5 / 2)
    sums = sorted(round(v) for v in (y.flatten() * (mix > 0).sum(1)).tolist())
    digits = "".join(str(s) for s in sums)
    assert sorted(digits.replace("0", "")) == ["1"] * 5  # every candidate in one bucket
    assert sorted((mix > 0).sum(1).tolist()) == [1, 2, 2]


def test_chain_maps_kept_back_to_the_original_candidates() -> None:
    x = torch.tensor([[0.0], [0.1], [5.0], [5.2], [9.0], [9.1]])
    rule = Chain([Bucketing(2, np.random.default_rng(3))], Krum(f=0))
    out = rule(x)
    k = kept(rule)
    assert sorted(k) == pytest.approx([0, 0, 0, 0, 1, 1])
    chosen = [i for i, v in enumerate(k) if v > 0.5]
    assert out.item() == pytest.approx(x[chosen].mean().item())


# ---------------------------------------------------------------- properties of every rule

RULES: dict[str, Callable[[], Aggregator]] = {
    "mean": Mean,
    "median": Median,
    "trimmed_mean": lambda: TrimmedMean(b=2),
    "geomed": lambda: GeometricMedian(tol=1e-7, max_iter=200),
    "krum": lambda: Krum(f=2),
    "multikrum": lambda: MultiKrum(f=2),
    "bulyan": lambda: Bulyan(f=2),
    "centered_clip": lambda: CenteredClip(tau=5.0, iterations=3),
    "nnm+krum": lambda: Chain([NNM(2)], Krum(f=2)),
}


@pytest.mark.parametrize("name", RULES)
def test_permutation_invariant(name: str) -> None:
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(11, 30, generator=gen)
    x[:2] += 10 * torch.randn(2, 30, generator=gen)
    perm = torch.randperm(11, generator=gen)
    a, b = RULES[name](), RULES[name]()
    out_a, out_b = a(x), b(x[perm])
    torch.testing.assert_close(out_b, out_a, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(b.report.kept, a.report.kept[perm], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", RULES)
def test_identical_inputs_return_that_input(name: str) -> None:
    v = torch.randn(30, generator=torch.Generator().manual_seed(2)) * 0.5
    out = RULES[name]()(v.repeat(11, 1))
    torch.testing.assert_close(out, v, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["median", "trimmed_mean", "geomed", "krum", "bulyan"])
def test_nan_and_inf_candidates_do_not_reach_the_output(name: str) -> None:
    x = torch.randn(11, 30, generator=torch.Generator().manual_seed(4))
    x[0] = math.nan
    x[1] = math.inf
    out = RULES[name]()(x)
    assert bool(torch.isfinite(out).all())


def test_distances_are_exact_for_nearby_large_vectors() -> None:
    base = torch.full((1000,), 1e4)
    x = torch.stack([base, base + 1e-2, base])  # float32 Gram would cancel catastrophically
    d2 = pairwise_sq_dists(x)
    expected = ((x[1].double() - x[0].double()) ** 2).sum().item()
    assert d2[0, 1].item() == pytest.approx(expected, rel=1e-6)
    assert d2[0, 2].item() == 0.0 and bool((d2 >= 0).all())


# ---------------------------------------------------------------- validity


@pytest.mark.parametrize(
    ("rule", "too_few", "enough", "message"),
    [
        (Krum(f=2), 6, 7, "needs k >= 2f+3 = 7 candidates with aggregator.f=2"),
        (MultiKrum(f=1), 4, 5, "needs k >= 2f+3 = 5 candidates with aggregator.f=1"),
        (Bulyan(f=2), 10, 11, "needs k >= 4f+3 = 11 candidates with aggregator.f=2"),
        (TrimmedMean(b=2), 4, 5, "needs k > 2b = 4 candidates with aggregator.b=2"),
        (MultiKrum(f=0, m=4), 3, 4, "aggregator.m=4"),
        (Chain([NNM(3)], Mean()), 3, 4, "needs k > f = 3"),
    ],
)
def test_validity_bounds(rule: Aggregator, too_few: int, enough: int, message: str) -> None:
    why = rule.invalid(too_few)
    assert why is not None and message in why
    assert rule.invalid(enough) is None


def test_bucketing_validity_counts_the_buckets() -> None:
    rule = Chain([Bucketing(3, np.random.default_rng(0))], Krum(f=1))
    assert rule.invalid(15) is None  # 5 buckets >= 2f+3
    why = rule.invalid(12)
    assert why is not None and "bucketing: 12 -> 4" in why


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        ("krum", "aggregator.f=-1"),
        ("trimmed_mean", "aggregator.b=-1"),
        ("multikrum", "aggregator.m=0"),
        ("geomed", "aggregator.max_iter=0"),
        ("geomed", "aggregator.nu=0.0"),
        ("centered_clip", "aggregator.tau=0.0"),
        ("centered_clip", "aggregator.iterations=0"),
        ("mean", "aggregator.bucket_size=0"),
    ],
)
def test_bad_parameters_name_their_key(rule: str, key: str) -> None:
    found = problems("code=none", f"aggregator={rule}", key)
    assert said(key.replace(".", r"\."), found), found


def test_ops_grow_as_the_rules_cost() -> None:
    k, d = 15, 10**6
    mean = Mean().ops(k, d)
    assert Median().ops(k, d) > 3 * mean
    assert Krum(f=2).ops(k, d) > 10 * mean  # ~k^2 d
    assert Bulyan(f=2).ops(k, d) > Krum(f=2).ops(k, d)
    geomed = GeometricMedian(max_iter=3)
    geomed(torch.randn(k, 10))
    assert geomed.ops(k, d) < GeometricMedian(max_iter=100).ops(k, d)  # charges steps taken


def test_a_linear_rule_is_its_weights_and_only_them() -> None:
    """A subclass of a linear rule changes it through ``weights``; overriding ``__call__``
    (a second definition the PS would never run) is refused when the class is made."""

    class FirstOnly(Mean):
        def weights(self, k: int) -> list[float]:
            return [1.0] + [0.0] * (k - 1)

    x, rule = torch.randn(4, 6), FirstOnly()
    assert torch.equal(rule(x), x[0])
    assert rule.report.kept.tolist() == [4.0, 0.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="defined by weights"):

        class Doubled(Mean):  # noqa: F841
            def __call__(self, x: torch.Tensor) -> torch.Tensor:
                return 2 * x.mean(0)
