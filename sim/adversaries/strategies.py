"""What adversaries send. A strategy maps its workers' honest messages to what they send.

Each strategy is a callable ``(own (a, d), honest, gen) -> list[Tensor | None]``:
``own`` stacks the honest messages of the ``a`` adversarial workers of this iteration,
``honest`` lazily gives the honest workers' messages (omniscient strategies only),
``gen`` is the adversaries' own random stream. ``None`` means "send nothing".
"""

from __future__ import annotations

from collections.abc import Callable

import torch

HonestView = Callable[[], torch.Tensor]  # () -> (h, d) honest workers' messages


class Honest:
    """Follows the protocol (used for ``adversary=none``)."""

    def __call__(
        self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator
    ) -> list[torch.Tensor | None]:
        return list(own)


class Reverse:
    """Reverse gradient: ``-scale * g`` (scale=100 in DRACO's experiments)."""

    def __init__(self, scale: float = 100.0) -> None:
        self.scale = scale

    def __call__(
        self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator
    ) -> list[torch.Tensor | None]:
        return list(-self.scale * own)
