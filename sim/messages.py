"""What workers send: real tensors, or honest gradients kept symbolic until needed.

An honest message is a fixed linear combination of the iteration's part gradients
``g_0..g_{P-1}``. Keeping it as its coefficients (:class:`PartSum`) lets copies be
references, lets a vote compare honest copies exactly without touching their values,
and lets a linear rule sum honest parts with one backward pass. Anything an adversary
sends is a materialized tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

Vector = torch.Tensor  # (d,) float32 or complex
MESSAGE_BYTES = 200  # a symbolic message of one part, with the references to it


class PartSum:
    """The symbolic vector ``sum_p coeffs[p] * g_p``.

    A single part ``g_p`` (what a worker of a repetition code, or of no code, sends) is
    kept as its index alone: ``n`` such messages over ``P`` parts cost ``O(n)`` memory,
    not ``n x P`` coefficients; ``coeffs`` spells it out when asked.
    """

    __slots__ = ("_coeffs", "parts", "unit")

    def __init__(
        self, coeffs: torch.Tensor | None = None, *, unit: int | None = None, parts: int = 0
    ) -> None:
        self._coeffs = coeffs  # (P,) float64 or complex128; None for a unit
        self.unit = unit  # p when the message is exactly g_p
        self.parts = int(coeffs.shape[0]) if coeffs is not None else parts

    @property
    def coeffs(self) -> torch.Tensor:
        if self._coeffs is not None:
            return self._coeffs
        out = torch.zeros(self.parts, dtype=torch.float64)
        out[self.unit] = 1.0
        return out

    def same_as(self, other: PartSum) -> bool:
        if self is other:
            return True
        if self.unit is not None and other.unit is not None:
            return self.unit == other.unit and self.parts == other.parts
        return torch.equal(self.coeffs, other.coeffs)

    def __repr__(self) -> str:
        return f"PartSum(unit={self.unit})" if self.unit is not None else f"PartSum({self._coeffs})"


Message = Vector | PartSum
# A worker that computes several parts sends one message per part, in the order of its
# parts (an assignment code with l > 1); None: that copy is not sent.
Bundle = tuple[Message | None, ...]


def one_hot(part: int, parts: int) -> PartSum:
    """The symbolic ``g_part`` of ``parts`` parts."""
    return PartSum(unit=part, parts=parts)


def bits_equal(a: Vector, b: Vector, tolerance: float = 0.0) -> bool:
    """Bitwise equality (NaN-safe: NaN equals the same NaN), or max |a-b| <= tolerance."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if tolerance > 0.0:
        diff = (a - b).abs()
        return bool(torch.all(diff <= tolerance)) and bool(torch.isfinite(diff).all())
    a, b = a.contiguous().view(torch.uint8), b.contiguous().view(torch.uint8)
    if a.numel() % 8 == 0:  # compare 8 bytes at a time: same bits, 4-8x faster
        a, b = a.view(torch.int64), b.view(torch.int64)
    return torch.equal(a, b)


@dataclass(frozen=True, eq=False)
class Combination:
    """``symbolic + dense``: an aggregate whose honest part may still be symbolic."""

    symbolic: PartSum | None
    dense: Vector | None

    def same_as(self, other: Combination, tolerance: float) -> bool | None:
        """True/False when decidable without materializing, else None."""
        if self.dense is None and other.dense is None:
            if self.symbolic is None or other.symbolic is None:
                return self.symbolic is other.symbolic
            a, b = self.symbolic, other.symbolic
            if a.same_as(b) or nearly_equal(a.coeffs, b.coeffs):
                return True
        return None  # only the vectors can tell


def nearly_equal(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-12) -> bool:
    """Coefficients equal up to float64 rounding (``max|a-b| <= rtol * max|b|``), as a
    decoder's least squares leaves them; the vectors then differ far below float32."""
    if a.shape != b.shape:
        return False
    return bool((a - b).abs().max() <= rtol * b.abs().max())


def weighted(weights: list[float], messages: list[Message]) -> Combination:
    """``sum_i weights[i] * messages[i]`` with symbolic messages kept symbolic."""
    coeffs: torch.Tensor | None = None
    dense: torch.Tensor | None = None
    for w, m in zip(weights, messages, strict=True):
        if isinstance(m, PartSum) and m.unit is not None:  # no P-long temporary
            if coeffs is None:
                coeffs = torch.zeros(m.parts, dtype=torch.float64)
            coeffs[m.unit] += w
        elif isinstance(m, PartSum):
            coeffs = w * m.coeffs if coeffs is None else coeffs + w * m.coeffs
        else:
            dense = w * m if dense is None else dense + w * m
    return Combination(None if coeffs is None else PartSum(coeffs), dense)


@dataclass(frozen=True)
class Delayed:
    """A message its sender holds back for ``seconds`` after computing it (a timing
    attack); the PS receives ``message`` that much later. What a strategy returns to
    arrive late on purpose."""

    message: object
    seconds: float
