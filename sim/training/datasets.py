"""Offline data sets: made locally or shipped with a package, never downloaded."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gzip
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import torch

from sim.config.errors import ConfigError, InputFileError
from sim.config.inputs import read_bytes
from sim.config.ranges import AtLeastOne, Count, Range, at_least
from sim.training import cache

F = TypeVar("F", bound=Callable[..., Any])

MNIST_SHAPE = (1, 28, 28)
SAMPLES = Range(lambda v: v == 0 or v >= 10, ">= 10 (0 = every sample, for data=mnist)")
Samples = Annotated[int, SAMPLES]
Classes = Annotated[int, at_least(2)]


Augment = Callable[[torch.Tensor, np.random.Generator], torch.Tensor]


@dataclass(frozen=True)
class Dataset:
    """Train and test tensors. ``x_*`` hold one sample per row, flat ``(N, features)`` or
    shaped; ``sample_shape`` says what one sample looks like to a model (``(channels,
    height, width)`` for images; None: the trailing shape of ``x_train``). ``augment``,
    if set, transforms each training batch ``(B, *sample_shape)`` with draws from the
    data-order stream (random crops and flips)."""

    x_train: torch.Tensor  # (N, features) or (N, *sample_shape) float32
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: int
    sample_shape: tuple[int, ...] | None = None
    augment: Augment | None = field(default=None, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        """One sample's shape as the model receives it."""
        return self.sample_shape or tuple(int(v) for v in self.x_train.shape[1:])

    @property
    def features(self) -> int:
        return math.prod(self.shape)

    def images(self, x: torch.Tensor) -> torch.Tensor:
        """Rows of ``x`` (N, ...) viewed as ``(N, *shape)``."""
        return x.reshape(len(x), *self.shape)

    def flaws(self) -> list[str]:
        """What makes the data set unusable, one line each (empty when it is whole):
        samples and labels of different lengths, train and test samples of different
        shapes, labels outside ``0..classes-1``, an empty split."""
        found = []
        for split, x, y in (
            ("train", self.x_train, self.y_train),
            ("test", self.x_test, self.y_test),
        ):
            if len(x) != len(y):
                found.append(f"{len(x)} {split} samples but {len(y)} {split} labels")
            if len(y) == 0:
                found.append(f"the {split} split is empty")
            elif y.is_floating_point() or y.dim() != 1:
                found.append(f"{split} labels must be integers, one per sample")
            else:
                low, high = int(y.min()), int(y.max())
                if low < 0 or high >= self.classes:
                    found.append(
                        f"{split} labels span {low}..{high}, outside the {self.classes} classes "
                        f"0..{self.classes - 1}"
                    )
        if tuple(self.x_train.shape[1:]) != tuple(self.x_test.shape[1:]):
            shape = lambda t: "x".join(map(str, t.shape[1:])) or "scalar"  # noqa: E731
            found.append(
                f"train samples are {shape(self.x_train)} but test samples {shape(self.x_test)}"
            )
        return found

    def arrays(self) -> dict[str, np.ndarray]:
        """As numpy arrays (what the data-set cache stores)."""
        tensors = {"x_train": self.x_train, "y_train": self.y_train}
        tensors |= {"x_test": self.x_test, "y_test": self.y_test}
        out = {k: t.numpy() for k, t in tensors.items()} | {"classes": np.array(self.classes)}
        if self.sample_shape is not None:
            out["sample_shape"] = np.array(self.sample_shape, dtype=np.int64)
        return out

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> Dataset:
        t = {k: torch.from_numpy(a[k]) for k in ("x_train", "y_train", "x_test", "y_test")}
        shape = tuple(int(v) for v in a["sample_shape"]) if "sample_shape" in a else None
        return cls(t["x_train"], t["y_train"], t["x_test"], t["y_test"], int(a["classes"]), shape)

    def to(self, device: torch.device) -> Dataset:
        move = functools.partial(torch.Tensor.to, device=device)
        return dataclasses.replace(
            self,
            x_train=move(self.x_train),
            y_train=move(self.y_train),
            x_test=move(self.x_test),
            y_test=move(self.y_test),
        )


def _standardize(x_train: np.ndarray, x_test: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = x_train.mean(0), x_train.std(0) + 1e-8
    as_t = lambda a: torch.from_numpy(((a - mean) / std).astype(np.float32))  # noqa: E731
    return as_t(x_train), as_t(x_test)


def shaped(shape: Callable[..., tuple[tuple[int, ...], int]]) -> Callable[[F], F]:
    """Say what a data set's samples look like without making it: ``shape(**settings)``
    gives (one sample's shape, classes). A timing-only run sizes the model from it."""

    def wrap(make: F) -> F:
        make.shape = shape  # type: ignore[attr-defined]
        return make

    return wrap


def shape_of(
    make: Callable[..., Any], settings: dict[str, Any]
) -> tuple[tuple[int, ...], int] | None:
    """(sample shape, classes) of the data set ``make(**settings)`` would return, if it says."""
    shape = getattr(make, "shape", None)
    return None if shape is None else shape(**settings)


def generated(name: str) -> Callable[[F], F]:
    """A data set made from its parameters: kept in memory and in the on-disk cache."""

    def wrap(make: F) -> F:
        on_disk = cache.cached(name, Dataset.arrays, Dataset.from_arrays)(make)
        return functools.lru_cache(maxsize=4)(on_disk)  # type: ignore[return-value]

    return wrap


@shaped(lambda **_: ((40,), 10))
@generated("mnist1d")
def mnist1d(samples: Samples = 5000, seed: Count = 0) -> Dataset:
    """MNIST-1D (Greydanus 2020): 40-sample 1-D digit signals, 10 classes, 80/20 split.

    ``seed`` makes the data set itself; the run's ``seed`` only orders it."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed = samples, seed
    with contextlib.redirect_stdout(io.StringIO()):
        raw = make_dataset(args)
    x_train, x_test = _standardize(raw["x"], raw["x_test"])
    return Dataset(
        x_train,
        torch.from_numpy(raw["y"]).long(),
        x_test,
        torch.from_numpy(raw["y_test"]).long(),
        classes=10,
    )


@shaped(lambda features=32, classes=10, **_: ((features,), classes))
@generated("synthetic")
def synthetic(
    samples: Samples = 4000, features: AtLeastOne = 32, classes: Classes = 10, seed: Count = 0
) -> Dataset:
    """Gaussian clusters around random class centres, 80/20 split; learnable but not trivial."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.0, (classes, features))
    y = rng.integers(0, classes, samples)
    x = centres[y] + rng.normal(0.0, 1.5, (samples, features))
    cut = int(0.8 * samples)
    x_train, x_test = _standardize(x[:cut], x[cut:])
    y_t = torch.from_numpy(y).long()
    return Dataset(x_train, y_t[:cut], x_test, y_t[cut:], classes)


def _smooth(images: np.ndarray, passes: int = 3) -> np.ndarray:
    """Box-blur (N, 28, 28) images ``passes`` times: strokes, not white noise."""
    for _ in range(passes):
        padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
        blurred = np.zeros_like(images)
        for a in (0, 1, 2):
            for b in (0, 1, 2):
                blurred += padded[:, a : a + 28, b : b + 28]
        images = blurred / 9.0
    return images


@shaped(lambda **_: (MNIST_SHAPE, 10))
@generated("mnist_synthetic")
def mnist_synthetic(samples: Samples = 12000, seed: Count = 0) -> Dataset:
    """MNIST-shaped digits made locally: 28x28 = 784 features in [0, 1], 10 classes.

    Each class has a smooth random template; a sample is its template with random
    contrast and brightness plus pixel noise. Same shapes and scale as MNIST, so a
    784-800-500-10 network costs what it costs on MNIST; 80/20 train/test split.
    """
    rng = np.random.default_rng(seed)
    templates = _smooth(rng.random((10, 28, 28)))
    templates = (templates - templates.min()) / (templates.max() - templates.min())
    y = rng.integers(0, 10, samples)
    contrast = rng.uniform(0.5, 1.5, (samples, 1, 1)).astype(np.float32)
    x = rng.standard_normal((samples, 28, 28), dtype=np.float32)
    x *= 0.35
    x += contrast * templates.astype(np.float32)[y]
    x = np.clip(x, 0.0, 1.0, out=x).reshape(samples, 784)
    cut = int(0.8 * samples)
    x_train, x_test = _standardize(x[:cut], x[cut:])
    y_t = torch.from_numpy(y).long()
    return Dataset(x_train, y_t[:cut], x_test, y_t[cut:], classes=10, sample_shape=MNIST_SHAPE)


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST's format, optionally gzipped) as a numpy array."""
    raw = read_bytes("data.root", path)
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputFileError("data.root", path, f"not a gzip file ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ConfigError(f"data.root: {path} is not an unsigned-byte IDX file")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise ConfigError(f"data.root: {path} holds {body.size} bytes, header says {shape}")
    return body.reshape(shape)


def _idx(root: Path, stem: str) -> np.ndarray:
    for name in (stem, f"{stem}.gz", stem.replace("-idx", ".idx")):
        if (root / name).exists():
            return read_idx(root / name)  # a directory there is named as one
    raise ConfigError(
        f"data.root={root}: no {stem}[.gz] there; data=mnist reads the four MNIST IDX files "
        f"from disk and never downloads them (or use data=mnist_synthetic)"
    )


@shaped(lambda **_: (MNIST_SHAPE, 10))
def mnist(root: str, samples: Samples = 0, seed: Count = 0) -> Dataset:
    """Real MNIST from IDX files under ``root`` (never downloaded); ``samples`` > 0 keeps
    that many for training."""
    base = Path(root).expanduser()
    if not base.is_dir():
        raise ConfigError(f"data.root={root} is not a directory holding the MNIST IDX files")
    x_tr, y_tr = _idx(base, "train-images-idx3-ubyte"), _idx(base, "train-labels-idx1-ubyte")
    x_te, y_te = _idx(base, "t10k-images-idx3-ubyte"), _idx(base, "t10k-labels-idx1-ubyte")
    shape = lambda a: torch.empty(a.shape, device="meta")  # noqa: E731  (the images' shape)
    label = lambda a: torch.from_numpy(a.astype(np.int64))  # noqa: E731
    found = Dataset(shape(x_tr), label(y_tr), shape(x_te), label(y_te), classes=10).flaws()
    if found:  # every file is checked whole, before any of it is used
        raise ConfigError(*(f"data.root={root}: {line}" for line in found))
    if samples > 0:
        x_tr, y_tr = x_tr[:samples], y_tr[:samples]
    flat = lambda a: a.reshape(len(a), -1).astype(np.float32) / 255.0  # noqa: E731
    mean, std = 0.1307, 0.3081  # the usual MNIST pixel statistics
    as_t = lambda a: torch.from_numpy((flat(a) - mean) / std)  # noqa: E731
    long = lambda a: torch.from_numpy(a.astype(np.int64))  # noqa: E731
    return Dataset(
        as_t(x_tr), long(y_tr), as_t(x_te), long(y_te), classes=10, sample_shape=MNIST_SHAPE
    )


class BatchSampler:
    """Global batches drawn without replacement, epoch after epoch, from the data stream."""

    def __init__(self, size: int, batch: int, rng: np.random.Generator) -> None:
        self.size, self.batch, self.rng = size, batch, rng
        self.order = rng.permutation(size)
        self.cursor = 0

    def next(self) -> np.ndarray:
        if self.cursor + self.batch > self.size:
            self.order, self.cursor = self.rng.permutation(self.size), 0
        idx = self.order[self.cursor : self.cursor + self.batch]
        self.cursor += self.batch
        return idx

    def state_dict(self) -> dict[str, Any]:
        """Everything that decides the next batches (for checkpoints)."""
        return {
            "rng": self.rng.bit_generator.state,
            "order": torch.from_numpy(self.order.copy()),
            "cursor": self.cursor,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.order = state["order"].numpy().copy()
        self.cursor = int(state["cursor"])
