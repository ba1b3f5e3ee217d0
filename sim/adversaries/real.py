"""Complex messages as real coordinates, for attacks defined on real vectors.

A complex message of size ``d`` is ``2d`` real numbers (real and imaginary parts). The
attacks' formulas (means, standard deviations, signs, distances) are applied to those
real coordinates, and the result is turned back into a message of the original dtype.
"""

from __future__ import annotations

import torch


def real_rows(x: torch.Tensor) -> torch.Tensor:
    """(k, d) real or complex -> (k, D) real: ``D = d``, or ``2d`` for complex."""
    return torch.view_as_real(x).reshape(x.shape[0], -1) if x.is_complex() else x


def like(v: torch.Tensor, template: torch.Tensor) -> torch.Tensor:
    """(D,) real coordinates -> a (d,) message with ``template``'s dtype."""
    if template.is_complex():
        return torch.view_as_complex(v.reshape(-1, 2).contiguous()).to(template.dtype)
    return v.to(template.dtype)
