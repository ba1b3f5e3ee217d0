"""The math of DRACO's cyclic code: a Reed–Solomon code over the complex numbers.

Pure functions on small complex128 tensors (sizes ``n`` and ``s``, never the model
size ``d``), testable on their own. Notation (docs/architecture.md, "The cyclic code"):

- ``X_p = exp(2πi·p/n)``, the ``n``-th roots of unity, one per worker;
- ``C[p,q] = exp(-2πi·p·q/n)/sqrt(n)``, ``C1 = C[:, :n-2s]``, ``C2 = C[:, n-2s:]``;
  ``C2^H C1 = 0``, so every column of ``C1`` is a codeword with zero syndromes;
- ``W = C1·Q``: worker ``i`` sends ``z_i = sum_j W[i,j] g_j``, ``W[i,j] = 0`` unless it
  holds part ``j``, and ``Q[0,:] = 1`` so ``X[0]`` of ``Y = C1·X`` is ``sum_j g_j``.

Decoding works on one random projection ``y = Y·f`` of the received messages: the
syndromes ``C2^H·y`` vanish for a codeword, erasures (missing rows) are cancelled by the
erasure locator, the Hankel recurrence of what is left finds the error locator, and a
least-squares fit on the remaining rows checks the answer before anything is trusted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

CDTYPE = torch.complex128


def unit_roots(n: int) -> torch.Tensor:
    """``X_p = exp(2πi·p/n)`` for ``p = 0..n-1`` (n,)."""
    return torch.polar(
        torch.ones(n, dtype=torch.float64), 2 * math.pi * torch.arange(n, dtype=torch.float64) / n
    )


def dft(n: int) -> torch.Tensor:
    """``C[p,q] = exp(-2πi·p·q/n)/sqrt(n)`` (n, n); ``p·q`` is reduced mod n first (exact)."""
    pq = (torch.outer(torch.arange(n), torch.arange(n)) % n).double()
    return torch.polar(torch.full((n, n), n**-0.5, dtype=torch.float64), -2 * math.pi * pq / n)


def holds(n: int, s: int) -> torch.Tensor:
    """``H[i,j]``: worker ``i`` computes part ``j``, i.e. ``j ∈ {i, …, i+2s} mod n`` (n, n)."""
    offset = (torch.arange(n)[None, :] - torch.arange(n)[:, None]) % n
    return offset <= 2 * s


def encoding_matrix(n: int, s: int) -> torch.Tensor:
    """``W = C1·Q`` (n, n) complex128, exactly zero where a worker lacks the part.

    Column ``j`` of ``Q``: ``Q[0,j] = 1`` and ``Q[1:,j]`` solves
    ``C1[Z_j, 1:]·Q[1:,j] = -C1[Z_j, 0]`` with ``Z_j`` the ``n-2s-1`` workers that do
    not hold part ``j`` — a Vandermonde system on distinct roots, so it has one solution.
    """
    c1 = dft(n)[:, : n - 2 * s]
    support = holds(n, s)
    q = torch.zeros(n - 2 * s, n, dtype=CDTYPE)
    q[0] = 1
    for j in range(n):
        z = torch.nonzero(~support[:, j]).flatten()
        if len(z):
            q[1:, j] = torch.linalg.solve(c1[z, 1:], -c1[z, 0])
    return torch.where(support, c1 @ q, torch.zeros((), dtype=CDTYPE))


def syndromes(y: torch.Tensor, s: int) -> torch.Tensor:
    """``S = C2^H·y`` (2s,): zero exactly when ``y`` (n,) is a codeword."""
    n = y.shape[0]
    return dft(n)[:, n - 2 * s :].conj().T @ y


def poly_from_roots(roots: torch.Tensor) -> torch.Tensor:
    """Coefficients, lowest degree first, of ``prod_u (z - roots[u])`` (len(roots)+1,)."""
    coeffs = torch.ones(1, dtype=CDTYPE)
    for r in roots:
        coeffs = torch.cat([torch.zeros(1, dtype=CDTYPE), coeffs]) - r * torch.cat(
            [coeffs, torch.zeros(1, dtype=CDTYPE)]
        )
    return coeffs


def modified_syndromes(s_vec: torch.Tensor, erasure_locator: torch.Tensor) -> torch.Tensor:
    """``T_m = sum_j Γ_j S_{m+j}`` (2s-t,): the erased positions drop out of ``T``.

    With ``S_k = sum_u v_u X_u^k`` over the wrong rows ``u`` (erased rows count as wrong:
    their zero differs from the codeword), ``T_m = sum_u v_u Γ(X_u) X_u^m`` and
    ``Γ(X_u) = 0`` on the erasures.
    """
    t = len(erasure_locator) - 1
    m = len(s_vec) - t
    idx = torch.arange(m)[:, None] + torch.arange(t + 1)[None, :]  # (m, t+1)
    return s_vec[idx] @ erasure_locator


def error_locator(t_vec: torch.Tensor, e: int) -> torch.Tensor:
    """``α`` (e,) of ``Λ(z) = z^e - sum_k α_k z^k`` from the Hankel recurrence
    ``T_{m+e} = sum_k α_k T_{m+k}``, solved by least squares (``2e <= len(T)`` rows)."""
    rows = len(t_vec) - e
    idx = torch.arange(rows)[:, None] + torch.arange(e)[None, :]  # (rows, e)
    return torch.linalg.lstsq(t_vec[idx], t_vec[e : e + rows, None]).solution[:, 0]


def locator_values(alpha: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``|Λ(x)|`` for ``Λ(z) = z^e - sum_k α_k z^k`` at the points ``x`` (k,)."""
    e = len(alpha)
    powers = x[:, None] ** torch.arange(e + 1)  # (k, e+1)
    return (powers[:, e] - powers[:, :e] @ alpha).abs()


def codeword_residual(y: torch.Tensor, rows: torch.Tensor, s: int) -> float:
    """Relative distance of ``y[rows]`` from the code restricted to ``rows``:
    ``|y_H - C1[H]·x| / |y_H|`` for the least-squares ``x`` (0 when ``y_H = 0``)."""
    n = y.shape[0]
    a = dft(n)[rows, : n - 2 * s]
    yh = y[rows]
    scale = float(torch.linalg.vector_norm(yh))
    if scale == 0.0:
        return 0.0
    x = torch.linalg.lstsq(a, yh[:, None]).solution[:, 0]
    return float(torch.linalg.vector_norm(yh - a @ x)) / scale


@dataclass(frozen=True)
class Location:
    """What the decoder concluded from one projection."""

    errors: list[int]  # present rows it found wrong
    honest: list[int]  # present rows it trusts (one codeword explains them all)


def locate(y: torch.Tensor, present: torch.Tensor, s: int, tolerance: float) -> Location | None:
    """Errors and erasures: find the fewest ``e`` wrong rows among the ``present`` ones.

    ``y`` (n,) complex128 holds the projected messages (ignored where absent), ``present``
    (n,) bool marks the ``n - t`` rows received. Tries ``e = 0, 1, …`` while
    ``2e + t <= 2s``: the Hankel recurrence of the modified syndromes gives the error
    locator, its ``e`` smallest values over the present rows name the wrong ones, and the
    guess is accepted only if the other rows fit one codeword to within ``tolerance``
    (relative least-squares residual). A row named wrong that fits that codeword too
    (a spurious root of the locator, or a lie within the tolerance) is trusted again:
    nobody is blamed for what the tolerance accepts. ``None`` when no guess passes: the
    errors are beyond what the code can correct, and saying so is all a decoder can
    honestly do.
    """
    n = y.shape[0]
    t = int((~present).sum())
    if t > 2 * s:
        return None
    x = unit_roots(n)
    y0 = torch.where(present, y, torch.zeros((), dtype=CDTYPE))
    t_vec = modified_syndromes(syndromes(y0, s), poly_from_roots(x[~present]))
    rows = torch.nonzero(present).flatten()
    for e in range((2 * s - t) // 2 + 1):
        wrong = torch.empty(0, dtype=torch.long)
        if e:
            alpha = error_locator(t_vec, e)
            wrong = rows[torch.argsort(locator_values(alpha, x[rows]))[:e]]
        keep = rows[~torch.isin(rows, wrong)]
        if codeword_residual(y, keep, s) <= tolerance:
            return trusted_again(y, keep.tolist(), wrong.tolist(), s, tolerance)
    return None


def trusted_again(
    y: torch.Tensor, honest: list[int], wrong: list[int], s: int, tolerance: float
) -> Location:
    """Move back, one at a time, each row named wrong whose value fits the codeword of
    the trusted rows within ``tolerance``."""
    for u in sorted(wrong, key=lambda u: codeword_residual(y, torch.tensor([*honest, u]), s)):
        if codeword_residual(y, torch.tensor(sorted([*honest, u])), s) <= tolerance:
            honest = sorted([*honest, u])
            wrong = [w for w in wrong if w != u]
    return Location(sorted(wrong), sorted(honest))


def blame(y: torch.Tensor, found: Location, s: int) -> float:
    """How clearly the rows ``found`` wrong are wrong: the smallest residual of the
    codeword fit when one of them is trusted again (inf when none was found wrong)."""
    return min(
        (codeword_residual(y, torch.tensor([*found.honest, u]), s) for u in found.errors),
        default=math.inf,
    )


def recovery_weights(honest: list[int], n: int, s: int) -> torch.Tensor:
    """``c`` (|H|,) with ``X[0] = c·Y[H]`` for the least-squares solution of
    ``C1[H]·X = Y[H]``: the first row of ``pinv(C1[H])``. Needs ``|H| >= n - 2s``."""
    return torch.linalg.pinv(dft(n)[honest, : n - 2 * s])[0]
