"""The PS's door: a message that is not a well-formed vector is refused (an erasure).

A real PS receives bytes; anything that does not parse as a ``(d,)`` vector of the
expected dtype is dropped, exactly like a message that never came. Values are not
judged here: NaN, infinities and 1e38 are well-formed and left to the code and the
rule (the repetition vote compares bits; a robust rule must cope or refuse).
"""

from __future__ import annotations

from typing import Any

import torch

from sim.messages import Message, PartSum


def expected_dtype(honest: Message, real: torch.dtype) -> torch.dtype:
    """The dtype an honest worker's message has once materialized."""
    if isinstance(honest, PartSum):
        return torch.complex128 if honest.coeffs.is_complex() else real
    return honest.dtype


def admit(msg: Any, d: int, dtype: torch.dtype, parts: int, device: torch.device) -> Message | None:
    """``msg`` ready for the decoder, or None when it must be treated as an erasure."""
    if isinstance(msg, PartSum):
        ok = isinstance(msg.coeffs, torch.Tensor) and tuple(msg.coeffs.shape) == (parts,)
        return msg if ok else None
    if not isinstance(msg, torch.Tensor) or msg.is_sparse:
        return None
    if tuple(msg.shape) != (d,) or msg.dtype != dtype:
        return None
    return msg.detach().to(device)
