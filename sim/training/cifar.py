"""CIFAR-10-shaped data: the real python batches from disk, or images made locally.

Both give ``(3, 32, 32)`` samples, 10 classes, and optionally the usual train-time
augmentation (:class:`CropFlip`): a random 32x32 crop of the image padded by 4 pixels,
and a horizontal flip with probability 1/2, drawn for every training sample of every
batch from the run's data-order stream (so a run is still determined by its seed).
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sim.config.errors import ConfigError
from sim.config.inputs import read_bytes
from sim.config.ranges import Count
from sim.training.datasets import Dataset, Samples, generated, shaped

CIFAR_SHAPE = (3, 32, 32)
TRAIN_FILES = tuple(f"data_batch_{k}" for k in range(1, 6))
TEST_FILE = "test_batch"
MEAN = (0.4914, 0.4822, 0.4465)  # the usual CIFAR-10 channel statistics
STD = (0.2470, 0.2435, 0.2616)


@dataclass(frozen=True)
class CropFlip:
    """Random crop of the ``pad``-padded image back to its size, then a random
    horizontal flip: one gather for the whole batch. ``fill`` is the padding's value
    per channel (black, in the data's normalized units)."""

    fill: tuple[float, ...]
    pad: int = 4

    def __call__(self, x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        b, c, h, w = x.shape  # (B, C, H, W)
        shift_y = rng.integers(0, 2 * self.pad + 1, b)
        shift_x = rng.integers(0, 2 * self.pad + 1, b)
        flip = rng.random(b) < 0.5
        fill = torch.tensor(self.fill, dtype=x.dtype).to(x.device)
        padded = fill.view(1, c, 1, 1).repeat(b, 1, h + 2 * self.pad, w + 2 * self.pad)
        padded[:, :, self.pad : self.pad + h, self.pad : self.pad + w] = x
        cols = np.where(flip[:, None], np.arange(w)[::-1], np.arange(w)) + shift_x[:, None]
        rows = np.arange(h) + shift_y[:, None]
        as_index = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(x.device)  # noqa: E731
        bi = torch.arange(b, device=x.device).view(b, 1, 1, 1)
        ci = torch.arange(c, device=x.device).view(1, c, 1, 1)
        return padded[bi, ci, as_index(rows).view(b, 1, h, 1), as_index(cols).view(b, 1, 1, w)]


# ---------------------------------------------------------------- the real data set


class _ArraysOnly(pickle.Unpickler):
    """Unpickles CIFAR's batches (dicts of numpy arrays, lists and bytes) and nothing
    else: a file that asks for any other object is refused, never run."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module.startswith("numpy.core"):  # the name numpy 1 wrote; numpy 2 moved it
            module = module.replace("numpy.core", "numpy._core", 1)
            try:
                importlib.import_module(module)
            except ImportError:
                module = module.replace("numpy._core", "numpy.core", 1)
        return getattr(importlib.import_module(module), name)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One python batch of CIFAR-10: images (N, 3, 32, 32) uint8 and labels (N,)."""
    raw = read_bytes("data.root", path)
    try:
        batch = _ArraysOnly(io.BytesIO(raw), encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as exc:  # any damage: say which file, never a traceback
        raise ConfigError(
            f"data.root: {path} is not a CIFAR-10 python batch ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'})"
        ) from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ConfigError(
            f"data.root: {path} holds data of shape {data.shape} and {len(labels)} labels; "
            f"a CIFAR-10 batch holds (N, 3072) and N labels"
        )
    if len(labels) and not 0 <= labels.min() <= labels.max() < 10:
        raise ConfigError(f"data.root: {path} has labels outside 0..9")
    return data.reshape(-1, *CIFAR_SHAPE), labels


def batch_dir(root: str) -> Path:
    """The folder holding the batches: ``root`` or its ``cifar-10-batches-py``."""
    base = Path(root).expanduser()
    if not base.is_dir():
        raise ConfigError(f"data.root={root} is not a directory holding CIFAR-10's python batches")
    for where in (base, base / "cifar-10-batches-py"):
        if all((where / name).is_file() for name in (*TRAIN_FILES, TEST_FILE)):
            return where
    inner = base / "cifar-10-batches-py"
    where = inner if inner.is_dir() else base
    missing = [name for name in (*TRAIN_FILES, TEST_FILE) if not (where / name).is_file()]
    raise ConfigError(
        f"data.root={root}: missing {', '.join(missing)} in {where}; data=cifar10 reads "
        f"CIFAR-10's python batches (data_batch_1..5, test_batch) from disk and never "
        f"downloads them (or use data=cifar10_synthetic)"
    )


def _normalized(images: np.ndarray) -> torch.Tensor:
    x = images.astype(np.float32) / 255.0
    mean = np.array(MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.array(STD, dtype=np.float32).reshape(1, 3, 1, 1)
    return torch.from_numpy((x - mean) / std)


def black() -> tuple[float, ...]:
    """A black pixel in normalized units, per channel (what crops pad with)."""
    return tuple(-m / s for m, s in zip(MEAN, STD, strict=True))


@shaped(lambda **_: (CIFAR_SHAPE, 10))
def cifar10(root: str, samples: Samples = 0, augment: bool = False) -> Dataset:
    """Real CIFAR-10 from its python batches under ``root`` (or ``root/cifar-10-batches-py``),
    never downloaded; ``samples`` > 0 keeps that many for training; ``augment``: random
    crops (padding 4) and horizontal flips of training batches."""
    where = batch_dir(root)
    train = [read_batch(where / name) for name in TRAIN_FILES]
    x_tr = np.concatenate([x for x, _ in train])
    y_tr = np.concatenate([y for _, y in train])
    if samples > 0:
        x_tr, y_tr = x_tr[:samples], y_tr[:samples]
    x_te, y_te = read_batch(where / TEST_FILE)
    data = Dataset(
        _normalized(x_tr),
        torch.from_numpy(y_tr),
        _normalized(x_te),
        torch.from_numpy(y_te),
        classes=10,
        sample_shape=CIFAR_SHAPE,
    )
    return dataclasses.replace(data, augment=CropFlip(black())) if augment else data


# ---------------------------------------------------------------- made locally


def _blur(images: np.ndarray, passes: int) -> np.ndarray:
    """Box-blur (..., H, W) images ``passes`` times (wrapping at the edges)."""
    for _ in range(passes):
        total = np.zeros_like(images)
        for a in (-1, 0, 1):
            for b in (-1, 0, 1):
                total += np.roll(images, (a, b), axis=(-2, -1))
        images = total / 9.0
    return images


@generated("cifar10_synthetic")
def _synthetic(samples: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    templates = _blur(rng.random((10, *CIFAR_SHAPE)), passes=4)
    low, high = templates.min(), templates.max()
    templates = ((templates - low) / (high - low)).astype(np.float32)
    y = rng.integers(0, 10, samples)
    contrast = rng.uniform(0.5, 1.5, (samples, 1, 1, 1)).astype(np.float32)
    x = rng.standard_normal((samples, *CIFAR_SHAPE), dtype=np.float32)
    x *= 0.35
    x += contrast * templates[y]
    np.clip(x, 0.0, 1.0, out=x)
    cut = int(0.8 * samples)
    mean = x[:cut].mean((0, 2, 3), keepdims=True)
    std = x[:cut].std((0, 2, 3), keepdims=True) + 1e-8
    x = (x - mean) / std
    y_t = torch.from_numpy(y).long()
    return Dataset(
        torch.from_numpy(x[:cut]),
        y_t[:cut],
        torch.from_numpy(x[cut:]),
        y_t[cut:],
        classes=10,
        sample_shape=CIFAR_SHAPE,
    )


@shaped(lambda **_: (CIFAR_SHAPE, 10))
def cifar10_synthetic(samples: Samples = 3000, seed: Count = 0, augment: bool = False) -> Dataset:
    """CIFAR-10-shaped images made locally: 3x32x32, 10 classes, 80/20 train/test split.

    Each class has a smooth random colour template; a sample is its template with random
    contrast plus pixel noise, clipped to [0, 1] and standardized per channel. Same
    shapes as CIFAR-10, so a network costs what it costs there; ``augment`` as for
    ``data=cifar10`` (padding filled with the channel mean)."""
    data = _synthetic(samples, seed)
    return dataclasses.replace(data, augment=CropFlip((0.0, 0.0, 0.0))) if augment else data
