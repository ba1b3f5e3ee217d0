"""Same config and seed, byte-identical outputs: for every registered option and wait policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.config.options import GROUPS
from tests.conftest import make_cfg, simulate

BASE = [
    "cluster.workers=6",
    "adversary.placement=random",
    "train.iterations=6",
    "latency.speed_factors=[1,1,2,1,3,1]",
    "seed=11",
]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NEEDS = {  # options that read an input file get the shipped example
    "latency=trace": f"latency.path={EXAMPLES / 'times.csv'}",
    "network=graph": f"network.path={EXAMPLES / 'two_racks.edges'}",
    "adversary=mixed": "adversary.placement=fixed",  # mixed places each group itself
}
SKIP = {"data=mnist", "data=cifar10"}  # read a user's files; test_datasets, test_cifar cover them
IMAGES = {  # image models on small image data (ResNet-18 in the slow tier)
    "model=lenet": "data=mnist_synthetic data.samples=60 train.batch_size=12",
    "model=cnn_cifar": "data=cifar10_synthetic data.samples=60 train.batch_size=12",
    "model=resnet18": "data=cifar10_synthetic data.samples=20 train.batch_size=6 "
    "train.iterations=2",
}
NEEDS |= IMAGES
EXTRA = {"aggregator": "code=none"}  # rules see all 6 workers (Krum, Bulyan need k >= 3)
VARIANTS = [
    f"{group}={name} {NEEDS.get(f'{group}={name}', EXTRA.get(group, ''))}".strip()
    for group, spec in GROUPS.items()
    for name in sorted(spec.options)
    if f"{group}={name}" not in SKIP
]
VARIANTS += ["ps.wait=first_k ps.k=4", "ps.wait=deadline ps.deadline_s=0.08", "ps.wait=decodable"]
VARIANTS += ["data.split=dirichlet data.alpha=0.3 train.momentum=0.9 train.worker_momentum=0.5"]
VARIANTS += ["data=cifar10_synthetic data.augment=true data.samples=60 train.batch_size=12"]
SLOW = {"model=resnet18"}


@pytest.mark.parametrize(
    "variant",
    [pytest.param(v, marks=pytest.mark.slow) if v.split()[0] in SLOW else v for v in VARIANTS],
)
def test_two_runs_write_the_same_bytes(tmp_path: Path, variant: str) -> None:
    mlp = [] if variant.split()[0] in IMAGES else ["model.hidden=[8]"]
    args = [*BASE, *mlp, *variant.split(), "outputs.figures=false", "outputs.report=false"]
    a = simulate(make_cfg(*args), tmp_path / "a")
    b = simulate(make_cfg(*args), tmp_path / "b")
    for name in ("metrics.csv", "trace.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert a["model_digest"] == b["model_digest"]


def test_every_output_file_is_the_same_but_the_wall_time(tmp_path: Path) -> None:
    """Figures and report included: the bytes differ only where the wall time is written."""
    a = simulate(make_cfg(*BASE, "adversary=alie"), tmp_path / "a")
    b = simulate(make_cfg(*BASE, "adversary=alie"), tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir() if p.is_file())
    wanted = {"metrics.csv", "trace.json", "training.png", "timeline.png", "report.html"}
    assert wanted <= set(names)
    for name in names:
        x, y = ((tmp_path / d / name).read_bytes() for d in "ab")
        if name in ("summary.json", "report.html"):
            x, y = (t.replace(repr(s["wall_time_s"]).encode(), b"") for t, s in ((x, a), (y, b)))
            x, y = (re.sub(rb"wall_time_s</th><td>[^<]*", b"", t) for t in (x, y))
        assert x == y, name
