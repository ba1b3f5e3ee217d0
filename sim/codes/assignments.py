"""Which worker computes which data parts: the assignments of redundant gradient codes.

An assignment lists, for every worker, the parts it computes (sorted). Every scheme
here is biregular: each worker holds ``l`` parts and each part lies on ``r`` workers, so
``n l = P r`` for ``n`` workers and ``P`` parts.

- :func:`frc`: DRACO's fractional repetition (Chen et al., ICML 2018) — groups of ``r``
  consecutive ranks share one part; ``l = 1``, ``P = n / r``.
- :func:`mols`: ByzShield's assignment from mutually orthogonal Latin squares
  (Konstantinidis & Ramamoorthy, MLSys 2021, §3.1).
- :func:`ramanujan`: ByzShield's assignment from the Ramanujan bigraphs of Burnwal &
  Vidyasagar ("Deterministic completion of rectangular matrices using Ramanujan
  bigraphs II", 2020), in its two cases.
- :func:`random_assignment`: a uniformly shuffled biregular assignment.
"""

from __future__ import annotations

import torch

Assignment = list[list[int]]  # worker -> sorted parts it computes


def is_prime(p: int) -> bool:
    return p >= 2 and all(p % k for k in range(2, int(p**0.5) + 1))


def frc(n: int, r: int) -> Assignment:
    """Worker ``w`` computes part ``w // r`` (needs ``n % r == 0``)."""
    return [[w // r] for w in range(n)]


def mols(l: int, r: int) -> Assignment:  # noqa: E741 - l is the papers' name
    """``r l`` workers, ``l^2`` parts: the cells ``(i, j)`` of an ``l x l`` grid, ``l`` prime.

    For prime ``l`` the Latin squares ``L_k(i, j) = (k i + j) mod l``, ``k = 1 .. l-1``,
    are mutually orthogonal. Square ``k`` (``k = 1 .. r``, so ``r <= l - 1``) gives ``l``
    workers: worker ``(k - 1) l + s`` computes the cells ``i l + j`` where ``L_k(i, j) = s``.
    Each worker holds ``l`` parts, each part lies on ``r`` workers (one per square), and
    two workers from different squares share exactly one part.
    """
    return [
        sorted(i * l + j for i in range(l) for j in range(l) if (k * i + j) % l == s)
        for k in range(1, r + 1)
        for s in range(l)
    ]


def ramanujan(m: int, s: int) -> Assignment:
    """The bigraph ``B`` (``s^2 x m s``, ``s`` prime) of ``s x s`` blocks ``P^(a b)``.

    Block row ``a = 0 .. s-1``, block column ``b = 0 .. m-1``; ``P`` is the cyclic shift
    ``P[I, J] = 1`` iff ``J = I + 1 (mod s)``, so ``B[a s + I, b s + J] = 1`` iff
    ``J = I + a b (mod s)``.

    - Case 1, ``m < s``: the ``m s`` columns are the workers, the ``s^2`` rows the parts;
      each worker holds ``s`` parts, each part lies on ``r = m`` workers.
    - Case 2, ``m >= s``: the ``s^2`` rows are the workers, the ``m s`` columns the parts;
      each worker holds ``l = m`` parts, each part lies on ``r = s`` workers.
    """
    if m < s:  # worker (b, J) holds the rows (a, I) with I = J - a b
        return [
            sorted(a * s + (j - a * b) % s for a in range(s)) for b in range(m) for j in range(s)
        ]
    return [sorted(b * s + (i + a * b) % s for b in range(m)) for a in range(s) for i in range(s)]


def random_assignment(n: int, r: int, l: int, gen: torch.Generator) -> Assignment:  # noqa: E741
    """A shuffled biregular assignment: ``P = n l / r`` parts, ``l`` per worker, ``r`` each.

    The ``P r`` copies (part ``p`` ``r`` times) are shuffled with ``gen`` and dealt ``l``
    per worker in rank order; a worker dealt the same part twice then swaps one copy with
    the first copy (in a ``gen``-shuffled order of the others) that removes the repeat
    without making one. Needs ``n l % r == 0`` and ``l <= P``.
    """
    parts = n * l // r
    copies = torch.arange(parts).repeat_interleave(r)[torch.randperm(parts * r, generator=gen)]
    held = [copies[w * l : (w + 1) * l].tolist() for w in range(n)]
    order = torch.randperm(n, generator=gen).tolist()
    for w in range(n):
        for slot in range(l):
            if held[w].count(held[w][slot]) > 1:
                _swap_out(held, w, slot, order)
    return [sorted(h) for h in held]


def _swap_out(held: Assignment, w: int, slot: int, order: list[int]) -> None:
    """Swap ``held[w][slot]`` (a repeat in ``w``) with a copy that fits both workers."""
    p = held[w][slot]
    for v in order:
        if v == w or p in held[v]:
            continue
        for t, q in enumerate(held[v]):
            if q not in held[w]:
                held[w][slot], held[v][t] = q, p
                return
    raise ValueError(f"no swap removes the repeated part {p} of worker {w}")


def holders(assignment: Assignment, parts: int) -> list[list[int]]:
    """Part -> the sorted workers that compute it."""
    out: list[list[int]] = [[] for _ in range(parts)]
    for w, held in enumerate(assignment):
        for p in held:
            out[p].append(w)
    return out
