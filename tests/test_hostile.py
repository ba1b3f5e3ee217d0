"""Hostile messages (NaN, +-Inf, 1e38, wrong shape, wrong dtype, not a tensor, missing).

Registry-driven: every code and every rule in ``sim.config.options.GROUPS`` is attacked, so a
new option is covered as soon as it is registered (a new code also needs a line in
``WITHIN_BOUND`` saying which liar sets it claims to tolerate; the test says so).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from sim.admission import admit, expected_dtype
from sim.build import make
from sim.build import settings as option_settings
from sim.config.options import GROUPS, locate, option_schema
from sim.messages import Message, PartSum, bits_equal
from tests.conftest import Run, make_cfg, simulate
from tests.hostile import MALFORMED, NON_FINITE

SCHEMAS = {group: GROUPS[group].options for group in ("code", "aggregator")}

D = 16
HOSTILE = [float("nan"), float("inf"), -float("inf"), 1e38, -1e38, 0.0, 3.0]


def build_code(name: str) -> Any:
    """The option with its schema defaults, on the first worker count it accepts."""
    node = OmegaConf.structured(option_schema("code", name))
    check = getattr(locate(node._target_), "problems", lambda **_: [])
    for n in (9, 15, 12, 10, 6, 8, 7, 5):
        if not check(n=n, **option_settings("code", node)):
            return make("code", node, n=n, gen=torch.Generator())
    raise AssertionError(f"code={name}: no worker count in 5..15 accepted")


def _per_group(limit: Callable[[Any], int]) -> Callable[[Any, np.random.Generator], list[int]]:
    def liars(code: Any, rng: np.random.Generator) -> list[int]:
        out: list[int] = []
        for members in code.groups():
            take = int(rng.integers(0, limit(code) + 1))
            out += rng.choice(members, size=take, replace=False).tolist()
        return sorted(out)

    return liars


# Liar sets each code claims to tolerate, drawn at random (a new code adds its line).
def _minority_everywhere(code: Any, rng: np.random.Generator) -> list[int]:
    """Ranks in random order, each kept while every part it holds stays at most
    ``(r-1)/2`` liars of its ``r`` holders (overlapping parts: assignment codes)."""
    parts = code.groups()
    bad: set[int] = set()
    for rank in rng.permutation(code.n).tolist()[: int(rng.integers(0, code.n + 1))]:
        trial = bad | {rank}
        if all(2 * sum(w in trial for w in ws) < len(ws) for ws in parts):
            bad = trial
    return sorted(bad)


WITHIN_BOUND: dict[str, Callable[[Any, np.random.Generator], list[int]]] = {
    "none": lambda code, rng: [],
    "repetition": _per_group(lambda code: (code.r - 1) // 2),
    "cyclic": lambda code, rng: sorted(
        rng.choice(code.n, size=int(rng.integers(0, code.s + 1)), replace=False).tolist()
    ),
    "assignment": _minority_everywhere,
}


def parts_matrix(code: Any, seed: int) -> torch.Tensor:
    return torch.randn(code.parts, D, generator=torch.Generator().manual_seed(seed))


def materializer(G: torch.Tensor) -> Callable[[Message], torch.Tensor]:
    def materialize(m: Message) -> torch.Tensor:
        if not isinstance(m, PartSum):
            return m
        if m.coeffs.is_complex():
            return m.coeffs @ G.to(torch.complex128)
        nz = torch.nonzero(m.coeffs).flatten()
        if len(nz) == 1 and float(m.coeffs[nz[0]]) == 1.0:
            return G[int(nz[0])]
        return m.coeffs.to(G.dtype) @ G

    return materialize


def hostile_vector(values: list[float], dtype: torch.dtype) -> torch.Tensor:
    v = torch.tensor((values * D)[:D], dtype=torch.float64)
    return (v if dtype.is_complex else v).to(dtype)


def same_candidates(a: list[Message], b: list[Message], materialize: Any) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        u, v = materialize(x), materialize(y)
        if not bits_equal(u, v) and not torch.allclose(u, v, rtol=1e-9, atol=1e-9):
            return False
    return True


def test_every_code_states_what_it_tolerates() -> None:
    missing = set(SCHEMAS["code"]) - set(WITHIN_BOUND)
    assert not missing, f"add WITHIN_BOUND entries for codes {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(SCHEMAS["code"]))
@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), values=st.lists(st.sampled_from(HOSTILE), min_size=1))
def test_non_finite_messages_within_the_bound_decode_to_the_honest_candidates(
    name: str, seed: int, values: list[float]
) -> None:
    code = build_code(name)
    G = parts_matrix(code, seed)
    materialize = materializer(G)
    honest = code.honest_messages()
    liars = WITHIN_BOUND[name](code, np.random.default_rng(seed))
    received: dict[int, Message] = dict(enumerate(honest))
    for rank in liars:
        received[rank] = hostile_vector(values, expected_dtype(honest[rank], torch.float32))
    decoded = code.decode(received, materialize)
    clean = code.decode(dict(enumerate(honest)), materialize)
    assert decoded.failures == 0
    assert same_candidates(decoded.candidates, clean.candidates, materialize)
    assert all(bool(torch.isfinite(materialize(c)).all()) for c in decoded.candidates)


@pytest.mark.parametrize("name", sorted(SCHEMAS["code"]))
@pytest.mark.parametrize("kind", ["nan", "inf"])
def test_nan_and_inf_from_every_tolerated_liar_leave_the_candidates_exact(
    name: str, kind: str
) -> None:
    """Must show 2 at the code level: all liars at the bound, all sending NaN (or Inf)."""
    code = build_code(name)
    G = parts_matrix(code, 0)
    materialize = materializer(G)
    honest = code.honest_messages()
    most = max((WITHIN_BOUND[name](code, np.random.default_rng(s)) for s in range(50)), key=len)
    received: dict[int, Message] = dict(enumerate(honest))
    for rank in most:
        received[rank] = hostile_vector([float(kind)], expected_dtype(honest[rank], G.dtype))
    decoded = code.decode(received, materialize)
    clean = code.decode(dict(enumerate(honest)), materialize)
    assert decoded.failures == 0 and same_candidates(
        decoded.candidates, clean.candidates, materialize
    )
    assert set(most) <= decoded.suspects


def malformed(kind: str, d: int) -> Any:
    return {
        "shape": torch.zeros(d + 1),
        "short": torch.zeros(d - 1),
        "matrix": torch.zeros(1, d),
        "scalar": torch.tensor(0.0),
        "dtype": torch.zeros(d, dtype=torch.float64),
        "int": torch.zeros(d, dtype=torch.int32),
        "list": [0.0] * d,
        "array": np.zeros(d, dtype=np.float32),
        "string": "gradient",
        "partsum": PartSum(torch.zeros(3, dtype=torch.float64)),
    }[kind]


MALFORMED_KINDS = ["shape", "short", "matrix", "scalar", "dtype", "int", "list", "array", "string"]


@pytest.mark.parametrize("kind", [*MALFORMED_KINDS, "partsum"])
def test_malformed_messages_are_refused_at_the_door(kind: str) -> None:
    assert admit(malformed(kind, D), D, torch.float32, parts=5, device=torch.device("cpu")) is None


def test_well_formed_messages_pass_the_door_values_unjudged() -> None:
    nan = torch.full((D,), float("nan"))
    ok = admit(nan, D, torch.float32, parts=5, device=torch.device("cpu"))
    assert ok is not None and bits_equal(ok, nan)
    honest = PartSum(torch.zeros(5, dtype=torch.float64))
    assert admit(honest, D, torch.float32, parts=5, device=torch.device("cpu")) is honest


@pytest.mark.parametrize("name", sorted(SCHEMAS["code"]))
@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_refused_messages_are_erasures_the_code_survives(name: str, kind: str) -> None:
    code = build_code(name)
    G = parts_matrix(code, 1)
    materialize = materializer(G)
    honest = code.honest_messages()
    liars = max((WITHIN_BOUND[name](code, np.random.default_rng(s)) for s in range(50)), key=len)
    received: dict[int, Message] = {}
    for rank, m in enumerate(honest):
        sent = malformed(kind, D) if rank in liars else m
        ok = admit(sent, D, expected_dtype(m, G.dtype), code.parts, torch.device("cpu"))
        if ok is not None:
            received[rank] = ok
    assert set(received) == set(range(code.n)) - set(liars)
    decoded = code.decode(received, materialize)
    clean = code.decode(dict(enumerate(honest)), materialize)
    assert decoded.failures == 0 and same_candidates(
        decoded.candidates, clean.candidates, materialize
    )


# ---------------------------------------------------------------- rules


ROBUST_F = 1  # declared f for every robust rule below; the mean declares none


def build_rule(name: str) -> Any:
    """The rule alone (pre-aggregator settings dropped), robust rules declaring f=1."""
    node = OmegaConf.structured(option_schema("aggregator", name))
    if name != "mean":
        node.f = ROBUST_F
    return make("aggregator", node)


@pytest.mark.parametrize("name", sorted(SCHEMAS["aggregator"]))
@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    values=st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=D),
)
def test_rules_within_their_declared_f_stay_finite(
    name: str, seed: int, values: list[float]
) -> None:
    rule = build_rule(name)
    f = int(getattr(rule, "f", 0))
    k = 4 * f + 5
    x = torch.randn(k, D, generator=torch.Generator().manual_seed(seed))
    rows = np.random.default_rng(seed).choice(k, size=f, replace=False)
    for r in rows:
        x[r] = hostile_vector(values, x.dtype)
    out = rule(x)
    assert out.shape == (D,) and bool(torch.isfinite(out).all())


@pytest.mark.parametrize("name", sorted(SCHEMAS["aggregator"]))
@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    k=st.integers(1, 12),
    values=st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3 * D),
)
def test_rules_on_any_hostile_input_answer_or_refuse_clearly(
    name: str, k: int, values: list[float]
) -> None:
    """Outside the bound a rule may return anything of the right shape, or raise a ValueError."""
    rule = build_rule(name)
    x = torch.tensor((values * (k * D))[: k * D], dtype=torch.float32).reshape(k, D)
    try:
        out = rule(x)
    except ValueError:
        return
    assert isinstance(out, torch.Tensor) and out.shape == (D,) and out.dtype == x.dtype


# ---------------------------------------------------------------- whole runs

REP9 = ["code=repetition", "code.r=3", "cluster.workers=9", "train.iterations=6"]


def attacker(kind: str) -> list[str]:
    return ["adversary=reverse", f"adversary._target_=tests.hostile.{kind}"]


@pytest.fixture(scope="module")
def clean_digest(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("clean")
    return str(simulate(make_cfg(*REP9, "adversary=none"), out)["model_digest"])


@pytest.mark.parametrize("kind", [*NON_FINITE, *MALFORMED, "Silent"])
def test_repetition_within_bound_trains_the_adversary_free_model(
    run: Run, clean_digest: str, kind: str
) -> None:
    s = run(*REP9, *attacker(kind), "adversary.count=1", "adversary.placement=random")
    assert s["status"] == "completed" and s["model_digest"] == clean_digest
    assert s["corrupted_updates"] == 0 and s["decode_failures"] == 0
    assert s["rejected_messages"] == (6 if kind in MALFORMED else 0)


def test_nan_outside_the_bound_stops_the_run_as_diverged(run: Run) -> None:
    s = run("code=none", *attacker("NaNs"), "adversary.count=1")
    assert s["status"] == "diverged" and s["iterations"] == 1
    assert s["final_loss"] is None  # non-finite is written as null, never as a number
    with open(s["_dir"] / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and rows[0]["corrupted_updates"] == "1" and rows[0]["accuracy"] != ""


def test_malformed_messages_outside_any_code_are_counted_and_dropped(run: Run) -> None:
    s = run("code=none", *attacker("WrongShape"), "adversary.count=2", "train.iterations=5")
    assert s["status"] == "completed" and s["rejected_messages"] == 10
    with open(s["_dir"] / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["rejected"] for r in rows} == {"2"} and {r["received"] for r in rows} == {"13"}
