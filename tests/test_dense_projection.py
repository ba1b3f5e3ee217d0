"""The cyclic decoder's projection of dense messages: blocked (fast) or float64 (exact),
and the rule that decides when the fast answer is not good enough."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.codes import cyclic
from sim.codes.cyclic import CyclicCode
from sim.codes.dense import BLOCK, as_matrix, project_rows
from sim.codes.dft import CDTYPE, codeword_residual
from sim.messages import Message
from tests.test_cyclic import rel_error


def reference(rows: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    return rows.to(CDTYPE) @ f.to(CDTYPE)


@pytest.mark.parametrize("d", [1, BLOCK // 2 - 1, BLOCK // 2, BLOCK // 2 + 1, 1000, 4099])
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize("k", [1, 5])
def test_both_projections_agree_with_complex128(d: int, dtype: torch.dtype, k: int) -> None:
    gen = torch.Generator().manual_seed(d + k)
    buffer = torch.randn(k, d + 3, generator=gen, dtype=dtype) * 1e3  # rows with gaps
    rows = buffer[:, :d]
    f = torch.randn(d, generator=gen)
    want = reference(rows, f)
    m = as_matrix(list(rows))
    eps = torch.finfo(rows.real.dtype).eps
    assert rel_error(project_rows(m, f, exact=True), want) < 1e-13
    assert rel_error(project_rows(m, f), want) < max(8 * eps, 1e-13)  # a few roundings of the dtype


def test_blocked_projection_beats_a_plain_float32_sum() -> None:
    """Why the blocks: one float32 accumulator over 10^6 terms drifts ~100x further."""
    gen = torch.Generator().manual_seed(0)
    rows = torch.randn(3, 500_000, generator=gen, dtype=torch.complex64)
    f = torch.randn(500_000, generator=gen)
    want = reference(rows, f)
    plain = rows @ f.to(torch.complex64)
    blocked = project_rows(as_matrix(list(rows)), f)
    assert rel_error(blocked, want) < rel_error(plain.to(CDTYPE), want) / 10


class Counting:
    """``project_rows`` that counts the exact (float64) calls."""

    def __init__(self) -> None:
        self.exact = 0

    def __call__(self, m: torch.Tensor, f: torch.Tensor, exact: bool = False) -> torch.Tensor:
        self.exact += exact
        return project_rows(m, f, exact)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Counting:
    calls = Counting()
    monkeypatch.setattr(cyclic, "project_rows", calls)
    return calls


def wire(
    n: int, s: int, d: int, seed: int, gen: int = 0
) -> tuple[CyclicCode, dict[int, Message], torch.Tensor]:
    """A code at the start of an iteration, the dense complex64 messages of ``n`` honest
    workers, and the mean they encode."""
    code = CyclicCode(n, s=s, gen=torch.Generator().manual_seed(gen))
    code.honest_messages()
    g = torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    z = (code.W @ g.to(CDTYPE)).to(torch.complex64)
    return code, {i: z[i] for i in range(n)}, g.mean(0)


def test_a_clear_answer_is_not_checked_again(counting: Counting) -> None:
    code, received, mean = wire(15, 2, 3000, seed=1)
    received[4], received[9] = -100 * received[4], 7 * received[9]
    out = code.decode(received, lambda m: m)
    assert out.suspects == {4, 9} and counting.exact == 0
    assert rel_error(out.candidates[0].double(), mean) < 1e-4


def test_a_failure_is_confirmed_on_float64_projections(counting: Counting) -> None:
    code, received, _ = wire(15, 2, 3000, seed=2)
    for i in (1, 5, 11):  # three independent liars: one more than s
        received[i] = -(i + 1) * received[i]
    out = code.decode(received, lambda m: m)
    assert out.failures == 1 and counting.exact == 1


def test_a_faint_blame_is_decided_in_float64(counting: Counting) -> None:
    """A lie a few tolerances big: the fast projection's rounding could have made an
    honest row look like that, so float64 projections decide — and find the liar."""
    n, s, d, liar = 15, 2, 3000, 6
    code, received, _ = wire(n, s, d, seed=3)
    f = code.projection(d)
    tol = code._tolerance(received)
    push = torch.randn(d, generator=torch.Generator().manual_seed(4), dtype=torch.complex64)

    def residual(alpha: float) -> float:  # of the honest explanation, in float64
        rows = dict(received)
        rows[liar] = received[liar] + alpha * push
        y = project_rows(as_matrix([rows[i] for i in range(n)]), f, exact=True)
        return codeword_residual(y, torch.arange(n), s)

    alpha = 5 * tol / residual(1.0)  # the residual grows linearly with the lie
    assert 3 * tol < residual(alpha) < 8 * tol
    received[liar] = received[liar] + alpha * push
    out = code.decode(received, lambda m: m)
    assert counting.exact == 1 and out.failures == 0 and out.suspects == {liar}


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(3, 20),
    data=st.data(),
    d=st.sampled_from([40, 300]),
    seed=st.integers(0, 2**20),
)
def test_a_clear_answer_does_not_depend_on_which_projection_gave_it(
    n: int, data: st.DataObject, d: int, seed: int
) -> None:
    s = data.draw(st.integers(1, (n - 1) // 2), label="s")
    liars = data.draw(st.lists(st.integers(0, n - 1), max_size=s + 1, unique=True), label="liars")
    scales = [10 ** data.draw(st.floats(-3, 4), label=f"lie {r}") for r in liars]
    answers = []
    for doubt in (cyclic.DOUBT, float("inf")):  # inf: every answer decided in float64
        code, received, _ = wire(n, s, d, seed, gen=seed)
        gen = torch.Generator().manual_seed(seed + 1)
        for r, scale in zip(liars, scales, strict=True):
            noise = torch.randn(d, generator=gen, dtype=torch.complex64)
            received[r] = received[r] + scale * received[r].abs().mean() * noise
        old, cyclic.DOUBT = cyclic.DOUBT, doubt
        try:
            answers.append(code.decode(received, lambda m: m))
        finally:
            cyclic.DOUBT = old
    fast, exact = answers
    assert (fast.failures, fast.suspects) == (exact.failures, exact.suspects)
    assert all(torch.equal(a, b) for a, b in zip(fast.candidates, exact.candidates, strict=True))
