"""The image models, and every part's gradient of any model by per-layer products."""

from __future__ import annotations

import copy
import json
import logging
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from sim.timing import tensor_sizes
from sim.training import partgrads
from sim.training.models import MLP, CNNCifar, LeNet
from sim.training.oracle import GradientOracle
from sim.training.resnet import ResNet18
from tests.conftest import Run, problems


def test_parameter_counts_are_the_published_ones() -> None:
    assert sum(tensor_sizes(lambda: ResNet18((3, 32, 32), 10))) == 11_173_962
    assert sum(tensor_sizes(lambda: LeNet((1, 28, 28), 10))) == 431_080
    assert sum(tensor_sizes(lambda: CNNCifar((3, 32, 32), 10))) == 356_810


def test_resnet18_is_the_cifar_variant_with_group_norm() -> None:
    with torch.device("meta"):
        net = ResNet18((3, 32, 32), 10)
    stem = net.stem[0]
    assert isinstance(stem, nn.Conv2d) and stem.kernel_size == (3, 3) and stem.stride == (1, 1)
    kinds = {type(m) for m in net.modules()}
    assert nn.MaxPool2d not in kinds and nn.GroupNorm in kinds
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    assert not list(net.buffers())  # no running statistics to keep in sync


def test_an_image_model_on_vectors_is_refused_before_the_run(run: Run) -> None:
    with pytest.raises(Exception, match=r"model=lenet needs image data.*\(40,\)"):
        run("model=lenet", "data=mnist1d")
    assert problems("model=resnet18", "model.groups=5") == [
        "model.groups=5 must divide 64, the narrowest layer's channels (e.g. 32)"
    ]


class Scaled(nn.Module):
    """A layer type with no per-sample rule: the oracle uses vmap(grad), and says so."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.scale = nn.Linear(12, 5), nn.Parameter(torch.linspace(0.5, 1.5, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) * self.scale


class Wired(nn.Module):
    """A residual block with layer norm, and in-place ReLUs on recorded outputs (a first
    layer's and a norm's)."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.norm, self.b = nn.Linear(12, 12), nn.LayerNorm(12), nn.Linear(12, 5)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(x + self.relu(self.norm(self.relu(self.a(x)))))


CASES = {
    "lenet": (lambda: LeNet((1, 16, 16), 10), (1, 16, 16)),
    "cnn_cifar": (lambda: CNNCifar((3, 8, 8), 10), (3, 8, 8)),
    "resnet18": (lambda: ResNet18((3, 8, 8), 10, groups=8), (3, 8, 8)),
    "wired": (Wired, (12,)),
    "strided": (  # both convolution routes: narrow patches, a grouped wide one
        lambda: nn.Sequential(
            nn.Conv2d(2, 4, 3, stride=2, padding=2, dilation=2),
            nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2, bias=False),
            nn.Flatten(),
            nn.Linear(100, 5),
        ),
        (2, 9, 9),
    ),
    "fallback": (Scaled, (12,)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_part_gradient_matches_its_own_backward(name: str) -> None:
    make, shape = CASES[name]
    torch.manual_seed(0)
    model = make()
    fast = GradientOracle(model, batched=True)
    ref = GradientOracle(copy.deepcopy(model), batched=False, reference=True)
    parts, m = (2, 2) if name == "resnet18" else (3, 4)
    x = torch.randn(parts, m, *shape, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 5, (parts, m), generator=torch.Generator().manual_seed(2))
    for o in (fast, ref):
        o.start(x, y)
    assert (fast.engine is None) == (name == "fallback")
    got, want = fast.all_parts(), torch.stack([ref.part(p) for p in range(parts)])
    assert float((got - want).abs().max()) <= 1e-5 * float(want.abs().max())
    assert fast.loss() == pytest.approx(ref.loss(), rel=1e-6)


def test_blocks_stay_within_the_budget_and_cover_every_sample() -> None:
    seen = []
    for p0, p1, a, b in partgrads.blocks(parts=5, m=8, per_sample=10, per_part=4, budget=35):
        assert (p1 - p0) * ((b - a) * 10 + 4) <= 35 or (b - a) == 1
        seen += [(p, s) for p in range(p0, p1) for s in range(a, b)]
    assert sorted(seen) == [(p, s) for p in range(5) for s in range(8)]
    whole = list(partgrads.blocks(parts=5, m=8, per_sample=1, per_part=0, budget=16))
    assert whole == [(0, 2, 0, 8), (2, 4, 0, 8), (4, 5, 0, 8)]


def test_a_model_the_products_cannot_follow_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="sim.training.oracle"):
        GradientOracle(Scaled(), batched=True)
        GradientOracle(MLP(12, 5), batched=True)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["every part's gradient by vmap(grad), slower: the model: Scaled (no "
                     "per-sample rule for this layer type)"]  # fmt: skip


@pytest.mark.parametrize(
    "model,data",
    [
        ("lenet", ["data=mnist_synthetic", "data.samples=200", "train.iterations=2"]),
        ("cnn_cifar", ["data=cifar10_synthetic", "data.samples=200", "train.iterations=2"]),
        pytest.param(
            "resnet18",
            ["data=cifar10_synthetic", "data.samples=20", "train.iterations=1"],
            marks=pytest.mark.slow,  # the default tier checks its part gradients above
        ),
    ],
)
def test_draco_under_a_reverse_adversary_keeps_the_adversary_free_model(
    run: Run, model: str, data: list[str]
) -> None:
    """Must show 2, small: a CNN under DRACO r=3 with one liar trains exactly the model
    trained with no liar (ResNet-18 small and at full size: the slow tier)."""
    small = [f"model={model}", *data, "code=repetition", "code.r=3", "cluster.workers=9"]
    small += ["train.batch_size=6"]
    attacked = run(*small, "adversary=reverse", "adversary.count=1")
    free = run(*small, "adversary=none")
    assert attacked["corrupted_updates"] == 0
    assert attacked["iterations_with_adversaries"] == attacked["iterations"] > 0
    assert attacked["model_digest"] == free["model_digest"]


def test_an_mlp_takes_image_data_flattened(run: Run) -> None:
    mlp = run(
        "model=mlp",
        "data=mnist_synthetic",
        "data.samples=200",
        "train.batch_size=30",
        "train.iterations=2",
    )
    assert mlp["parameters"] == 784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
    assert mlp["status"] == "completed"


def test_a_timing_only_run_sizes_resnet18_without_data_or_memory(run: Run) -> None:
    done = run("workload=timing_only", "model=resnet18", "data=cifar10_synthetic",
               "train.iterations=2")  # fmt: skip
    assert done["parameters"] == 11_173_962


MUST_SHOW = ["model=resnet18", "data=cifar10_synthetic", "code=repetition", "code.r=3",
             "cluster.workers=45", "train.iterations=2", "progress=false"]  # fmt: skip


@pytest.mark.slow
def test_resnet18_draco_n45_on_the_cpu_keeps_the_adversary_free_model(tmp_path: Path) -> None:
    """Must show 2 at full size, as typed (default batch 600): within the 24 GiB of the
    2-core machine, one reverse-gradient liar changes nothing."""
    digests, peaks = {}, {}
    for adversary in ("reverse", "none"):
        out = tmp_path / adversary
        cmd = [sys.executable, "-m", "sim", *MUST_SHOW, f"adversary={adversary}",
               "adversary.count=1", f"hydra.run.dir={out}"]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=3600)
        peaks[adversary] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        summary = json.loads((out / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["parameters"] == 11_173_962
        assert summary["corrupted_updates"] == 0
        digests[adversary] = summary["model_digest"]
    assert digests["reverse"] == digests["none"]
    # the largest child so far (this one included): ru_maxrss is in KiB on Linux
    assert max(peaks.values()) * 1024 < 24 * 2**30
