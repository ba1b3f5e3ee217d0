"""The majority vote on its own: bitwise, NaN-safe, with erasures."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.codes.repetition import RepetitionCode
from sim.messages import PartSum, bits_equal

G = torch.arange(12, dtype=torch.float32).reshape(3, 4)  # 3 parts, d = 4


def materialize(m: torch.Tensor | PartSum) -> torch.Tensor:
    return m if isinstance(m, torch.Tensor) else m.coeffs.float() @ G[: len(m.coeffs)]


def test_honest_copies_are_shared_references() -> None:
    code = RepetitionCode(9, r=3)
    msgs = code.honest_messages()
    assert msgs[0] is msgs[1] is msgs[2] and msgs[3] is not msgs[0]
    assert code.groups()[1] == [3, 4, 5]


def test_one_liar_per_group_is_outvoted_and_located() -> None:
    code = RepetitionCode(9, r=3)
    received = dict(enumerate(code.honest_messages()))
    received[4] = -100 * G[1]
    out = code.decode(received, materialize)
    assert out.failures == 0 and out.suspects == {4}
    assert all(isinstance(c, PartSum) for c in out.candidates)


def test_a_bitwise_honest_copy_from_an_adversary_counts_as_honest() -> None:
    code = RepetitionCode(3, r=3)
    received = {0: code.honest_messages()[0], 1: G[0].clone(), 2: G[0] + 1}
    out = code.decode(received, materialize)
    assert out.failures == 0 and out.suspects == {2}


def test_nan_messages_vote_by_bits() -> None:
    code = RepetitionCode(3, r=3)
    nan = torch.full((4,), float("nan"))
    out = code.decode({0: nan, 1: nan.clone(), 2: code.honest_messages()[2]}, materialize)
    assert out.failures == 0 and out.suspects == {2}  # two identical NaN vectors win: r=3, s=2
    assert bits_equal(out.candidates[0], nan)
    out = code.decode({0: nan, 1: code.honest_messages()[1]}, materialize)
    assert out.failures == 1  # one honest vs one liar among the received: no majority


def test_erasures_decode_while_honest_outnumber_liars() -> None:
    code = RepetitionCode(5, r=5)
    honest = code.honest_messages()
    received = {0: honest[0], 1: honest[1], 3: -G[0]}  # two stragglers
    out = code.decode(received, materialize)
    assert out.failures == 0 and out.suspects == {3}
    assert not code.decodable(received, materialize)  # 2 of 5 is no final majority
    assert code.decodable({**received, 4: honest[4]}, materialize)
    assert code.decode({}, materialize).failures == 1


def test_tolerance_accepts_tiny_differences() -> None:
    code = RepetitionCode(3, r=3, tolerance=1e-3)
    out = code.decode({0: G[0], 1: G[0] + 1e-4, 2: G[0] + 5}, materialize)
    assert out.failures == 0 and out.suspects == {2}


def test_workers_must_be_a_multiple_of_r() -> None:
    said = RepetitionCode.problems(10, r=3)
    assert len(said) == 1 and said[0].startswith("cluster.workers=10 is not a multiple of code.r=3")
    assert RepetitionCode.problems(9, r=3) == []


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_erasures_and_independent_liars_decode_or_fail_per_group(data: st.DataObject) -> None:
    """Per group with ``h`` honest copies and ``a`` (distinct) lies received: exact when
    ``h > a``, a decode failure otherwise — except a lone copy, which no vote can check."""
    r = data.draw(st.integers(2, 6), label="r")
    groups = data.draw(st.integers(1, 4), label="groups")
    code = RepetitionCode(r * groups, r=r)
    parts = torch.randn(groups, 5, dtype=torch.float64)
    honest = code.honest_messages()
    received: dict[int, torch.Tensor | PartSum] = {}
    expect_fail, liars, lone = 0, set(), set()
    for g, members in enumerate(code.groups()):
        fate = data.draw(st.lists(st.sampled_from("hal"), min_size=r, max_size=r), label=f"g{g}")
        for rank, what in zip(members, fate, strict=True):
            if what == "h":  # honest: symbolic, or its bits as a dense copy
                dense = data.draw(st.booleans(), label=f"dense {rank}")
                received[rank] = parts[g].clone() if dense else honest[rank]
            elif what == "a":
                received[rank] = parts[g] + torch.randn(5, dtype=torch.float64)
                liars.add(rank)
        h, a = fate.count("h"), fate.count("a")
        if (h, a) == (0, 1):
            lone.add(g)
        expect_fail += h <= a and (h, a) != (0, 1)
    out = code.decode(received, lambda m: m if isinstance(m, torch.Tensor) else m.coeffs @ parts)
    assert out.failures == expect_fail
    decoded = [m if isinstance(m, torch.Tensor) else m.coeffs @ parts for m in out.candidates]
    exact = [any(torch.equal(v, parts[g]) for g in range(groups)) for v in decoded]
    assert exact.count(False) == len(lone)  # only a lone lie gets through, unchecked
    assert out.suspects <= liars


def test_decodable_needs_a_majority_of_all_r_copies_not_of_those_received() -> None:
    code = RepetitionCode(3, r=3)
    honest = code.honest_messages()
    assert not code.decodable({0: honest[0]}, materialize)  # 1 of 3: a majority of 1
    assert not code.decodable({0: honest[0], 1: -G[0]}, materialize)
    assert code.decodable({0: honest[0], 2: honest[2]}, materialize)  # 2 of 3 can't be outvoted
