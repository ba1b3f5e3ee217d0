"""Each strategy's definition, on plain tensors: real float32 and complex messages alike."""

from __future__ import annotations

import math

import pytest
import torch

from sim.adversaries.anti_decoder import AntiDecoder, shared_projection
from sim.adversaries.faults import Crash, Delay, LabelFlip
from sim.adversaries.omniscient import ALIE, IPM, AlieVariant, Mimic, alie_z
from sim.adversaries.strategies import (
    Collude,
    Constant,
    Gaussian,
    Honest,
    Inf,
    Knowledge,
    NaN,
    Reverse,
    SignFlip,
)
from sim.config.errors import ConfigError
from tests.conftest import problems, said  # noqa: E402

DTYPES = [torch.float32, torch.complex64]


def messages(
    rows: int, d: int = 64, dtype: torch.dtype = torch.float32, seed: int = 0
) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (1.0 + torch.randn(rows, d, dtype=dtype, generator=g)).to(dtype)


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(7)


def test_alie_z_for_ten_workers_three_adversaries_by_both_formulas() -> None:
    # s = floor(10/2) + 1 - 3 = 3
    assert alie_z(10, 3, AlieVariant.paper) == pytest.approx(0.5244005127, abs=1e-9)  # Phi^-1(7/10)
    assert alie_z(10, 3, AlieVariant.honest) == pytest.approx(0.1800123698, abs=1e-9)  # Phi^-1(4/7)


def test_alie_z_without_a_finite_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="adversary=alie: no finite z"):
        alie_z(10, 6, AlieVariant.paper)  # s = 0: p = (10 - 0) / 10 = 1
    with pytest.raises(ConfigError, match="set adversary.z"):
        alie_z(4, 3, AlieVariant.honest)  # s = 0: p = (4-3-0)/1 = 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_alie_sends_mean_minus_z_std_of_the_honest_messages(dtype: torch.dtype) -> None:
    honest, own = messages(7, dtype=dtype), messages(3, dtype=dtype, seed=1)
    alie = ALIE(n=10, f=3)
    sent = alie(own, lambda: honest, gen())
    real = torch.view_as_real(honest) if dtype.is_complex else honest
    expect = real.mean(0) - alie.z * real.std(0, correction=1)
    got = torch.view_as_real(sent[0]) if dtype.is_complex else sent[0]
    assert sent[0].dtype == dtype and torch.allclose(got, expect, atol=1e-5)
    assert all(torch.equal(s, sent[0]) for s in sent)  # one vector for all of them
    plus = ALIE(n=10, f=3, variant="honest", sign=1.0, ddof=0)(own, lambda: honest, gen())[0]
    plus_real = torch.view_as_real(plus) if dtype.is_complex else plus
    assert torch.allclose(
        plus_real, real.mean(0) + 0.18001237 * real.std(0, correction=0), atol=1e-5
    )


def test_alie_without_knowledge_uses_its_own_messages() -> None:
    own = messages(3)
    sent = ALIE(n=10, f=3)(own, None, gen())[0]
    assert torch.allclose(sent, own.mean(0) - alie_z(10, 3) * own.std(0), atol=1e-5)
    assert ALIE(n=10, f=3).invalid(3, Knowledge.none) is None
    assert "adversary.count > adversary.ddof=1" in str(ALIE(n=10, f=3).invalid(1, Knowledge.none))


@pytest.mark.parametrize("dtype", DTYPES)
def test_ipm_is_collinear_with_the_honest_mean_at_inner_product_minus_eps_norm2(
    dtype: torch.dtype,
) -> None:
    honest = messages(8, dtype=dtype).to(torch.complex128 if dtype.is_complex else torch.float64)
    sent = IPM(epsilon=0.3)(honest[:2], lambda: honest, gen())
    mean = honest.mean(0)
    inner = torch.vdot(mean, sent[0])  # conjugate-linear in the first argument
    assert torch.allclose(inner, -0.3 * torch.vdot(mean, mean), rtol=1e-10)
    cosine = inner.real / (torch.linalg.vector_norm(mean) * torch.linalg.vector_norm(sent[0]))
    assert float(cosine) == pytest.approx(-1.0, abs=1e-12)
    assert torch.equal(sent[0], sent[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_collusion_messages_are_one_identical_wrong_vector(dtype: torch.dtype) -> None:
    own = messages(4, dtype=dtype)
    sent = Collude(scale=100.0)(own, None, gen())
    assert len(sent) == 4 and all(torch.equal(s, sent[0]) for s in sent)
    assert torch.allclose(sent[0], -100.0 * own.mean(0))
    assert not any(torch.allclose(sent[0], g) for g in own)


@pytest.mark.parametrize("dtype", DTYPES)
def test_simple_vector_strategies(dtype: torch.dtype) -> None:
    own = messages(2, dtype=dtype)
    assert torch.equal(torch.stack(Reverse(scale=100.0)(own, None, gen())), -100.0 * own)  # type: ignore[arg-type]
    assert torch.equal(torch.stack(SignFlip()(own, None, gen())), -own)  # type: ignore[arg-type]
    assert torch.equal(torch.stack(Honest()(own, None, gen())), own)  # type: ignore[arg-type]
    const = Constant(-100.0)(own, None, gen())[0]
    assert const is not None and const.dtype == dtype and bool((const == -100.0).all())
    nan = NaN()(own, None, gen())[0]
    assert nan is not None and bool(torch.isnan(nan).all())
    inf = Inf(sign=-1.0)(own, None, gen())[0]
    assert inf is not None and bool(
        (torch.view_as_real(inf) if dtype.is_complex else inf).min() == -math.inf
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_noise_has_the_requested_spread_and_its_own_stream(dtype: torch.dtype) -> None:
    own = messages(2, d=20_000, dtype=dtype)
    sent = Gaussian(mean=0.0, std=200.0)(own, None, gen())
    assert sent[0] is not None and sent[0].dtype == dtype
    power = float(sent[0].abs().pow(2).mean())  # E|x|^2 = std^2, complex too
    assert power == pytest.approx(200.0**2, rel=0.05)
    assert not torch.equal(sent[0], sent[1])  # independent per worker
    again = Gaussian(mean=0.0, std=200.0)(own, None, gen())
    assert torch.equal(sent[0], again[0])  # the adversaries' stream: reproducible
    added = Gaussian(std=1e-3, add=True)(own, None, gen())[0]
    assert added is not None and torch.allclose(added, own[0], atol=0.02)


def test_mimic_copies_an_honest_message_and_needs_knowledge() -> None:
    honest, own = messages(5), messages(2, seed=3)
    sent = Mimic(target=2)(own, lambda: honest, gen())
    assert all(s is not None and torch.equal(s, honest[2]) for s in sent)
    assert "knowledge=omniscient" in str(Mimic().invalid(2, Knowledge.none))


@pytest.mark.parametrize("dtype", DTYPES)
def test_anti_decoder_error_is_orthogonal_to_the_shared_projection(dtype: torch.dtype) -> None:
    own = messages(3, d=500, dtype=dtype)
    sent = AntiDecoder(scale=100.0, seed=5)(own, None, gen())
    f = shared_projection(500, 5)
    assert torch.equal(
        f, torch.randn(500, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    )
    for g, s in zip(own, sent, strict=True):
        assert s is not None and s.dtype == dtype
        err = (s - g).to(torch.complex128 if dtype.is_complex else torch.float64)
        size = float(torch.linalg.vector_norm(err) * torch.linalg.vector_norm(f))
        assert float(abs(f.to(err.dtype) @ err)) < 1e-6 * size  # invisible through f
        assert float(torch.linalg.vector_norm(err)) > 10 * float(torch.linalg.vector_norm(g))


def test_fault_strategies() -> None:
    own = messages(3)
    assert Crash()(own, None, gen()) == [None, None, None]  # nothing, not a zero vector
    delay = Delay(seconds=2.5)
    assert delay.delay_s == 2.5 and torch.equal(torch.stack(delay(own, None, gen())), own)  # type: ignore[arg-type]
    assert LabelFlip.flip_labels and torch.equal(torch.stack(LabelFlip()(own, None, gen())), own)  # type: ignore[arg-type]
    assert said("adversary.seconds=-1", problems("adversary=delay", "adversary.seconds=-1"))


def test_anti_decoder_uses_a_projection_the_decoder_reuses() -> None:
    class ReusingCode:
        fresh_projection = False

        def projection(self, d: int, device: torch.device) -> torch.Tensor:
            return torch.linspace(-1.0, 1.0, d)

    own = messages(2, d=50)
    attack = AntiDecoder(seed=5, code=ReusingCode())
    assert attack.projection == "decoder's reused"
    f = torch.linspace(-1.0, 1.0, 50).double()
    for g, s in zip(own, attack(own, None, gen()), strict=True):
        assert s is not None and abs(float(f @ (s - g).double())) < 1e-4 * float((s - g).norm())
    fresh = type("FreshCode", (ReusingCode,), {"fresh_projection": True})()
    assert AntiDecoder(seed=5, code=fresh).projection == "shared(seed=5)"
