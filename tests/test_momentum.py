"""Momentum and weight decay at the PS; momentum at the workers, under DRACO."""

from __future__ import annotations

import pytest
import torch

from sim.training.optimizer import Momenta, ServerSGD
from tests.conftest import Run


@pytest.mark.parametrize("momentum,decay", [(0.9, 0.0), (0.9, 5e-4), (0.0, 1e-2), (0.5, 1e-3)])
def test_ps_momentum_is_torch_sgd_on_the_same_gradients(momentum: float, decay: float) -> None:
    gen = torch.Generator().manual_seed(0)
    theta = torch.randn(50, generator=gen)
    param = torch.nn.Parameter(theta.clone())
    torch_sgd = torch.optim.SGD([param], lr=0.1, momentum=momentum, weight_decay=decay)
    ours = ServerSGD(0.1, momentum, decay)
    for _ in range(6):
        g = torch.randn(50, generator=gen)
        param.grad = g.clone()
        torch_sgd.step()
        ours.step(theta, g)
        assert torch.equal(theta, param.detach())


def test_worker_momentum_starts_at_zero_and_mixes_in_each_gradient() -> None:
    m = Momenta(0.9, torch.device("cpu"))
    g1, g2 = torch.tensor([1.0, 2.0]), torch.tensor([3.0, -1.0])
    assert torch.allclose(m.update("w", g1), 0.1 * g1)
    assert torch.allclose(m.update("w", g2), 0.9 * 0.1 * g1 + 0.1 * g2)
    assert torch.allclose(m.update("v", g2), 0.1 * g2)  # every key its own


DRACO = ["code=repetition", "code.r=3", "cluster.workers=9", "train.iterations=4"]


@pytest.mark.parametrize("attack", ["reverse", "label_flip"])
def test_draco_under_attack_keeps_the_adversary_free_model_with_worker_momentum(
    run: Run, attack: str
) -> None:
    """Must show 4: the members of a group hold identical momenta, so the vote still
    removes the liar exactly and the model is the one trained with no adversary."""
    attacked = run(*DRACO, "train.worker_momentum=0.9", f"adversary={attack}")
    free = run(*DRACO, "train.worker_momentum=0.9", "adversary=none")
    plain = run(*DRACO, "adversary=none")
    assert attacked["corrupted_updates"] == 0 and attacked["iterations_with_adversaries"] == 4
    assert attacked["model_digest"] == free["model_digest"] != plain["model_digest"]


@pytest.mark.parametrize(
    "case",
    [
        [*DRACO, "adversary=reverse"],
        ["code=none", "aggregator=median", "cluster.workers=5", "adversary=label_flip",
         "train.iterations=4"],
        ["code=cyclic", "code.s=1", "cluster.workers=5", "adversary=reverse",
         "train.iterations=4"],
    ],
    ids=["repetition", "median-label-flip", "cyclic"],
)  # fmt: skip
def test_part_momenta_equal_each_worker_keeping_its_own(run: Run, case: list[str]) -> None:
    """The fast path (one momentum per part, messages symbolic over them) against the
    naive simulator in which every worker computes and keeps its own momentum."""
    common = [*case, "train.worker_momentum=0.8", "train.momentum=0.5", "model.hidden=[16]"]
    fast = run(*common)
    naive = run(*common, "train.oracle=reference")
    assert fast["final_loss"] == pytest.approx(naive["final_loss"], rel=1e-5)
    assert fast["final_train_loss"] == pytest.approx(naive["final_train_loss"], rel=1e-5)


def test_ps_momentum_and_weight_decay_change_the_run_and_stay_deterministic(run: Run) -> None:
    small = ["code=none", "cluster.workers=3", "adversary=none", "train.iterations=3"]
    plain = run(*small)
    heavy = run(*small, "train.momentum=0.9", "train.weight_decay=1e-3")
    again = run(*small, "train.momentum=0.9", "train.weight_decay=1e-3")
    assert heavy["model_digest"] == again["model_digest"] != plain["model_digest"]
