"""The cyclic decoder's two passes over dense messages.

Messages are complex (d,) vectors, seen as one real matrix ``M`` (k, 2d) of interleaved
real and imaginary parts. The decoder needs ``M`` twice: projected on ``f`` (k,) and
combined with complex weights, ``Re(w·Z)`` (d,). Both are matrix products. The
projection accumulates in float64 — a sum of ``10^6`` float32 terms is only good to
~1e-5, and the decoder compares projections at the precision of the messages themselves.
Messages that arrived as rows of one receive buffer are used in place, not copied.
"""

from __future__ import annotations

import numpy as np
import torch

CHUNK = 1 << 16  # columns converted to float64 per step (k x CHUNK stays in cache)


def as_matrix(rows: list[torch.Tensor]) -> torch.Tensor:
    """(k, 2d) real matrix of ``k`` dense (d,) messages; a view when they are evenly
    spaced rows of one buffer, else a copy. Real messages get a zero imaginary part."""
    wide = any(r.dtype in (torch.float64, torch.complex128) for r in rows)
    ctype = torch.complex128 if wide else torch.complex64
    flat = [torch.view_as_real(r.to(ctype)).reshape(-1) for r in rows]  # views if possible
    first = flat[0]
    if len(flat) == 1:
        return first[None]
    if all(x.is_contiguous() for x in flat):
        step = flat[1].storage_offset() - first.storage_offset()
        evenly = all(
            x.untyped_storage().data_ptr() == first.untyped_storage().data_ptr()
            and x.storage_offset() == first.storage_offset() + i * step
            for i, x in enumerate(flat)
        )
        if evenly and step >= first.numel():
            return first.as_strided((len(flat), first.numel()), (step, 1))
    return torch.stack(flat)


def project_rows(m: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """``Z·f`` (k,) complex128 for ``M`` (k, 2d) and ``f`` (d,), accumulated in float64:
    column blocks are converted in cache and multiplied by ``f`` spread over (Re, Im)."""
    k, width = m.shape
    step = min(CHUNK, width)
    buf = torch.empty(k, step, dtype=torch.float64, device=m.device)
    spread = torch.zeros(step, 2, dtype=torch.float64, device=m.device)  # rows: Re f, Im f
    fd = f.to(device=m.device, dtype=torch.float64)
    out = torch.zeros(k, 2, dtype=torch.float64, device=m.device)
    for s in range(0, width, step):
        e = min(width, s + step)
        spread[0 : e - s : 2, 0] = fd[s // 2 : e // 2]
        spread[1 : e - s : 2, 1] = fd[s // 2 : e // 2]
        block = buf[:, : e - s]
        if m.device.type == "cpu":  # numpy converts strided blocks ~3x faster than copy_
            np.copyto(block.numpy(), m[:, s:e].numpy())
        else:
            block.copy_(m[:, s:e])
        out += block @ spread[: e - s]
    return torch.view_as_complex(out)


def combine_rows(m: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``Re(sum_i w_i z_i)`` (d,) for ``M`` (k, 2d) and complex weights ``w`` (k,), in the
    messages' own precision (their rounding already bounds the result's)."""
    a = torch.stack([w.real, -w.imag]).to(m)  # (2, k)
    r = a @ m  # (2, 2d): Re w·Re z and -Im w·Im z, interleaved
    return r[0, 0::2] + r[1, 1::2]
