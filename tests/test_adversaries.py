"""Adversaries inside a run: erasures, timing, schedules, knowledge, mixes, honest streams."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.nn import functional as F

from sim.build import build
from sim.config.errors import ConfigError
from sim.messages import PartSum
from tests.conftest import Run, make_cfg

N9 = ["cluster.workers=9", "train.iterations=4"]


def rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    with open(Path(summary["_dir"]) / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_a_crash_is_an_erasure_not_a_zero_vector(run: Run) -> None:
    s = run(*N9, "code=none", "adversary=crash", "adversary.ids=[4]", "adversary.start=2")
    assert [r["received"] for r in rows(s)] == ["9", "9", "8", "8"]
    assert [r["adversary_ranks"] for r in rows(s)] == ["", "", "4", "4"]
    learning = build(make_cfg(*N9, "code=none", "adversary=crash", "adversary.ids=[4]")).math
    sent = learning.prepare(0)
    assert sent[4] is None and all(isinstance(m, PartSum) for i, m in enumerate(sent) if i != 4)
    rep = ["code=repetition", "code.r=3", "adversary.ids=[4]"]
    assert (
        run(*N9, *rep, "adversary=crash")["model_digest"]
        == run(*N9, *rep, "adversary=none")["model_digest"]
    )


def test_delay_costs_time_under_wait_all_and_is_dropped_by_first_k(run: Run) -> None:
    base = ["code=none", "latency=constant", "latency.seconds=0.05", "adversary.ids=[2]"]
    clean = rows(run(*N9, *base, "adversary=none"))
    late = rows(run(*N9, *base, "adversary=delay", "adversary.seconds=1.5"))
    first_k = rows(
        run(*N9, *base, "adversary=delay", "adversary.seconds=1.5", "ps.wait=first_k", "ps.k=8")
    )
    for c, slow, fast in zip(clean, late, first_k, strict=True):
        assert float(slow["iteration_time_s"]) == pytest.approx(
            float(c["iteration_time_s"]) + 1.5, abs=1e-3
        )
        assert slow["received"] == "9" and fast["received"] == "8"
        assert float(fast["iteration_time_s"]) < float(c["iteration_time_s"]) + 0.01
        assert slow["corrupted_updates"] == "0"  # content is honest


def test_schedule_and_effective_parameters_are_recorded(run: Run) -> None:
    s = run(
        *N9,
        "code=none",
        "adversary=alie",
        "adversary.count=3",
        "adversary.start=1",
        "adversary.stop=3",
    )
    got = rows(s)
    assert [r["adversaries"] for r in got] == ["0", "3", "3", "0"]
    assert got[0]["attack"] == "" and got[3]["attack"] == ""
    z = got[1]["attack"]
    assert z.startswith("alie(ranks=" + got[1]["adversary_ranks"])
    assert "z=0.76471 n=9 f=3" in z  # s = 9//2 + 1 - 3 = 2, z = Phi^-1(7/9)


def test_probabilistic_schedule_is_reproducible_and_partial(run: Run) -> None:
    args = [
        *N9,
        "train.iterations=8",
        "code=none",
        "adversary=sign_flip",
        "adversary.probability=0.5",
    ]
    a, b = rows(run(*args)), rows(run(*args))
    active = [r["adversaries"] for r in a]
    assert active == [r["adversaries"] for r in b] and set(active) == {"0", "1"}


def test_knowledge_none_refuses_what_needs_honest_messages() -> None:
    with pytest.raises(ConfigError, match="adversary=mimic .* adversary.knowledge=omniscient"):
        build(make_cfg(*N9, "adversary=mimic", "adversary.knowledge=none"))
    with pytest.raises(ConfigError, match="adversary.count > adversary.ddof=1"):
        build(make_cfg(*N9, "adversary=alie", "adversary.count=1", "adversary.knowledge=none"))
    build(make_cfg(*N9, "adversary=ipm", "adversary.knowledge=none"))  # degrades: its own mean


def test_mixed_population_runs_disjoint_groups(run: Run) -> None:
    groups = "adversary.groups=[{name: ipm, count: 2, placement: random}, {name: crash, ids: [8]}]"
    got = rows(run(*N9, "code=none", "adversary=mixed", groups))
    for r in got:
        ranks = r["adversary_ranks"].split(";")
        assert len(ranks) == 3 and "8" in ranks and r["received"] == "8"
        assert (
            r["attack"].startswith("crash(ranks=8) + ipm(ranks=") and "epsilon=0.1" in r["attack"]
        )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "adversary.groups=[{name: ipm, epsilonn: 2}]",
            r"adversary.groups\[0\] \(ipm\): .*epsilonn",
        ),
        (
            "adversary.groups=[{name: bogus}]",
            r"adversary.groups\[0\].name=bogus is not an adversary",
        ),
        ("adversary.count=2", "adversary=mixed: set count inside each of adversary.groups"),
        ("adversary.groups=[{name: ipm, count: 6}, {name: crash, count: 4}]", "10 adversaries"),
    ],
)
def test_mixed_population_errors_name_the_key(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build(make_cfg(*N9, "adversary=mixed", override))


def test_adding_an_adversary_leaves_honest_computations_unchanged() -> None:
    common = [*N9, "code=none", "aggregator=mean"]
    clean = build(make_cfg(*common, "adversary=none")).math
    attacked = build(
        make_cfg(*common, "adversary=gaussian", "adversary.count=3", "adversary.placement=random")
    ).math
    for it in range(3):
        sent_clean, sent_attacked = clean.prepare(it), attacked.prepare(it)
        assert torch.equal(clean.oracle.x, attacked.oracle.x)  # same data stream
        assert torch.equal(clean.oracle.y, attacked.oracle.y)
        assert torch.equal(clean.oracle.theta, attacked.oracle.theta)
        honest = [i for i in range(9) if i not in attacked.ranks]
        for i in honest:
            a, b = (
                clean.oracle.materialize(sent_clean[i]),
                attacked.oracle.materialize(sent_attacked[i]),
            )  # type: ignore[arg-type]
            assert torch.equal(a, b)
        # no update applied: the next iteration starts from the same model in both


def test_label_flip_message_is_the_gradient_on_flipped_labels() -> None:
    learning = build(make_cfg(*N9, "code=none", "adversary=label_flip", "adversary.ids=[3]")).math
    sent = learning.prepare(0)
    oracle, classes = learning.oracle, learning.data.classes
    x, y = oracle.x[3], classes - 1 - oracle.y[3]
    loss = F.cross_entropy(oracle.model(x), y)
    expect = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, oracle.params)])
    assert isinstance(sent[3], torch.Tensor) and torch.allclose(sent[3], expect, atol=1e-6)
    assert not torch.allclose(sent[3], oracle.part(3))
    assert learning.adversary.description == "label_flip(ranks=3)"
