"""Models trained by the simulated cluster."""

from __future__ import annotations

from typing import Annotated

from torch import nn

from sim.config.ranges import at_least


class MLP(nn.Sequential):
    """Fully connected ReLU network ``in_features -> hidden... -> classes``."""

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
