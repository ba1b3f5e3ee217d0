"""The cyclic code's decoder against every kind of trouble: errors, erasures, NaNs, and
adversaries who know too much. Exact inside the bound, a reported failure outside it."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.codes.cyclic import CyclicCode
from sim.codes.dft import CDTYPE, dft
from sim.messages import Message, PartSum
from tests.conftest import problems, said


class Parts:
    """A stand-in gradient oracle: ``P`` random part gradients of size ``d`` (float64)."""

    def __init__(self, parts: int, d: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.g = torch.randn(parts, d, generator=gen, dtype=torch.float64)
        self.projected = 0

    def materialize(self, m: Message) -> torch.Tensor:
        if not isinstance(m, PartSum):
            return m
        if m.coeffs.is_complex():
            return m.coeffs @ self.g.to(CDTYPE)
        return m.coeffs @ self.g

    def project(self, f: torch.Tensor) -> torch.Tensor:
        self.projected += 1
        return self.g @ f.to(self.g.dtype)

    @property
    def mean(self) -> torch.Tensor:
        return self.g.mean(0)


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))


def decode(code: CyclicCode, received: dict[int, Message], oracle: Parts):  # type: ignore[no-untyped-def]
    return code.decode(received, oracle.materialize, oracle.project)


LIES = ["gaussian", "reverse", "nan", "inf", "zero", "constant"]


def lie(kind: str, honest: torch.Tensor, scale: float, gen: torch.Generator) -> torch.Tensor:
    """What one adversary sends instead of ``honest`` (d,) complex128."""
    size = float(torch.linalg.vector_norm(honest)) / math.sqrt(len(honest))
    if kind == "gaussian":
        noise = torch.randn(len(honest), generator=gen, dtype=torch.float64)
        return honest + scale * size * noise
    if kind == "reverse":  # each liar its own factor: liars that all agree are colluding
        return -scale * (1 + float(torch.rand(1, generator=gen))) * honest
    if kind == "nan":
        return torch.full_like(honest, float("nan"))
    if kind == "inf":
        return honest + float("inf")
    if kind == "zero":
        return torch.zeros_like(honest)
    return torch.full_like(honest, -100.0 * scale * size)  # constant


def scenario(data: st.DataObject, inside: bool) -> tuple[int, int, list[int], dict[int, str]]:
    """(n, s, missing ranks, liars -> kind of lie) in random placements, with ``t``
    erasures and ``e`` liars inside the bound ``2e + t <= 2s`` or beyond it."""
    n = data.draw(st.integers(3, 30), label="n")
    s = data.draw(st.integers(1, (n - 1) // 2), label="s")
    order = data.draw(st.permutations(range(n)), label="placement")
    if inside:
        t = data.draw(st.integers(0, 2 * s), label="erasures")
        e = data.draw(st.integers(0, (2 * s - t) // 2), label="liars")
    else:  # t = 2s leaves no redundancy to check anything (see below)
        t = data.draw(st.integers(0, 2 * s - 1), label="erasures")
        e = data.draw(st.integers((2 * s - t) // 2 + 1, n - t), label="liars")
    kinds = LIES if inside else ["gaussian", "reverse"]  # beyond: independent lies only
    liars = {r: data.draw(st.sampled_from(kinds), label=f"lie {r}") for r in order[t : t + e]}
    return n, s, sorted(order[:t]), liars


def messages(
    code: CyclicCode, oracle: Parts, missing: list[int], liars: dict[int, str], data: st.DataObject
) -> dict[int, Message]:
    gen = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31), label="seed"))
    received: dict[int, Message] = {}
    for i, m in enumerate(code.honest_messages()):
        if i in missing:
            continue
        dense = data.draw(st.booleans(), label=f"dense {i}")
        received[i] = oracle.materialize(m) if dense or i in liars else m
        if i in liars:
            scale = 10 ** data.draw(st.floats(-3, 6), label=f"magnitude {i}")
            received[i] = lie(liars[i], oracle.materialize(m), scale, gen)
    return received


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_inside_the_bound_recovery_is_exact_and_every_liar_is_found(data: st.DataObject) -> None:
    n, s, missing, liars = scenario(data, inside=True)
    oracle = Parts(n, 6, seed=n)
    code = CyclicCode(n, s=s, gen=torch.Generator().manual_seed(7))
    out = decode(code, messages(code, oracle, missing, liars, data), oracle)
    assert out.failures == 0 and len(out.candidates) == 1
    assert out.suspects == set(liars)
    assert rel_error(oracle.materialize(out.candidates[0]), oracle.mean) < 1e-9


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_beyond_the_bound_independent_lies_are_reported_never_decoded(
    data: st.DataObject,
) -> None:
    n, s, missing, liars = scenario(data, inside=False)
    oracle = Parts(n, 6, seed=n + 1)
    code = CyclicCode(n, s=s, gen=torch.Generator().manual_seed(8))
    out = decode(code, messages(code, oracle, missing, liars, data), oracle)
    assert out.failures == 1 and out.candidates == []


def test_with_2s_rows_missing_nothing_is_left_to_check_a_lie() -> None:
    """``t = 2s``: the ``n - 2s`` rows received fix the codeword alone, so a lie among them
    is undetectable by any decoder — the case ground truth (``corrupted_updates``) exists for."""
    n, s = 9, 2
    oracle, code = Parts(n, 5, seed=3), CyclicCode(n, s=s)
    honest = code.honest_messages()
    received = {i: honest[i] for i in range(2 * s, n)}
    received[5] = -100 * oracle.materialize(honest[5])
    out = decode(code, received, oracle)
    assert out.failures == 0 and out.suspects == set()
    assert rel_error(oracle.materialize(out.candidates[0]), oracle.mean) > 1


def test_honest_symbolic_messages_decode_symbolically_without_projecting() -> None:
    oracle, code = Parts(15, 4, seed=0), CyclicCode(15, s=2)
    honest = code.honest_messages()
    out = decode(code, {i: honest[i] for i in range(2, 15)}, oracle)  # two stragglers
    (cand,) = out.candidates
    assert isinstance(cand, PartSum) and not cand.coeffs.is_complex()
    assert torch.allclose(cand.coeffs, torch.full((15,), 1 / 15, dtype=torch.float64))
    assert oracle.projected == 0


def test_located_liars_leave_a_symbolic_result_and_one_projection_per_iteration() -> None:
    oracle, code = Parts(15, 4, seed=0), CyclicCode(15, s=2)
    honest = code.honest_messages()
    received: dict[int, Message] = dict(enumerate(honest))
    received[3] = -100 * oracle.materialize(honest[3])
    received[12] = -100 * oracle.materialize(honest[12])
    for _ in range(3):  # the PS may ask several times in one iteration: one projection
        assert code.decodable(received, oracle.materialize, oracle.project)
        out = decode(code, received, oracle)
    assert oracle.projected == 1 and out.suspects == {3, 12}
    assert isinstance(out.candidates[0], PartSum)
    assert rel_error(oracle.materialize(out.candidates[0]), oracle.mean) < 1e-12


def test_decodable_waits_for_n_minus_s_rows_that_agree() -> None:
    oracle, code = Parts(7, 4, seed=2), CyclicCode(7, s=1)
    honest = code.honest_messages()
    liar = -100 * oracle.materialize(honest[0])
    arrived: dict[int, Message] = {0: liar}
    answers = []
    for i in range(1, 7):
        arrived[i] = honest[i]
        answers.append(code.decodable(arrived, oracle.materialize, oracle.project))
    # six rows, one a liar: only five agree until the sixth honest row arrives
    assert answers == [False, False, False, False, False, True]
    assert code.decodable({i: honest[i] for i in range(1, 7)}, oracle.materialize)


def orthogonal_lie(
    honest: torch.Tensor, known_f: torch.Tensor, gen: torch.Generator
) -> torch.Tensor:
    """An error the size of the message, exactly orthogonal to the projection ``known_f``."""
    f = known_f.double()
    u = torch.randn(len(f), generator=gen, dtype=torch.float64)
    u = u - (u @ f) / (f @ f) * f
    return honest + 100 * u * torch.linalg.vector_norm(honest) / torch.linalg.vector_norm(u)


@pytest.mark.parametrize("fresh", [False, True])
def test_a_lie_orthogonal_to_a_known_projection_fools_only_a_reused_one(fresh: bool) -> None:
    oracle = Parts(15, 64, seed=5)
    code = CyclicCode(15, s=2, fresh_projection=fresh, gen=torch.Generator().manual_seed(1))
    gen = torch.Generator().manual_seed(2)
    honest = code.honest_messages()  # iteration 1: the adversaries learn this iteration's f
    received = dict(enumerate(honest)) | {4: -100 * oracle.materialize(honest[4])}
    assert decode(code, received, oracle).suspects == {4}
    leaked = code.projection(64).clone()
    honest = code.honest_messages()  # iteration 2: they send errors orthogonal to it
    liars = {i: orthogonal_lie(oracle.materialize(honest[i]), leaked, gen) for i in (4, 9)}
    out = decode(code, dict(enumerate(honest)) | liars, oracle)
    result = rel_error(oracle.materialize(out.candidates[0]), oracle.mean)
    if fresh:  # a new private f sees the errors
        assert out.suspects == {4, 9} and result < 1e-12
    else:  # the reused f is blind to them: a silently wrong update
        assert out.failures == 0 and out.suspects == set() and result > 1


def test_colluding_liars_beyond_the_bound_can_forge_another_codeword() -> None:
    """``s + 1`` omniscient colluders add a codeword difference of weight ``2s + 1``: the
    received words look like a *different* codeword with ``s`` errors on honest rows.
    No PS can tell (minimum distance ``2s + 1``); only ground truth can."""
    n, s, d = 11, 2, 16
    oracle, code = Parts(n, d, seed=9), CyclicCode(n, s=s)
    c1 = dft(n)[:, : n - 2 * s]
    zero_rows = list(range(2 * s + 1, n))  # the shift vanishes there
    v = torch.linalg.svd(c1[zero_rows]).Vh[-1].conj()  # null vector: C1[zero_rows] v = 0
    v = v / v[0]  # moves X[0], the recovered sum, by 1 along u
    shift = c1 @ v  # a codeword, nonzero exactly on rows 0..2s
    u = torch.randn(d, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    honest = code.honest_messages()
    received: dict[int, Message] = dict(enumerate(honest))
    for i in range(s + 1):  # the colluders
        received[i] = oracle.materialize(honest[i]) + shift[i] * u
    out = decode(code, received, oracle)
    assert out.failures == 0 and out.suspects == set(range(s + 1, 2 * s + 1))  # honest blamed
    wrong = oracle.materialize(out.candidates[0])
    assert torch.allclose(wrong, oracle.mean + u / n, atol=1e-9)


def test_nan_and_inf_messages_are_erasures_at_known_places() -> None:
    oracle, code = Parts(9, 4, seed=4), CyclicCode(9, s=1)
    honest = code.honest_messages()
    received: dict[int, Message] = dict(enumerate(honest))
    received[2] = torch.full((4,), float("nan"), dtype=CDTYPE)
    received[7] = torch.full((4,), float("inf"))
    out = decode(code, received, oracle)  # two erasures = 2s: still decodable
    assert out.failures == 0 and out.suspects == {2, 7}
    assert rel_error(oracle.materialize(out.candidates[0]), oracle.mean) < 1e-12


def test_float32_messages_are_checked_at_float32_precision() -> None:
    """Dense complex64 messages (the wire format) carry ~1e-7 rounding: the decoder does
    not mistake that for lies, and still finds a real one."""
    oracle, code = Parts(15, 256, seed=6), CyclicCode(15, s=2)
    honest = code.honest_messages()
    received: dict[int, Message] = {
        i: oracle.materialize(m).to(torch.complex64) for i, m in enumerate(honest)
    }
    received[6] = -100 * received[6]
    out = decode(code, received, oracle)
    assert out.suspects == {6}
    assert out.candidates[0].dtype == torch.float32
    assert rel_error(out.candidates[0].double(), oracle.mean) < 1e-5


def test_projections_come_only_from_the_private_stream() -> None:
    a = CyclicCode(7, s=1, gen=torch.Generator().manual_seed(11))
    b = CyclicCode(7, s=1, gen=torch.Generator().manual_seed(11))
    a.honest_messages()
    b.honest_messages()
    first = a.projection(32).clone()
    assert torch.equal(first, b.projection(32))
    a.honest_messages()  # a new iteration: a new f
    assert not torch.equal(a.projection(32), first)
    c = CyclicCode(7, s=1, fresh_projection=False, gen=torch.Generator().manual_seed(11))
    c.honest_messages()
    kept = c.projection(32).clone()
    c.honest_messages()
    assert torch.equal(c.projection(32), kept)


def test_the_cost_of_redundancy() -> None:
    code = CyclicCode(15, s=2)
    assert [code.load(i) for i in (0, 14)] == [5, 5]
    assert code.parts == 15 and code.message_bytes(1000) == 8000
    assert code.groups() == [list(range(15))]


@pytest.mark.parametrize(
    ("n", "s", "tolerance", "match"),
    [
        (15, 8, 1e-10, r"code.s=8 needs cluster.workers >= 2s\+1 = 17 \(got 15\)"),
        (15, -1, 1e-10, r"code.s=-1: must be >= 0"),
        (15, 2, -1.0, r"code.tolerance=-1.0: must be in \[0, 1\)"),
    ],
)
def test_impossible_settings_name_the_key(n: int, s: int, tolerance: float, match: str) -> None:
    found = problems(
        f"cluster.workers={n}", "code=cyclic", f"code.s={s}", f"code.tolerance={tolerance}"
    )
    assert said(match, found), found
