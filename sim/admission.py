"""The PS's door: a message that is not a well-formed vector is refused (an erasure).

A real PS receives bytes; anything that does not parse as a ``(d,)`` vector of the
expected dtype is dropped, exactly like a message that never came. Values are not
judged here: NaN, infinities and 1e38 are well-formed and left to the code and the
rule (the repetition vote compares bits; a robust rule must cope or refuse).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import torch

from sim.messages import Bundle, Message, PartSum

M = TypeVar("M", Message, Bundle)  # a message or a bundle, kept as it came


def expected_dtype(honest: Message, real: torch.dtype) -> torch.dtype:
    """The dtype an honest worker's message has once materialized."""
    if isinstance(honest, PartSum):
        return torch.complex128 if honest.unit is None and honest.coeffs.is_complex() else real
    return honest.dtype


def admit(msg: Any, d: int, dtype: torch.dtype, parts: int, device: torch.device) -> Message | None:
    """``msg`` ready for the decoder, or None when it must be treated as an erasure."""
    if isinstance(msg, PartSum):
        return msg if msg.parts == parts else None
    if not isinstance(msg, torch.Tensor) or msg.is_sparse:
        return None
    if tuple(msg.shape) != (d,) or msg.dtype != dtype:
        return None
    return msg.detach().to(device)


def admit_bundle(
    msg: Any, size: int, d: int, dtype: torch.dtype, parts: int, device: torch.device
) -> Bundle | None:
    """A bundle of ``size`` messages (one per part a worker holds) ready for the decoder.

    Each entry is admitted like a single message; a ``None`` entry is a copy not sent.
    Anything but a tuple of ``size``, or a bundle with one malformed entry, is refused
    whole: it is one message, and it does not parse.
    """
    if not isinstance(msg, tuple) or len(msg) != size:
        return None
    out: list[Message | None] = []
    for v in msg:
        ok = None if v is None else admit(v, d, dtype, parts, device)
        if v is not None and ok is None:
            return None
        out.append(ok)
    return tuple(out)


def admit_as(
    msg: Any, honest: Message | Bundle, d: int, real: torch.dtype, parts: int, device: torch.device
) -> Message | Bundle | None:
    """``msg`` admitted in the shape of the honest message it replaces: a bundle where the
    worker holds several parts (:func:`admit_bundle`), one message otherwise."""
    if isinstance(honest, tuple):
        first = next(m for m in honest if m is not None)
        return admit_bundle(msg, len(honest), d, expected_dtype(first, real), parts, device)
    return admit(msg, d, expected_dtype(honest, real), parts, device)


def computed(compute: Callable[[Message], Message], honest: M) -> M:
    """``compute`` applied to a message, or to each message of a bundle."""
    if isinstance(honest, tuple):
        return tuple(None if m is None else compute(m) for m in honest)
    return compute(honest)
