"""What adversaries send. A strategy maps its workers' honest messages to what they send.

Each strategy is a callable ``(own (a, d), honest, gen) -> list[Tensor | None]``:
``own`` stacks the honest messages of the ``a`` adversarial workers of this iteration,
``honest`` lazily gives the honest workers' messages (``None`` under ``knowledge=none``),
``gen`` is the adversaries' own random stream. ``None`` means "send nothing".

Strategies are dtype-agnostic: messages may be real (float32) or complex (the cyclic
code's), and every formula below holds for both. The strategies in this module need
nothing but their own messages; those that read the honest ones live in
:mod:`sim.adversaries.omniscient`, fault- and data-level ones in :mod:`sim.adversaries.faults`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

import torch

from sim.config.ranges import NonNegative


class Knowledge(Enum):
    omniscient = "omniscient"  # sees this iteration's honest messages
    none = "none"  # sees only its own honest message


HonestView = Callable[[], torch.Tensor]  # () -> (h, d) honest workers' messages
Sent = list[torch.Tensor | None]


class Honest:
    """Follows the protocol (used for ``adversary=none``)."""

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        return list(own)


class Reverse:
    """Reverse gradient: ``-scale * g`` (scale=100 in DRACO's experiments)."""

    def __init__(self, scale: float = 100.0) -> None:
        self.scale = scale

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        return list(-self.scale * own)


class SignFlip:
    """Sign flip of its own message: ``-g`` (reverse with scale 1)."""

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        return list(-own)


class Constant:
    """Every entry equal to ``value`` (-100 in DRACO's experiments)."""

    def __init__(self, value: float = -100.0) -> None:
        self.value = value

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        return list(torch.full_like(own, self.value))


class NaN:
    """Every entry NaN (for complex messages: NaN real and imaginary parts)."""

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        return list(torch.full_like(own, float("nan")))


class Inf:
    """Every entry ``sign * inf``."""

    def __init__(self, sign: float = 1.0) -> None:
        self.sign = 1.0 if sign >= 0 else -1.0

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        return list(torch.full_like(own, self.sign * float("inf")))


class Gaussian:
    """Gaussian noise: ``mean + std * N(0, 1)`` per entry, or added to ``g`` when ``add``.

    Complex messages get circular complex noise with ``E|noise|^2 = std^2``.
    Drawn from the adversaries' own stream, one independent vector per worker.
    """

    def __init__(self, mean: float = 0.0, std: NonNegative = 200.0, add: bool = False) -> None:
        self.mean, self.std, self.add = mean, std, add

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        noise = torch.randn(own.shape, dtype=own.dtype, generator=gen).to(own.device)
        sent = self.mean + self.std * noise
        return list(own + sent if self.add else sent)


class Collude:
    """All adversaries send one identical wrong vector: ``-scale * mean of their own messages``.

    Identical copies are what wins a majority vote once they outnumber the honest ones.
    """

    def __init__(self, scale: float = 100.0) -> None:
        self.scale = scale

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        lie = -self.scale * own.mean(0)
        return [lie] * len(own)
