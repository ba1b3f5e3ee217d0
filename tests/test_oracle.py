"""The fast gradient oracle against straightforward autograd, and against a naive run."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from sim.training.models import MLP
from sim.training.oracle import GradientOracle
from tests.conftest import Run


def _pair(model: nn.Module, parts: int = 6, m: int = 8) -> tuple[GradientOracle, GradientOracle]:
    """(fast oracle, reference oracle) on identical copies of ``model`` and one batch."""
    gen = torch.Generator().manual_seed(1)
    fast = GradientOracle(model, batched=False)
    ref = GradientOracle(copy.deepcopy(model), batched=False, reference=True)
    x = torch.randn(parts, m, 20, generator=gen)
    y = torch.randint(0, 5, (parts, m), generator=gen)
    for o in (fast, ref):
        o.start(x, y)
    return fast, ref


def _close(a: torch.Tensor, b: torch.Tensor, rel: float = 1e-5) -> bool:
    return bool((a - b).abs().max() <= rel * b.abs().max())


def _mlp() -> MLP:
    torch.manual_seed(0)
    return MLP(20, 5, [16, 12])


class Residual(nn.Module):
    """Not a plain stack of linear layers: sums and single parts by autograd, every part
    at once by per-layer products (:mod:`sim.training.partgrads`)."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(20, 20), nn.Linear(20, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(x + torch.tanh(self.a(x)))


def test_mlp_uses_the_one_backward_path_and_the_reference_does_not() -> None:
    fast, ref = _pair(_mlp())
    assert fast.slots is not None and ref.slots is None
    assert GradientOracle(Residual(), batched=False).slots is None


@pytest.mark.parametrize("model", [_mlp, Residual], ids=["mlp", "fallback"])
def test_parts_sums_and_loss_match_plain_autograd(model: type[nn.Module]) -> None:
    fast, ref = _pair(model())
    gen = torch.Generator().manual_seed(2)
    for p in range(fast.parts):
        assert _close(fast.part(p), ref.part(p))
    c = torch.randn(fast.parts, dtype=torch.float64, generator=gen)
    assert _close(fast.combine(c), ref.combine(c))
    z = torch.randn(fast.parts, dtype=torch.complex128, generator=gen)
    assert _close(fast.combine(z), ref.combine(z))
    assert _close(fast.all_parts(), torch.stack([ref.part(p) for p in range(fast.parts)]))
    # the batch loss is the mean over parts of each part's mean loss
    plain = F.cross_entropy(ref.model(fast.x.reshape(-1, 20)), fast.y.reshape(-1))
    assert fast.loss() == pytest.approx(float(plain.detach()), rel=1e-6)


def test_one_backward_gives_every_part_of_the_sum() -> None:
    fast, _ = _pair(_mlp())
    ones = torch.ones(fast.parts, dtype=torch.float64)
    assert _close(fast.combine(ones), fast.all_parts().sum(0))
    assert _close(fast.materialize(fast.all_parts()[3]), fast.part(3))


@pytest.mark.parametrize("model", [_mlp, Residual], ids=["mlp", "fallback"])
@pytest.mark.parametrize("mode", ["fast", "batched", "reference"])
def test_project_is_all_parts_times_f(model: type[nn.Module], mode: str) -> None:
    fast, ref = _pair(model())
    oracle = {"fast": fast, "reference": ref}.get(mode) or GradientOracle(
        copy.deepcopy(fast.model), batched=True
    )
    oracle.start(fast.x, fast.y)
    f = torch.randn(fast.d, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    expected = ref.all_parts().double() @ f
    got = oracle.project(f)
    assert got.shape == (fast.parts,) and got.dtype == torch.float64
    assert _close(got, expected, rel=1e-5)
    f32 = f.float()
    assert oracle.project(f32).dtype == torch.float32


def test_batched_all_parts_is_one_buffer_and_the_rule_sees_it_without_a_copy() -> None:
    oracle = GradientOracle(_mlp(), batched=True)
    fast, _ = _pair(_mlp())
    oracle.start(fast.x, fast.y)
    from sim.messages import one_hot

    rows = oracle.stack([one_hot(p, oracle.parts) for p in range(oracle.parts)])
    assert rows.data_ptr() == oracle.all_parts().data_ptr()
    swapped = [one_hot(p, oracle.parts) for p in reversed(range(oracle.parts))]
    assert torch.equal(oracle.stack(swapped), oracle.all_parts().flip(0))


# ------------------------------------------------------------------ whole runs

SHORT = ["train.iterations=20", "train.eval_every=5"]


@pytest.mark.parametrize(
    "setting",
    [
        ["code=none", "cluster.workers=6", "adversary=none"],
        ["code=repetition", "code.r=3", "cluster.workers=9", "adversary=reverse"],
    ],
    ids=["none", "repetition"],
)
def test_fast_path_agrees_with_the_naive_per_worker_loop(run: Run, setting: list[str]) -> None:
    fast = run(*SHORT, *setting)
    naive = run(*SHORT, *setting, "train.oracle=reference")
    batched = run(*SHORT, *setting, "train.oracle=batched")
    for other in (naive, batched):
        assert other["iterations"] == fast["iterations"] == 20
        for key in ("final_loss", "final_train_loss"):
            assert other[key] == pytest.approx(fast[key], rel=1e-5)
        assert other["corrupted_updates"] == fast["corrupted_updates"] == 0
    assert fast["final_loss"] < 2.0  # it learned something: the comparison is not vacuous


def test_two_fast_runs_are_bit_identical(run: Run) -> None:
    a = run(*SHORT, "code=repetition", "cluster.workers=9")
    b = run(*SHORT, "code=repetition", "cluster.workers=9")
    assert a["model_digest"] == b["model_digest"]
    assert (a["_dir"] / "metrics.csv").read_bytes() == (b["_dir"] / "metrics.csv").read_bytes()
