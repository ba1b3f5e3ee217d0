"""CIFAR-10 read from its python batches (never downloaded), the synthetic stand-in, and
train-time augmentation drawn from the data-order stream."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from sim.config.errors import ConfigError
from sim.training.cifar import CropFlip, cifar10, cifar10_synthetic
from tests.conftest import Run


def fake_cifar(root: Path, per_batch: int = 12) -> Path:
    """CIFAR-10's six python batches, tiny, in its own pickle layout."""
    rng = np.random.default_rng(3)
    where = root / "cifar-10-batches-py"
    where.mkdir(parents=True)
    for name in [*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]:
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in rng.integers(0, 10, per_batch)],
            b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            b"filenames": [b"x.png"] * per_batch,
        }
        (where / name).write_bytes(pickle.dumps(batch, protocol=2))
    return root


def test_the_python_batches_are_read_as_normalized_images(tmp_path: Path) -> None:
    root = fake_cifar(tmp_path)
    data = cifar10(str(root))
    assert data.x_train.shape == (60, 3, 32, 32) and data.x_test.shape == (12, 3, 32, 32)
    assert data.shape == (3, 32, 32) and data.classes == 10 and data.augment is None
    raw = pickle.loads((root / "cifar-10-batches-py" / "data_batch_1").read_bytes())
    red = raw[b"data"][0, :1024].reshape(32, 32) / 255.0  # the first image's red plane
    assert np.allclose(data.x_train[0, 0].numpy(), (red - 0.4914) / 0.2470, atol=1e-5)
    assert data.y_train[:12].tolist() == raw[b"labels"]
    assert len(cifar10(str(root / "cifar-10-batches-py"), samples=20).y_train) == 20


def test_missing_batches_are_named_and_nothing_is_downloaded(tmp_path: Path) -> None:
    root = fake_cifar(tmp_path)
    (root / "cifar-10-batches-py" / "data_batch_3").unlink()
    (root / "cifar-10-batches-py" / "test_batch").unlink()
    with pytest.raises(ConfigError, match=r"missing data_batch_3, test_batch in .*never downloads"):
        cifar10(str(root))


def test_a_pickle_that_asks_for_code_is_refused_not_run(tmp_path: Path) -> None:
    root = fake_cifar(tmp_path)

    class Evil:
        def __reduce__(self) -> tuple:
            return (print, ("this must never run",))

    (root / "cifar-10-batches-py" / "data_batch_2").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ConfigError, match=r"data_batch_2 is not a CIFAR-10 python batch"):
        cifar10(str(root))


def test_a_cnn_trains_on_cifar_files_from_the_cli(run: Run, tmp_path: Path) -> None:
    root = fake_cifar(tmp_path, per_batch=6)
    done = run("model=cnn_cifar", "data=cifar10", f"data.root={root}", "data.augment=true",
               "code=none", "cluster.workers=3", "train.batch_size=6",
               "train.iterations=2")  # fmt: skip
    assert done["status"] == "completed" and done["parameters"] == 356_810


def test_synthetic_cifar_is_image_shaped_and_learnable_in_shape() -> None:
    data = cifar10_synthetic(samples=50)
    assert data.x_train.shape == (40, 3, 32, 32) and data.x_test.shape == (10, 3, 32, 32)
    assert data.classes == 10 and set(data.y_train.tolist()) <= set(range(10))
    again = cifar10_synthetic(samples=50)
    assert torch.equal(data.x_train, again.x_train)
    assert cifar10_synthetic(samples=50, augment=True).augment is not None


def test_crop_and_flip_move_pixels_where_the_draws_say() -> None:
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    crop = CropFlip(fill=(-1.0, -2.0, -3.0), pad=2)
    out = crop(x, np.random.default_rng(5))
    rng = np.random.default_rng(5)  # the same draws, by hand
    dy, dx, flip = rng.integers(0, 5, 2), rng.integers(0, 5, 2), rng.random(2) < 0.5
    fill = torch.tensor([-1.0, -2.0, -3.0]).view(3, 1, 1)
    for b in range(2):
        padded = fill.repeat(1, 12, 12)
        padded[:, 2:10, 2:10] = x[b]
        want = padded[:, dy[b] : dy[b] + 8, dx[b] : dx[b] + 8]
        assert torch.equal(out[b], want.flip(-1) if flip[b] else want)


def test_augmented_runs_are_deterministic_and_differ_from_plain_ones(run: Run) -> None:
    small = ["model=mlp", "model.hidden=[8]", "data=cifar10_synthetic", "data.samples=60",
             "code=none", "cluster.workers=3", "train.batch_size=6",
             "train.iterations=2"]  # fmt: skip
    a, b = run(*small, "data.augment=true"), run(*small, "data.augment=true")
    plain = run(*small)
    assert a["model_digest"] == b["model_digest"] != plain["model_digest"]
