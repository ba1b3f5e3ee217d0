"""The majority vote on its own: bitwise, NaN-safe, with erasures."""

from __future__ import annotations

import pytest
import torch

from sim.codes.repetition import RepetitionCode
from sim.errors import ConfigError
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
    with pytest.raises(ConfigError, match=r"cluster.workers=10 is not a multiple of code.r=3"):
        RepetitionCode(10, r=3)
