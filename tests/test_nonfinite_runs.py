"""Issue 10 must-show 2: DRACO within its bound shrugs off NaN and Inf senders.

Whole runs through the shipped configs (the same composition as ``python -m sim``). The
strategies are called ``nans``/``infs`` because Hydra reads a bare ``nan``/``inf`` as a
number (``adversary=nan`` gets a did-you-mean line, see docs/bad_inputs.md).
"""

from __future__ import annotations

import math

import pytest

from tests.conftest import Run

SHORT = ["train.iterations=8", "latency=constant"]
REP9 = [*SHORT, "code=repetition", "code.r=3", "cluster.workers=9"]
CYC7 = [*SHORT, "code=cyclic", "code.s=1", "cluster.workers=7"]


@pytest.mark.parametrize("strategy", ["nans", "infs"])
def test_repetition_trains_the_adversary_free_model(run_once: Run, strategy: str) -> None:
    clean = run_once(*REP9, "adversary=none")
    hit = run_once(*REP9, f"adversary={strategy}", "adversary.count=1")
    assert hit["status"] == "completed" and math.isfinite(hit["final_loss"])
    assert hit["corrupted_updates"] == 0 and hit["decode_failures"] == 0
    assert hit["model_digest"] == clean["model_digest"]


@pytest.mark.parametrize("strategy", ["nans", "infs"])
def test_cyclic_within_its_bound_reaches_the_adversary_free_loss(
    run_once: Run, strategy: str
) -> None:
    clean = run_once(*CYC7, "adversary=none")
    hit = run_once(*CYC7, f"adversary={strategy}", "adversary.count=1")
    assert hit["status"] == "completed"
    assert hit["corrupted_updates"] == 0 and hit["decode_failures"] == 0
    assert abs(hit["final_loss"] - clean["final_loss"]) <= 1e-5 * abs(clean["final_loss"])


def test_the_same_liar_without_a_code_does_break_training(run_once: Run) -> None:
    """The control: with the plain mean one NaN sender poisons the model."""
    hit = run_once(*SHORT, "code=none", "cluster.workers=9", "adversary=nans", "adversary.count=1")
    assert hit["corrupted_updates"] > 0 and hit["status"] == "diverged"
