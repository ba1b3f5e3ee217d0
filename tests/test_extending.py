"""Extending without touching ``sim/``: a rule, an adversary strategy and a model from a
package of the user's own, selected from the command line through ``hydra.searchpath``
(what docs/extending.md shows)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

RULE = '''
import torch
from sim.aggregators.base import Report, check_inputs


class SmallestNorms:
    """Mean of the k - drop candidates with the smallest norms."""

    name = "smallest_norms"

    def __init__(self, drop: int = 1) -> None:
        self.drop = drop

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_inputs(self, x)
        keep = torch.linalg.vector_norm(x.double(), dim=1).argsort()[: x.shape[0] - self.drop]
        kept = torch.zeros(x.shape[0], dtype=torch.float64)
        kept[keep] = 1.0
        self.report = Report(kept)
        return x[keep].mean(0)

    def invalid(self, k: int) -> str | None:
        return None if k > self.drop else f"needs k > drop={self.drop}"

    def ops(self, k: int, d: int) -> float:
        return float(2 * k * d)
'''

STRATEGY = '''
class Amplify:
    """Sends factor x its own honest message."""

    def __init__(self, factor: float = 10.0) -> None:
        self.factor = factor

    def __call__(self, own, honest, gen):
        return list(self.factor * own)
'''

MODEL = """
from torch import nn


class TwoLayer(nn.Module):
    def __init__(self, in_features: int, classes: int, width: int = 8) -> None:
        super().__init__()
        self.first = nn.Linear(in_features, width)
        self.second = nn.Linear(width, classes)

    def forward(self, x):
        return self.second(self.first(x).tanh())
"""

CONFIGS = {
    "aggregator/smallest_norms.yaml": "_target_: mypkg.rules.SmallestNorms\ndrop: 3\n",
    "adversary/amplify.yaml": "_target_: mypkg.attacks.Amplify\ncount: 2\nfactor: 50.0\n",
    "model/two_layer.yaml": "_target_: mypkg.models.TwoLayer\nwidth: 6\n",
}


def user_tree(root: Path) -> Path:
    """A package ``mypkg`` and a config folder, both outside the project."""
    pkg = root / "mypkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for name, text in (("rules", RULE), ("attacks", STRATEGY), ("models", MODEL)):
        (pkg / f"{name}.py").write_text(textwrap.dedent(text))
    conf = root / "conf"
    for rel, text in CONFIGS.items():
        (conf / rel).parent.mkdir(parents=True, exist_ok=True)
        (conf / rel).write_text(text)
    return conf


def draco_sim(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = str(root)
    return subprocess.run(
        [sys.executable, "-m", "sim", f"hydra.searchpath=[file://{root / 'conf'}]", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


BASE = [
    "code=none",
    "cluster.workers=9",
    "data=synthetic",
    "data.samples=1000",
    "train.iterations=4",
    "progress=false",
]


def test_a_users_rule_strategy_and_model_run_from_the_cli(tmp_path: Path) -> None:
    user_tree(tmp_path)
    out = tmp_path / "run"
    picks = ["aggregator=smallest_norms", "adversary=amplify", "model=two_layer"]
    p = draco_sim(tmp_path, *BASE, *picks, f"hydra.run.dir={out}")
    assert p.returncode == 0, p.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["iterations"] == 4
    assert summary["parameters"] == 32 * 6 + 6 + 6 * 10 + 10  # TwoLayer(32, 10, width=6)
    rows = (out / "metrics.csv").read_text().splitlines()[1:]
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    at = {name: header.index(name) for name in ("adversaries", "influence", "attack")}
    for row in rows:
        cells = row.split(",")
        assert cells[at["adversaries"]] == "2"
        assert float(cells[at["influence"]]) == 0.0  # the 50x messages have the largest norms
        assert cells[at["attack"]].startswith("mypkg.attacks.Amplify(") and "factor=50" in row
    config = (out / "config.yaml").read_text()
    assert "drop: 3" in config and "width: 6" in config


def test_a_typo_in_a_users_option_fails_naming_it(tmp_path: Path) -> None:
    conf = user_tree(tmp_path)
    p = draco_sim(tmp_path, *BASE, "aggregator=smallest_norms", "aggregator.dorp=2")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip() == (
        "error: aggregator.dorp: no such key (did you mean aggregator.drop?); valid keys: drop"
    )
    (conf / "aggregator" / "smallest_norms.yaml").write_text(
        "_target_: mypkg.rules.SmallestNorms\ndorp: 3\n"
    )
    p = draco_sim(tmp_path, *BASE, "aggregator=smallest_norms", f"hydra.run.dir={tmp_path / 'r'}")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert (
        p.stderr.strip()
        == "error: aggregator.dorp: no such key; valid keys: pre, bucket_size, drop"
    )
    assert not (tmp_path / "r").exists()


IMAGE_MODEL = """
from torch import nn


class TinyCNN(nn.Module):
    '''Built from the sample shape (channels, height, width) and the classes.'''

    def __init__(self, in_shape: tuple, classes: int, channels: int = 4) -> None:
        super().__init__()
        c, h, w = in_shape
        self.conv = nn.Conv2d(c, channels, 3, padding=1)
        self.fc = nn.Linear(channels * h * w, classes)

    def forward(self, x):
        return self.fc(self.conv(x).relu().flatten(1))


class Normed(TinyCNN):
    def __init__(self, in_shape: tuple, classes: int) -> None:
        super().__init__(in_shape, classes)
        self.norm = nn.BatchNorm2d(4)

    def forward(self, x):
        return self.fc(self.norm(self.conv(x)).relu().flatten(1))
"""


def test_a_users_module_named_by_target_trains_from_the_cli(tmp_path: Path) -> None:
    """No YAML file: ``model._target_=pkg.Class`` from the command line, a CNN built from
    the provided ``in_shape`` and ``classes``; its own setting set on the command line."""
    pkg = tmp_path / "userpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(IMAGE_MODEL))
    (tmp_path / "conf").mkdir()
    out = tmp_path / "run"
    p = draco_sim(tmp_path, *BASE, "data=mnist_synthetic", "data.samples=200",
                  "model._target_=userpkg.TinyCNN", "+model.channels=2",
                  "adversary=none", "train.batch_size=18", f"hydra.run.dir={out}")  # fmt: skip
    assert p.returncode == 0, p.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["iterations"] == 4
    assert summary["parameters"] == (1 * 9 * 2 + 2) + (2 * 28 * 28 * 10 + 10)
    assert "_target_: userpkg.TinyCNN" in (out / "config.yaml").read_text()
    p = draco_sim(tmp_path, *BASE, "model._target_=userpkg.TinyCNN", "model.hidden=[4]")
    assert p.returncode == 2 and p.stderr.strip() == (
        "error: model.hidden: no such key; valid keys: channels"
    )
    p = draco_sim(tmp_path, *BASE, "data=mnist_synthetic", "data.samples=200",
                  "model._target_=userpkg.Normed", f"hydra.run.dir={tmp_path / 'bn'}")  # fmt: skip
    assert p.returncode == 2 and p.stderr.strip() == (
        "error: model=userpkg.Normed: the model has batch-norm layers (norm): a part's "
        "gradient would depend on the simulator's batching and the running statistics are "
        "never sent to the PS; use nn.GroupNorm (as model=resnet18 does) or no normalization"
    )
