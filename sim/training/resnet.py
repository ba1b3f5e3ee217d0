"""ResNet-18 for 32x32 images (He et al. 2016, the CIFAR variant the DRACO paper trains).

Unlike the ImageNet network, the stem is one 3x3 convolution (stride 1) with no
max-pool, so a 32x32 image keeps its resolution through the first stage; four stages of
two basic blocks (64, 128, 256, 512 channels, strides 1, 2, 2, 2), global average
pooling and one linear layer. 11,173,962 parameters for 10 classes.

**Group normalization instead of batch normalization.** Batch norm normalizes each
sample by statistics of the whole batch it came in, so a "part gradient" depends on
which other samples share the forward pass, and the running statistics a real worker
keeps would have to be gathered and averaged by the PS — state the protocol does not
send. Group norm (Wu & He 2018) normalizes each sample by itself, over groups of
channels: a part's gradient is a function of that part's samples and the parameters
only, exactly as the redundant computation DRACO votes on assumes, and the model has no
running statistics to synchronize (training and evaluation compute the same function).
Its affine parameters are the ones batch norm would have, so the parameter count is the
usual one.
"""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from sim.config.ranges import at_least
from sim.training.models import image

WIDTHS = (64, 128, 256, 512)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a shortcut (a 1x1 convolution where the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int, groups: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.norm1 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.relu = nn.ReLU()
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.GroupNorm(groups, cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(
        self,
        in_shape: tuple[int, ...],
        classes: int,
        groups: Annotated[int, at_least(1)] = 32,
    ) -> None:
        """``groups``: channel groups of every group-norm layer (must divide 64)."""
        super().__init__()
        c, _, _ = image(in_shape, "resnet18", 8)
        self.stem = nn.Sequential(
            nn.Conv2d(c, 64, 3, 1, 1, bias=False), nn.GroupNorm(groups, 64), nn.ReLU()
        )
        blocks: list[nn.Module] = []
        cin = 64
        for stage, cout in enumerate(WIDTHS):
            for k in range(2):
                stride = 2 if stage > 0 and k == 0 else 1
                blocks.append(BasicBlock(cin, cout, stride, groups))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(WIDTHS[-1], classes)

    @staticmethod
    def problems(groups: int) -> list[str]:
        if WIDTHS[0] % groups == 0:
            return []
        return [f"groups={groups} must divide 64, the narrowest layer's channels (e.g. 32)"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.blocks(self.stem(x)))
        return self.fc(x.flatten(1))
