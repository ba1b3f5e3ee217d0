"""Anti-decoder: an error the PS cannot see through a projection the adversary knows.

A decoder that compresses every message ``z_i`` to ``z_i . f`` with a random projection
``f`` locates liars from those scalars only. An error ``e`` with ``e . f = 0`` leaves
the projected values untouched, so such a decoder accepts the corrupted message. A fresh
private projection per iteration (what DRACO's cyclic decoder draws) defeats this; a
projection reused from a known seed does not. The shared projection is
:func:`shared_projection` ``(d, seed)``: ``N(0, 1)^d`` in float64 from
``torch.Generator().manual_seed(seed)`` — a decoder that reuses its projection from the
same seed and formula is the one this strategy is built to fool.

When the run's code keeps one projection for good (a code with ``fresh_projection``
false and a ``projection(d, device)`` method, e.g. ``code=cyclic
code.fresh_projection=false``), the adversary uses that projection instead: a
projection that never changes can be learned, which is the threat this strategy models.
A fresh projection is never read (that would also shift the PS's random stream).
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from sim.adversaries.strategies import HonestView, Sent


@functools.lru_cache(maxsize=8)
def shared_projection(d: int, seed: int) -> torch.Tensor:
    """The documented reusable projection: (d,) float64 standard normal from ``seed``."""
    return torch.randn(d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def orthogonal_error(v: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """``v`` minus its component along ``f``: ``(v - (f.v / f.f) f) . f = 0`` (real or complex)."""
    v64 = v.to(torch.complex128 if v.is_complex() else torch.float64)
    f64 = f.to(v64)
    return (v64 - (f64 @ v64) / (f64 @ f64) * f64).to(v.dtype)


class AntiDecoder:
    """Sends ``g + e``: ``e`` = ``-scale * g`` with its component along the projection removed."""

    def __init__(self, scale: float = 100.0, seed: int = 0, code: Any = None) -> None:
        self.scale, self.seed = scale, seed
        reused = code is not None and getattr(code, "fresh_projection", True) is False
        self._code = code if reused and hasattr(code, "projection") else None
        self.projection = "decoder's reused" if self._code is not None else f"shared(seed={seed})"

    def known_projection(self, d: int, device: torch.device) -> torch.Tensor:
        if self._code is not None:
            return self._code.projection(d, device)
        return shared_projection(d, self.seed).to(device)

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        f = self.known_projection(own.shape[-1], own.device)
        return [g + orthogonal_error(-self.scale * g, f) for g in own]
