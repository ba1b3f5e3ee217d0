"""Heterogeneous workers: each data part samples from its own shard (``data.split``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.build import build
from sim.config.errors import ConfigError
from sim.training.splits import ShardSampler, class_shards, dirichlet_shards
from tests.conftest import make_cfg

SMALL = ["data=synthetic", "data.samples=2000", "train.batch_size=200", "adversary=none"]


def built(*overrides: str) -> Any:
    """The run's round math (sampler, data, code) without running it."""
    return build(make_cfg(*SMALL, *overrides)).math


def histograms(math: Any) -> np.ndarray:
    """(shards, classes) label counts of the run's shards."""
    y = math.data.y_train.numpy()
    return np.stack([np.bincount(y[s], minlength=math.data.classes) for s in math.sampler.shards])


def test_dirichlet_alpha_0_1_gives_each_worker_a_label_skewed_shard() -> None:
    """Must show 3: with alpha=0.1 each shard is dominated by one or two labels; with a
    large alpha the shards look like the whole set."""
    skewed = built("code=none", "cluster.workers=10", "data.split=dirichlet", "data.alpha=0.1")
    h = histograms(skewed)
    share = h / h.sum(1, keepdims=True)  # each shard's label distribution
    assert h.shape == (10, 10) and (h.sum(1) == 1600 // 10).all()  # N/P samples each
    assert np.median(share.max(1)) > 0.6  # typically one label holds most of a shard
    assert np.mean((share > 0.05).sum(1)) < 4  # and few labels hold any real share
    flat = histograms(built("code=none", "cluster.workers=10", "data.split=dirichlet",
                            "data.alpha=1000"))  # fmt: skip
    flat_share = flat / flat.sum(1, keepdims=True)
    assert share.max(1).mean() > 3 * flat_share.max(1).mean()
    assert flat_share.max(1).max() < 0.25  # 10 classes: about 0.1 each
    every = np.concatenate(skewed.sampler.shards)
    assert len(np.unique(every)) == len(every)  # no sample in two shards


def test_each_part_samples_only_from_its_shard_and_a_group_shares_one() -> None:
    math = built("code=repetition", "code.r=3", "cluster.workers=12", "data.split=dirichlet",
                 "data.alpha=0.1", "train.batch_size=40")  # fmt: skip
    assert len(math.sampler.shards) == math.code.parts == 4  # one shard per group of 3
    for _ in range(3):
        idx = math.sampler.next().reshape(4, 10)
        for p in range(4):
            assert set(idx[p]) <= set(math.sampler.shards[p])


def test_classes_per_worker_gives_each_shard_its_classes() -> None:
    math = built("code=none", "cluster.workers=5", "data.split=classes_per_worker",
                 "data.shard_classes=2")  # fmt: skip
    h = histograms(math)
    for k in range(5):
        assert set(np.flatnonzero(h[k])) == {2 * k, 2 * k + 1}
    with pytest.raises(ConfigError, match="data.shard_classes=11 exceeds the data set's 10"):
        built("code=none", "data.split=classes_per_worker", "data.shard_classes=11")


def test_shards_are_drawn_from_the_seed() -> None:
    rng = lambda: np.random.default_rng(4)  # noqa: E731
    y = np.random.default_rng(0).integers(0, 5, 300)
    a, b = dirichlet_shards(y, 5, 6, 0.3, rng()), dirichlet_shards(y, 5, 6, 0.3, rng())
    assert all(np.array_equal(s, t) for s, t in zip(a, b, strict=True))
    shards = class_shards(y, 5, 3, 2, rng())  # classes {0,1}, {2,3}, {4,0}: 0 split in two
    assert sorted(np.concatenate(shards).tolist()) == list(range(300))


def test_a_shard_smaller_than_a_part_is_cycled_through() -> None:
    sampler = ShardSampler([np.array([7, 8]), np.arange(10)], 5, np.random.default_rng(0))
    batch = sampler.next()
    assert len(batch) == 10 and set(batch[:5]) == {7, 8}


def test_iid_split_runs_are_unchanged_and_skewed_ones_train(run: Any) -> None:
    iid = run("code=none", "aggregator=median", "cluster.workers=6", "train.iterations=3")
    same = run("code=none", "aggregator=median", "cluster.workers=6", "train.iterations=3",
               "data.split=iid", "data.alpha=0.1")  # fmt: skip
    skewed = run("code=none", "aggregator=median", "cluster.workers=6", "train.iterations=3",
                 "data.split=dirichlet", "data.alpha=0.1")  # fmt: skip
    assert iid["model_digest"] == same["model_digest"] != skewed["model_digest"]
    assert skewed["status"] == "completed"
