"""How the training set is divided among the data parts: ``data.split``.

An iteration's global batch is ``P`` parts of ``m`` samples (``P`` = the code's data
parts: ``n`` without a code, ``n/r`` repetition groups, ...). The workers that compute a
part share its shard, so under a code every member of a repetition group sees the same
data, and heterogeneity is between parts.

- ``iid`` (default): no shards. Each global batch is drawn without replacement from the
  whole training set, epoch after epoch, and cut into parts.
- ``dirichlet`` (label skew, concentration ``data.alpha``): shard ``k`` draws a label
  distribution ``q_k ~ Dirichlet(alpha, ..., alpha)`` over the ``C`` classes. Every
  shard holds ``S = floor(N / P)`` samples and no sample is in two shards. Shards are
  filled one after another, in a random order: a shard draws the labels of its ``S``
  samples from ``q_k`` restricted to the classes that still have unassigned samples
  (renormalized; a multinomial draw, repeated for the places a class ran out of), and
  takes that many unassigned samples of each label at random. Small ``alpha`` gives
  shards of one or two classes; large ``alpha`` approaches ``iid``.
- ``classes_per_worker`` (``data.shard_classes`` = ``c``): shard ``k`` holds the
  classes ``k*c, k*c+1, ..., k*c+c-1`` (mod ``C``); each class's samples, shuffled, are
  divided as evenly as possible among the shards that hold it (classes no shard holds
  are not used).

Every part then samples from its own shard, without replacement, epoch after epoch
(a shard smaller than ``m`` is cycled through as often as a batch needs). The shards are
drawn from a fixed sub-stream of the data-order stream; the samples from the stream itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import numpy as np
import torch

from sim.config.errors import ConfigError
from sim.config.ranges import AtLeastOne, Positive
from sim.training.datasets import BatchSampler


class Split(Enum):
    iid = "iid"
    dirichlet = "dirichlet"
    classes_per_worker = "classes_per_worker"


@dataclass
class SplitSettings:
    """How the training set is divided among data parts (every data set has these)."""

    split: Split = Split.iid
    alpha: Positive = 1.0  # Dirichlet concentration for split=dirichlet (small: skewed)
    shard_classes: AtLeastOne = 2  # classes per shard for split=classes_per_worker


class Sampler(Protocol):
    batch: int
    rng: np.random.Generator

    def next(self) -> np.ndarray:
        """Indices of the next global batch, part after part."""
        ...

    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def dirichlet_shards(
    labels: np.ndarray, classes: int, parts: int, alpha: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """Disjoint shards of ``floor(N / parts)`` samples, shard k's labels drawn from its own
    ``Dirichlet(alpha)`` mix over the classes (see the module's docstring)."""
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in range(classes)]
    taken = np.zeros(classes, dtype=np.int64)
    size = len(labels) // parts
    mixes = rng.dirichlet(np.full(classes, alpha), size=parts)  # (parts, classes)
    shards: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * parts
    for k in rng.permutation(parts):
        counts = np.zeros(classes, dtype=np.int64)
        while counts.sum() < size:
            stock = np.array([len(p) for p in pools]) - taken - counts
            open_ = stock > 0
            weights = np.where(open_, mixes[k], 0.0)
            if weights.sum() <= 0.0:  # all its mass on classes that ran out
                weights = open_.astype(np.float64)
            draw = rng.multinomial(size - counts.sum(), weights / weights.sum())
            counts += np.minimum(draw, stock)
        shards[k] = np.concatenate(
            [pools[c][taken[c] : taken[c] + counts[c]] for c in range(classes)]
        )
        taken += counts
    return shards


def class_shards(
    labels: np.ndarray, classes: int, parts: int, per_shard: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shard k holds classes ``k*c .. k*c+c-1`` (mod C); a class's samples are divided
    evenly among its shards."""
    holders: list[list[int]] = [[] for _ in range(classes)]
    for k in range(parts):
        for j in range(per_shard):
            holders[(k * per_shard + j) % classes].append(k)
    pieces: list[list[np.ndarray]] = [[] for _ in range(parts)]
    for c in range(classes):
        if holders[c]:
            pool = rng.permutation(np.flatnonzero(labels == c))
            for k, piece in zip(holders[c], np.array_split(pool, len(holders[c])), strict=True):
                pieces[k].append(piece)
    return [np.concatenate(p) if p else np.empty(0, dtype=np.int64) for p in pieces]


class ShardSampler:
    """``m`` samples per part, each from its own shard, without replacement epoch after
    epoch (each shard has its own order and cursor)."""

    def __init__(self, shards: list[np.ndarray], m: int, rng: np.random.Generator) -> None:
        self.shards, self.m, self.rng = shards, m, rng
        self.batch = m * len(shards)
        self.orders = [rng.permutation(s) for s in shards]
        self.cursors = [0] * len(shards)

    def _take(self, k: int) -> np.ndarray:
        out: list[np.ndarray] = []
        need = self.m
        while need > 0:
            if self.cursors[k] >= len(self.orders[k]):
                self.orders[k], self.cursors[k] = self.rng.permutation(self.shards[k]), 0
            got = self.orders[k][self.cursors[k] : self.cursors[k] + need]
            self.cursors[k] += len(got)
            need -= len(got)
            out.append(got)
        return np.concatenate(out)

    def next(self) -> np.ndarray:
        return np.concatenate([self._take(k) for k in range(len(self.shards))])

    def state_dict(self) -> dict[str, Any]:
        return {
            "rng": self.rng.bit_generator.state,
            "orders": [torch.from_numpy(o.copy()) for o in self.orders],
            "cursors": list(self.cursors),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.orders = [o.numpy().copy() for o in state["orders"]]
        self.cursors = [int(c) for c in state["cursors"]]


def sampler(
    settings: SplitSettings,
    labels: torch.Tensor,
    classes: int,
    parts: int,
    batch: int,
    rng: np.random.Generator,
    shard_rng: np.random.Generator,
) -> Sampler:
    """The run's batch sampler: the whole set for ``iid``, a shard per part otherwise."""
    if settings.split is Split.iid:
        return BatchSampler(len(labels), batch, rng)
    y = labels.cpu().numpy()
    if settings.split is Split.dirichlet:
        shards = dirichlet_shards(y, classes, parts, settings.alpha, shard_rng)
    else:
        if settings.shard_classes > classes:
            raise ConfigError(
                f"data.shard_classes={settings.shard_classes} exceeds the data set's "
                f"{classes} classes"
            )
        shards = class_shards(y, classes, parts, settings.shard_classes, shard_rng)
    empty = [k for k, s in enumerate(shards) if len(s) == 0]
    if empty:
        raise ConfigError(
            f"data.split={settings.split.value}: shards {empty[:5]} hold no samples "
            f"({parts} parts, {len(y)} training samples); use more samples or fewer parts"
        )
    return ShardSampler(shards, batch // parts, rng)
