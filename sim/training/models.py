"""Models trained by the simulated cluster.

Every model is built from the data it will see: ``in_features`` (values per sample),
``classes``, and ``in_shape``, the shape of one sample as the model receives it
(``(features,)`` for vectors, ``(channels, height, width)`` for images). Its forward
maps ``(batch, *in_shape)`` to ``(batch, classes)`` logits.
"""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from sim.config.errors import ConfigError
from sim.config.ranges import at_least


class MLP(nn.Sequential):
    """Fully connected ReLU network ``in_features -> hidden... -> classes``; images are
    flattened first."""

    def __init__(
        self,
        in_features: int,
        classes: int,
        hidden: Annotated[list[int], at_least(1)] = [128, 128],  # noqa: B006 (never mutated)
    ) -> None:
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(sizes[-1], classes))
        super().__init__(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.flatten(1))  # a (batch, features) input is returned as is


def batch_norm_problem(model: nn.Module) -> str | None:
    """Why a model with batch norm cannot be simulated honestly (None without one).

    Batch norm normalizes a sample with its batch's statistics: a part's gradient would
    depend on how the simulator batches samples rather than on the part alone, and each
    worker's running statistics would have to reach the PS, which the protocol does not
    send. Group norm normalizes each sample by itself."""
    found = [
        name
        for name, mod in model.named_modules()
        if isinstance(mod, nn.modules.batchnorm._BatchNorm)
    ]
    if not found:
        return None
    return (
        f"the model has batch-norm layers ({', '.join(found[:3])}): a part's gradient would "
        f"depend on the simulator's batching and the running statistics are never sent to "
        f"the PS; use nn.GroupNorm (as model=resnet18 does) or no normalization"
    )


def image(in_shape: tuple[int, ...], model: str, smallest: int) -> tuple[int, int, int]:
    """``in_shape`` as (channels, height, width), or an error naming what was given."""
    if len(in_shape) != 3:
        raise ConfigError(
            f"model={model} needs image data, samples of shape (channels, height, width); "
            f"the data set gives samples of shape {tuple(in_shape)} (use data=mnist_synthetic, "
            f"mnist, cifar10_synthetic or cifar10, or model=mlp)"
        )
    c, h, w = (int(v) for v in in_shape)
    if min(h, w) < smallest:
        raise ConfigError(f"model={model} needs images of at least {smallest}x{smallest}: {h}x{w}")
    return c, h, w


class LeNet(nn.Module):
    """The classic MNIST convolutional network (LeCun et al. 1998, in the form PyTorch's
    MNIST example and DRACO's code train): conv 5x5 (20) -> max-pool 2 -> conv 5x5 (50)
    -> max-pool 2 -> fully connected 500 -> classes, ReLU between. 431,080 parameters on
    28x28 MNIST."""

    def __init__(self, in_shape: tuple[int, ...], classes: int) -> None:
        super().__init__()
        c, h, w = image(in_shape, "lenet", 16)
        side = lambda v: ((v - 4) // 2 - 4) // 2  # noqa: E731 (two valid 5x5 convs, two pools)
        self.conv1 = nn.Conv2d(c, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(50 * side(h) * side(w), 500)
        self.fc2 = nn.Linear(500, classes)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        return self.fc2(self.relu(self.fc1(x.flatten(1))))


class CNNCifar(nn.Module):
    """A small CIFAR network that trains on a laptop CPU in minutes: three blocks of
    conv 3x3 (32, 64, 128 channels, padding 1) + ReLU + max-pool 2, then fully connected
    128 -> classes. 356,810 parameters on 32x32x3 images."""

    def __init__(self, in_shape: tuple[int, ...], classes: int) -> None:
        super().__init__()
        c, h, w = image(in_shape, "cnn_cifar", 8)
        blocks: list[nn.Module] = []
        for a, b in ((c, 32), (32, 64), (64, 128)):
            blocks += [nn.Conv2d(a, b, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Linear(128 * (h // 8) * (w // 8), 128), nn.ReLU(), nn.Linear(128, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))
