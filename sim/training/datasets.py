"""Offline data sets: made locally or shipped with a package, never downloaded."""

from __future__ import annotations

import contextlib
import functools
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sim.errors import ConfigError


@dataclass(frozen=True)
class Dataset:
    x_train: torch.Tensor  # (N, features) float32
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: int

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])

    def to(self, device: torch.device) -> Dataset:
        move = functools.partial(torch.Tensor.to, device=device)
        return Dataset(
            move(self.x_train),
            move(self.y_train),
            move(self.x_test),
            move(self.y_test),
            self.classes,
        )


def _standardize(x_train: np.ndarray, x_test: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = x_train.mean(0), x_train.std(0) + 1e-8
    as_t = lambda a: torch.from_numpy(((a - mean) / std).astype(np.float32))  # noqa: E731
    return as_t(x_train), as_t(x_test)


@functools.lru_cache(maxsize=4)
def mnist1d(samples: int = 5000, seed: int = 0) -> Dataset:
    """MNIST-1D (Greydanus 2020): 40-sample 1-D digit signals, 10 classes, 80/20 split."""
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


@functools.lru_cache(maxsize=4)
def synthetic(samples: int = 4000, features: int = 32, classes: int = 10, seed: int = 0) -> Dataset:
    """Gaussian clusters around random class centres, 80/20 split; learnable but not trivial."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.0, (classes, features))
    y = rng.integers(0, classes, samples)
    x = centres[y] + rng.normal(0.0, 1.5, (samples, features))
    cut = int(0.8 * samples)
    x_train, x_test = _standardize(x[:cut], x[cut:])
    y_t = torch.from_numpy(y).long()
    return Dataset(x_train, y_t[:cut], x_test, y_t[cut:], classes)


class BatchSampler:
    """Global batches drawn without replacement, epoch after epoch, from the data stream."""

    def __init__(self, size: int, batch: int, rng: np.random.Generator) -> None:
        if batch > size:
            raise ConfigError(
                f"train.batch_size={batch} exceeds the {size} training samples "
                f"(lower it, or raise data.samples)"
            )
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
