"""The cyclic decoder's two passes over dense messages.

Messages are complex (d,) vectors, seen as one real matrix ``M`` (k, 2d) of interleaved
real and imaginary parts. The decoder needs ``M`` twice: projected on ``f`` (k,) and
combined with complex weights, ``Re(w·Z)`` (d,). Both are matrix products.

The decoder compares projections at the precision of the messages themselves, and a
plain float32 sum of ``10^6`` terms is only good to ~1e-5. So the projection sums the
products in blocks of ``BLOCK`` terms (one batched matrix product, in the messages'
precision) and the block sums in float64: a few float32 roundings, at the speed of one
float32 pass. ``exact=True`` accumulates everything in float64 instead (column blocks
converted one at a time), about twice the time; the decoder decides with it again
when the fast answer is a failure or a faint blame. Messages that arrived as rows of
one receive buffer are used in place, not copied.
"""

from __future__ import annotations

import numpy as np
import torch

BLOCK = 64  # products summed in the messages' precision before float64 takes over
CHUNK = 1 << 15  # complex entries converted to float64 per step by the exact projection


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


def project_rows(m: torch.Tensor, f: torch.Tensor, exact: bool = False) -> torch.Tensor:
    """``Z·f`` (k,) complex128 for ``M`` (k, 2d) and ``f`` (d,): blocked (see above), or
    accumulated in float64 throughout when ``exact``."""
    k, width = m.shape
    eye = torch.eye(2, dtype=m.dtype, device=m.device)  # rows 2j, 2j+1: (f_j, 0), (0, f_j)
    spread = (f.to(device=m.device, dtype=m.dtype)[:, None, None] * eye).reshape(width, 2)
    if exact:
        return torch.view_as_complex(_project_float64(m, spread))
    head = width - width % BLOCK
    out = torch.zeros(k, 2, dtype=torch.float64, device=m.device)
    if head:
        blocks = m[:, :head].view(k, head // BLOCK, BLOCK).transpose(0, 1)  # (blocks, k, B)
        sums = torch.bmm(blocks, spread[:head].view(head // BLOCK, BLOCK, 2))
        out += sums.sum(0, dtype=torch.float64)
    if head < width:
        out += m[:, head:].double() @ spread[head:].double()
    return torch.view_as_complex(out)


def _project_float64(m: torch.Tensor, spread: torch.Tensor) -> torch.Tensor:
    """``M @ spread`` (k, 2) in float64, converting ``CHUNK`` columns at a time."""
    k, width = m.shape
    step = min(2 * CHUNK, width)
    buf = torch.empty(k, step, dtype=torch.float64, device=m.device)
    out = torch.zeros(k, 2, dtype=torch.float64, device=m.device)
    for s in range(0, width, step):
        e = min(width, s + step)
        block = buf[:, : e - s]
        if m.device.type == "cpu":  # numpy converts strided blocks ~3x faster than copy_
            np.copyto(block.numpy(), m[:, s:e].numpy())
        else:
            block.copy_(m[:, s:e])
        out += block @ spread[s:e].double()
    return out


def combine_rows(m: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``Re(sum_i w_i z_i)`` (d,) for ``M`` (k, 2d) and complex weights ``w`` (k,), in the
    messages' own precision (their rounding already bounds the result's)."""
    a = torch.stack([w.real, -w.imag]).to(m)  # (2, k)
    r = a @ m  # (2, 2d): Re w·Re z and -Im w·Im z, interleaved
    return r[0, 0::2] + r[1, 1::2]
