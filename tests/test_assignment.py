"""The assignment code: its schemes, its vote per part, bundles, and frc = repetition."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from sim.admission import admit_bundle
from sim.adversaries.bundles import flat_layout, pack, unpack
from sim.adversaries.rule_input import candidate_index
from sim.build import build
from sim.codes.assignment import AssignmentCode, Scheme
from sim.codes.distortion import distorted, epsilon, majorities
from sim.codes.repetition import RepetitionCode
from sim.messages import PartSum
from tests.conftest import make_cfg, simulate


def part_gradients(parts: int, d: int = 6) -> torch.Tensor:
    return torch.randn(parts, d, generator=torch.Generator().manual_seed(parts))


def materializer(g: torch.Tensor):  # type: ignore[no-untyped-def]
    def materialize(m: torch.Tensor | PartSum) -> torch.Tensor:
        return m if isinstance(m, torch.Tensor) else m.coeffs.float() @ g

    return materialize


def code(scheme: Scheme, n: int, r: int, l: int | None = None, seed: int = 0) -> AssignmentCode:  # noqa: E741
    assert AssignmentCode.problems(n=n, scheme=scheme, r=r, l=l, tolerance=0.0) == []
    return AssignmentCode(n, torch.Generator().manual_seed(seed), scheme, r, l)


SIZES = [
    (Scheme.frc, 15, 3, None, 5, 1),  # scheme, n, r, l, then: parts, parts per worker
    (Scheme.mols, 15, 3, None, 25, 5),
    (Scheme.mols, 35, 5, None, 49, 7),
    (Scheme.ramanujan, 15, 3, None, 25, 5),  # case 1: n = r s, s = 5
    (Scheme.ramanujan, 25, 5, None, 25, 5),  # case 2: n = r^2, l = r
    (Scheme.ramanujan, 25, 5, 10, 50, 10),  # case 2 with l = 2 r
    (Scheme.random, 15, 3, None, 15, 3),
    (Scheme.random, 15, 3, 5, 25, 5),
]


@pytest.mark.parametrize(("scheme", "n", "r", "l", "parts", "per_worker"), SIZES)
def test_every_scheme_is_biregular(
    scheme: Scheme,
    n: int,
    r: int,
    l: int | None,  # noqa: E741
    parts: int,
    per_worker: int,
) -> None:
    c = code(scheme, n, r, l)
    assert (c.parts, c.l) == (parts, per_worker)
    assert all(len(set(h)) == len(h) == per_worker for h in c.held)
    assert all(len(ws) == r for ws in c.holders)
    assert all(c.load(w) == r for w in range(n))  # l parts of n/P shares each
    assert c.message_bytes(10) == 40 * per_worker


def test_mols_workers_of_different_squares_share_exactly_one_part() -> None:
    c = code(Scheme.mols, 15, 3)
    for a, b in itertools.combinations(range(15), 2):
        shared = len(set(c.held[a]) & set(c.held[b]))
        assert shared == (0 if a // 5 == b // 5 else 1)


@pytest.mark.parametrize(
    ("n", "r", "l"), [(15, 3, None), (35, 5, None), (25, 5, None), (25, 5, 10)]
)
def test_ramanujan_assignments_are_ramanujan_bigraphs(n: int, r: int, l: int | None) -> None:  # noqa: E741
    c = code(Scheme.ramanujan, n, r, l)
    b = np.zeros((n, c.parts))
    for w, held in enumerate(c.held):
        b[w, held] = 1.0
    sigma = np.linalg.svd(b, compute_uv=False)
    assert sigma[0] == pytest.approx(np.sqrt(c.l * r))  # biregular: sqrt(dL dR)
    assert sigma[1] <= np.sqrt(c.l - 1) + np.sqrt(r - 1) + 1e-9  # the Ramanujan bound


def test_random_assignments_come_from_the_stream() -> None:
    a, b, c = (code(Scheme.random, 15, 3, 5, seed=s).held for s in (1, 1, 2))
    assert a == b and a != c


@pytest.mark.parametrize(
    ("scheme", "n", "r", "l", "key"),
    [
        (Scheme.frc, 10, 3, None, "r=3: scheme=frc"),
        (Scheme.frc, 9, 3, 2, "l=2"),
        (Scheme.mols, 16, 4, None, "r=4: scheme=mols"),  # l = 4 is not prime
        (Scheme.mols, 25, 5, None, "r=5: scheme=mols"),  # r > l - 1
        (Scheme.mols, 15, 3, 4, "l=4"),
        (Scheme.ramanujan, 21, 3, None, "r=3: scheme=ramanujan"),  # 7 is prime: fine
        (Scheme.ramanujan, 24, 3, None, "r=3: scheme=ramanujan"),  # 8 is not
        (Scheme.ramanujan, 25, 5, 3, "l=3"),
        (Scheme.random, 10, 3, None, "l=3: scheme=random"),  # 30 % 3 == 0: fine
        (Scheme.random, 10, 3, 2, "l=2: scheme=random"),  # 20 % 3 != 0
        (Scheme.random, 3, 4, None, "r=4: scheme=random"),
    ],
)
def test_impossible_assignments_name_the_parameter(
    scheme: Scheme,
    n: int,
    r: int,
    l: int | None,  # noqa: E741
    key: str,
) -> None:
    found = AssignmentCode.problems(n=n, scheme=scheme, r=r, l=l, tolerance=0.0)
    valid = (scheme, n) in {(Scheme.ramanujan, 21), (Scheme.random, 10)} and l is None
    assert (found == []) if valid else (len(found) == 1 and found[0].startswith(key))


def test_frc_matches_the_repetition_code_on_random_votes() -> None:
    rng = np.random.default_rng(0)
    g = part_gradients(4)
    materialize = materializer(g)
    frc, rep = code(Scheme.frc, 12, 3), RepetitionCode(12, r=3)
    assert frc.groups() == rep.groups() and frc.parts == rep.parts
    assert frc.load(5) == rep.load(5) and frc.message_bytes(7) == rep.message_bytes(7)
    honest = frc.honest_messages()
    pairs = zip(honest, rep.honest_messages(), strict=True)
    assert all(torch.equal(a.coeffs, b.coeffs) for a, b in pairs)  # type: ignore[union-attr]
    for _ in range(50):
        received: dict[int, torch.Tensor | PartSum] = {}
        lie = torch.full((6,), float(rng.integers(3)))
        for w in range(12):
            kind = rng.integers(4)  # honest, absent, a shared lie, a lie of its own
            if kind != 1:
                received[w] = honest[w] if kind == 0 else (lie if kind == 2 else -g[0] * w)
        a, b = frc.decode(received, materialize), rep.decode(received, materialize)
        assert (a.failures, a.suspects, a.backers) == (b.failures, b.suspects, b.backers)
        assert all(x is y for x, y in zip(a.candidates, b.candidates, strict=True))
        assert frc.decodable(received, materialize) == rep.decodable(received, materialize)
        assert frc.decode_ops(len(received), 6) == rep.decode_ops(len(received), 6)


def test_bundles_vote_per_part_and_count_distorted_parts() -> None:
    c = code(Scheme.mols, 15, 3)
    g = part_gradients(c.parts)
    materialize = materializer(g)
    honest = c.honest_messages()
    assert all(isinstance(m, tuple) and len(m) == 5 for m in honest)
    liars = [0, 5, 10]  # one worker per square; all three hold part 0, pairs share only it
    assert majorities(c.holders, liars) == 1
    rows, sizes = unpack([honest[w] for w in liars], materialize)  # (15, d): a row per part
    assert rows.shape == (15, 6) and sizes == [5, 5, 5]
    forged = pack([-100 * torch.ones(6)] * len(rows), sizes)  # collusion on every part
    received = dict(enumerate(honest)) | dict(zip(liars, forged, strict=True))
    out = c.decode(received, materialize)
    assert out.failures == 0 and out.suspects == set(liars)
    assert torch.equal(out.candidates[0], -100 * torch.ones(6))  # part 0: theirs
    assert all(isinstance(m, PartSum) for m in out.candidates[1:])  # the rest: honest
    assert out.backers[0] == liars and distorted(out.backers, liars) == 1
    assert epsilon([1, 0, 2], c.parts) == pytest.approx(3 / 75)
    assert c.decodable(received, materialize)  # every part has r/2+ agreeing copies
    erased = received | {3: (None,) * 5}  # worker 3 sends no copy at all
    # it shares one part with liar 5 and one with liar 10: one honest copy against one lie
    assert c.decode(erased, materialize).failures == 2
    assert not c.decodable(erased, materialize)


def test_the_rule_input_of_a_bundle_code_is_one_row_per_part() -> None:
    c = code(Scheme.mols, 15, 3)
    sizes = [5] * 15
    layout = flat_layout(15, [0, 5], [0, 5, 10], c.groups(), sizes)
    assert layout.n == 75 and layout.own == (*range(0, 5), *range(25, 30))
    index = candidate_index(layout)
    lie = 75 - 15  # after the honest rows
    # part 0 is held by 0, 5 and 10: two of them are this strategy's -> its lie
    assert index[0] == lie and lie not in index[1:]
    assert len(index) == 25  # no other part lost its honest majority


def test_bundles_are_admitted_whole_or_not_at_all() -> None:
    ok = (torch.zeros(4), None, torch.ones(4))
    dev = torch.device("cpu")
    assert admit_bundle(ok, 3, 4, torch.float32, 9, dev) is not None
    assert admit_bundle(ok, 2, 4, torch.float32, 9, dev) is None  # wrong size
    assert admit_bundle((torch.zeros(5), None, None), 3, 4, torch.float32, 9, dev) is None
    assert admit_bundle(torch.zeros(4), 3, 4, torch.float32, 9, dev) is None


def _digest(tmp_path: Path, name: str, *overrides: str) -> str:
    cfg = make_cfg("cluster.workers=9", "code.r=3", "aggregator=median",
                   "train.iterations=6", *overrides)  # fmt: skip
    digest = simulate(cfg, tmp_path / name)["model_digest"]
    assert isinstance(digest, str)
    return digest


@pytest.mark.parametrize(
    "attack",
    [
        ["adversary=none"],
        ["adversary=collude", "adversary.count=2", "adversary.placement=worst_case"],
        ["adversary=alie", "adversary.count=3", "adversary.placement=random"],
    ],
    ids=["none", "collude", "alie"],
)
def test_frc_trains_the_same_model_as_the_repetition_code(
    tmp_path: Path, attack: list[str]
) -> None:
    rep = _digest(tmp_path, "rep", "code=repetition", *attack)
    assert _digest(tmp_path, "frc", "code=assignment", "code.scheme=frc", *attack) == rep


def test_the_built_world_sends_l_vectors_and_computes_l_parts_per_worker() -> None:
    """Through config and build: a MOLS worker (l = 5 parts) sends 5 times the bytes of a
    repetition worker and computes the same r uncoded shares."""
    worlds = {
        s: build(make_cfg("code=assignment", f"code.scheme={s}", "cluster.workers=15",
                          "code.r=3", "workload=timing_only", "train.iterations=2"))
        for s in ("frc", "mols")
    }  # fmt: skip
    frc, mols = worlds["frc"].math, worlds["mols"].math
    assert mols.message_bytes() == 5 * frc.message_bytes()
    assert [mols.load(w) for w in range(15)] == [frc.load(w) for w in range(15)] == [3] * 15


def test_the_reference_oracle_computes_every_part_of_a_bundle() -> None:
    """train.oracle=reference: each worker computes each of its parts itself, so a bundle
    holds tensors, not symbolic part sums."""
    world = build(make_cfg("code=assignment", "code.scheme=mols", "cluster.workers=15",
                           "code.r=3", "train.oracle=reference", "train.iterations=1"))  # fmt: skip
    sent = world.math.prepare(0)  # type: ignore[union-attr]
    assert all(isinstance(b, tuple) and len(b) == 5 for b in sent)
    assert all(isinstance(m, torch.Tensor) for b in sent for m in b)  # type: ignore[union-attr]
