"""Valid ranges of settings, written next to the parameter they constrain.

A constructor states a parameter's range in its annotation, e.g.
``def __init__(self, tol: NonNegative = 1e-5, max_iter: AtLeastOne = 100)``; the config
layer reads the :class:`Range` out of ``Annotated`` and checks every value before the run,
so constructors can trust their input. The aliases below carry domain meaning; a new
range is ``Annotated[float, Range(test, "what is valid")]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin


@dataclass(frozen=True)
class Range:
    """``test(value)`` is True for a valid value; ``text`` says what is valid."""

    test: Callable[[float], bool] = field(compare=False)  # equal ranges: the same text
    text: str

    def __call__(self, value: float) -> bool:
        return bool(self.test(value))


def at_least(low: float) -> Range:
    return Range(lambda v: v >= low, f">= {low}")


def above(low: float) -> Range:
    return Range(lambda v: low < v < math.inf, f"a finite number > {low}")


def between(low: float, high: float) -> Range:
    return Range(lambda v: low <= v <= high, f"in [{low}, {high}]")


POSITIVE = Range(lambda v: 0 < v < math.inf, "a positive finite number")
NON_NEGATIVE = Range(lambda v: 0 <= v < math.inf, "a finite number >= 0")
FINITE = Range(math.isfinite, "a finite number")
PROBABILITY = Range(lambda v: 0 <= v <= 1, "a probability in [0, 1]")

Positive = Annotated[float, POSITIVE]
NonNegative = Annotated[float, NON_NEGATIVE]
Finite = Annotated[float, FINITE]
Probability = Annotated[float, PROBABILITY]
Seconds = Annotated[float, NON_NEGATIVE]  # a duration on the simulated clock
Count = Annotated[int, at_least(0)]  # how many (adversaries, values trimmed, ...)
AtLeastOne = Annotated[int, at_least(1)]


def range_of(annotation: Any) -> Range | None:
    """The :class:`Range` inside ``Annotated[T, Range]`` (or ``... | None``), else None."""
    if get_origin(annotation) is Annotated:
        return next((a for a in get_args(annotation)[1:] if isinstance(a, Range)), None)
    for arg in get_args(annotation) if get_origin(annotation) in UNIONS else ():
        if (found := range_of(arg)) is not None:
            return found
    return None


UNIONS = (Union, UnionType)
