"""MNIST-shaped data: made locally, or read from IDX files on disk (never downloaded)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from sim.build import build
from sim.config.errors import ConfigError
from sim.training.datasets import mnist_synthetic
from tests.conftest import make_cfg


def test_fc_mnist_on_mnist_shaped_data_is_the_papers_network() -> None:
    cfg = make_cfg("model=fc_mnist", "data=mnist_synthetic", "data.samples=1000", small=False)
    world = build(cfg)
    assert world.math.oracle.d == 1_033_510  # 784-800-500-10
    assert world.math.oracle.slots is not None  # served by the one-backward path


def test_mnist_synthetic_is_deterministic_and_learnable_shape() -> None:
    a, b = mnist_synthetic(600, seed=5), mnist_synthetic(600, seed=5)
    assert a.x_train.shape == (480, 784) and a.x_test.shape == (120, 784)
    assert a.classes == 10 and set(a.y_train.tolist()) == set(range(10))
    assert bool((a.x_train == b.x_train).all())
    assert not bool((mnist_synthetic(600, seed=6).x_train == a.x_train).all())


def _write_idx(path: Path, array: np.ndarray, zipped: bool) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if zipped else raw)


@pytest.mark.parametrize("zipped", [False, True])
def test_real_mnist_is_read_from_idx_files(tmp_path: Path, zipped: bool) -> None:
    rng = np.random.default_rng(0)
    suffix = ".gz" if zipped else ""
    for split, count in (("train", 50), ("t10k", 20)):
        _write_idx(
            tmp_path / f"{split}-images-idx3-ubyte{suffix}",
            rng.integers(0, 256, (count, 28, 28)),
            zipped,
        )
        _write_idx(tmp_path / f"{split}-labels-idx1-ubyte{suffix}", np.arange(count) % 10, zipped)
    cfg = make_cfg("data=mnist", f"data.root={tmp_path}", "train.batch_size=30", small=False)
    data = build(cfg).math.data
    assert data.x_train.shape == (50, 784) and data.x_test.shape == (20, 784)
    assert data.y_train[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_missing_mnist_files_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"data.root=.*never download"):
        build(make_cfg("data=mnist", f"data.root={tmp_path}", small=False))
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"junk")
    with pytest.raises(ConfigError, match="not an unsigned-byte IDX file"):
        build(make_cfg("data=mnist", f"data.root={tmp_path}", small=False))
