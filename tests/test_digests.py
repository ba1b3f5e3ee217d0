"""Results of every option of every group, compared with a record made before the config
redesign (``tests/data/digests.json``, made by running ``tests/digest_cases.py``'s cases).

A change that is meant to alter a result updates the record in the same commit and says
why; anything else that moves a digest is a regression. The default tier checks one case
per group; the slow tier checks them all.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import make_cfg
from digest_cases import cases, fake_mnist

from tests.conftest import simulate

RECORD = json.loads((Path(__file__).parent / "data" / "digests.json").read_text())
FAST = {"default", "readme_cyclic_s2", "aggregator=bulyan", "adversary=mixed", "data=mnist",
        "network=graph", "latency=trace", "timing_only", "experiment=paper_fc_small"}  # fmt: skip


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fake_mnist(tmp_path_factory.mktemp("mnist"))


def _params() -> list:
    names = sorted(cases(Path("mnist")))
    return [pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in names]


@pytest.mark.parametrize("name", _params())
def test_same_result_as_recorded(name: str, mnist_root: Path, tmp_path: Path) -> None:
    summary = simulate(make_cfg(*cases(mnist_root)[name], small=False), tmp_path / "run")
    want = RECORD[name]
    assert summary["model_digest"] == want["model_digest"]
    assert math.isclose(summary["sim_time_s"], want["sim_time_s"], rel_tol=1e-12)
    assert summary["status"] == want["status"]
