"""The cyclic code against a lie in one coordinate, from 1e-6 to 1 of the message's scale.

Workers compute float32 gradients with a real model. Two precisions:

- complex128, as the simulator decodes (the honest rows exact, a liar's row what the
  worker computed): every lie is located, and the update is the adversary-free one.
- complex64, every row rounded as on the wire (``code.message_bytes``): each lie is
  located (the update then as exact as the other rows' rounding allows), reported as a
  decode failure, or below the noise floor: its projection on the PS's private ``f``
  within ``FLOOR`` rounding units of the projections, and its effect on the update
  bounded by what that floor lets through. No honest worker is ever blamed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch

from sim.build import build
from sim.codes import cyclic
from sim.codes.cyclic import CyclicCode
from sim.codes.dft import CDTYPE, recovery_weights
from sim.messages import Message, PartSum
from sim.training.oracle import GradientOracle
from tests.conftest import make_cfg

SIZES = [10.0**-k for k in range(6, -1, -1)]  # of the liar's RMS coordinate
U32 = 2.0**-24  # float32 unit roundoff
FLOOR_UNITS = 32  # the documented floor: 32 float32 roundings of |y| (README, cyclic code)


@dataclass
class Iteration:
    code: CyclicCode
    oracle: GradientOracle
    honest: list[Message]

    @property
    def n(self) -> int:
        return self.code.n

    def mean(self) -> torch.Tensor:
        return self.oracle.materialize(PartSum(torch.full((self.n,), 1 / self.n))).double()

    def decode(self, received: dict[int, Message]):  # type: ignore[no-untyped-def]
        self.code._y = {}  # a new message set: project it afresh (same f)
        return self.code.decode(received, self.oracle.materialize, self.oracle.project)


def iteration(n: int, s: int) -> Iteration:
    """The first iteration of a small real run of the cyclic code."""
    cfg = make_cfg(
        "code=cyclic", f"code.s={s}", f"cluster.workers={n}", "model.hidden=[24]",
        f"train.batch_size={4 * n}", "adversary=none",
    )  # fmt: skip
    math_ = build(cfg).ps.math
    math_.prepare(0)  # type: ignore[attr-defined]
    code, oracle = math_.code, math_.oracle  # type: ignore[attr-defined]
    assert isinstance(code, CyclicCode)
    return Iteration(code, oracle, code.honest_messages())


def lied(z: torch.Tensor, size: float, k: int) -> torch.Tensor:
    out = z.clone()
    out[k] += size * float(torch.linalg.vector_norm(z)) / math.sqrt(len(z))
    return out


CASES = [(15, 1), (45, 2), (5, 2), (45, 11), (23, 11)]
SLOW_CASES = [(n, 2) for n in range(6, 45)] + [(n, 11) for n in range(24, 45)]


def at_simulator_precision(n: int, s: int) -> None:
    it = iteration(n, s)
    want = PartSum(torch.full((n,), 1 / n, dtype=torch.float64))
    for liar in (0, n // 2):
        z = it.oracle.materialize(it.honest[liar])  # complex128, as the worker computed it
        assert z.dtype == torch.complex128
        for size in SIZES:
            out = it.decode(dict(enumerate(it.honest)) | {liar: lied(z, size, 7 * liar + 3)})
            assert out.failures == 0 and out.suspects == {liar}, (size, liar)
            (got,) = out.candidates
            # the honest rows' own sum, to the least squares' float64 rounding
            assert isinstance(got, PartSum)
            assert torch.allclose(got.coeffs, want.coeffs, rtol=1e-9, atol=0)


@pytest.mark.parametrize(("n", "s"), CASES)
def test_at_simulator_precision_every_lie_is_located(n: int, s: int) -> None:
    at_simulator_precision(n, s)


@pytest.mark.slow
@pytest.mark.parametrize(("n", "s"), SLOW_CASES)
def test_at_simulator_precision_every_lie_is_located_for_every_n(n: int, s: int) -> None:
    at_simulator_precision(n, s)


def on_the_wire(n: int, s: int) -> set[str]:
    """Every row rounded to complex64; returns the outcomes seen."""
    it = iteration(n, s)
    wire = {i: it.oracle.materialize(m).to(torch.complex64) for i, m in enumerate(it.honest)}
    mean = it.mean()
    clean = it.decode(dict(wire))
    assert clean.failures == 0 and clean.suspects == set()
    floor_err = float(torch.linalg.vector_norm(clean.candidates[0].double() - mean))
    f = it.code.projection(it.oracle.d).double()
    y = torch.tensor([it.code._y[i][1] for i in range(n)], dtype=CDTYPE)
    floor = FLOOR_UNITS * U32 * float(torch.linalg.vector_norm(y))  # in projection units
    assert cyclic.FLOOR <= FLOOR_UNITS
    weights = recovery_weights(list(range(n)), n, s) / n
    seen = set()
    for liar in (0, n // 2):
        k = 7 * liar + 3
        for size in SIZES:
            lie = lied(wire[liar], size, k) - wire[liar]  # the error as it went on the wire
            out = it.decode(wire | {liar: wire[liar] + lie})
            assert out.suspects <= {liar}, f"an honest worker blamed: {out.suspects}"
            if out.failures:
                seen.add("reported")
                assert out.candidates == []
                continue
            err = float(torch.linalg.vector_norm(out.candidates[0].double() - mean))
            if out.suspects == {liar}:
                seen.add("located")
                assert err <= 2 * floor_err  # n-1 rows' rounding instead of n
                continue
            seen.add("below the floor")
            seen_on_f = abs(float(lie[k].abs()) * float(f[k]))  # what f shows of the lie
            assert seen_on_f <= 1.5 * floor, (size, seen_on_f / floor)
            # its effect: the lie times the liar's recovery weight, |f_k| of it seen on f
            assert err <= floor_err + 1.5 * abs(complex(weights[liar])) * floor / abs(float(f[k]))
    return seen


@pytest.mark.parametrize(("n", "s"), CASES)
def test_on_a_complex64_wire_each_lie_is_located_reported_or_below_the_floor(
    n: int, s: int
) -> None:
    seen = on_the_wire(n, s)
    assert "located" in seen and "below the floor" in seen  # both ends of the sweep


@pytest.mark.slow
@pytest.mark.parametrize(("n", "s"), SLOW_CASES)
def test_on_a_complex64_wire_for_every_n(n: int, s: int) -> None:
    on_the_wire(n, s)


@pytest.mark.parametrize(("n", "s"), [(9, 3), (45, 21), (45, 2)])
def test_honest_messages_encoded_in_float32_are_not_mistaken_for_lies(n: int, s: int) -> None:
    """Workers that encode in complex64 arithmetic leave more than one rounding in their
    messages, most where ``n - 2s`` is small (the code least well conditioned): the
    floor leaves room for it, so honest traffic decodes and nobody is blamed."""
    code = CyclicCode(n, s=s, gen=torch.Generator().manual_seed(n))
    code.honest_messages()
    d = 2048
    for seed in range(8):
        gen = torch.Generator().manual_seed(seed)
        g = torch.randn(d, generator=gen) + 0.3 * torch.randn(n, d, generator=gen)  # (n, d)
        z = code.W.to(torch.complex64) @ g.to(torch.complex64)  # float32 arithmetic
        code._y = {}
        out = code.decode({i: z[i] for i in range(n)}, lambda m: m)
        assert out.failures == 0 and out.suspects == set(), seed
