"""The code-aware worst case: the workers whose corruption distorts the most parts.

Given an assignment (per data part, the workers holding it) and ``q`` adversaries, find

    A* = argmax_{|A| = q} #{parts p : |A ∩ holders(p)| > |holders(p)| / 2},

the parts whose majority vote the adversaries win (ByzShield, Konstantinidis &
Ramamoorthy, MLSys 2021, §3: the "worst-case choice of adversaries" behind its
``epsilon``). The problem is a maximum-coverage variant and NP-hard in general.

Method (:func:`most_distorting`):

1. Heuristic incumbent: greedy (add the worker that most raises the count, ties broken
   by most parts brought closer to a majority, then by the smaller rank), then 1-swap
   hill climbing (replace one chosen worker by one unchosen while the count rises).
2. Exact branch and bound over workers in rank order (include / exclude), pruned by
   :func:`upper_bound`, for at most ``budget`` search nodes. When the search finishes
   the answer is optimal (``gap = 0``); otherwise the incumbent is returned with the
   gap to the root's upper bound, ``gap = bound - distorted`` parts.

Upper bound (:func:`upper_bound`): with ``k`` workers still to pick, part ``p`` needs
``m_p`` more of its undecided holders; every pick adds one to at most ``L`` parts (the
most parts one undecided worker holds), so at most the parts with the smallest needs
whose needs sum to ``<= k L`` can still be won.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Worst:
    ranks: list[int]  # the chosen adversaries, sorted
    distorted: int  # parts whose majority they hold
    bound: int  # an upper bound on any choice's distorted parts
    exact: bool  # the search finished: ``distorted`` is the optimum

    @property
    def gap(self) -> int:
        return self.bound - self.distorted


def _held(holders: Sequence[Sequence[int]], n: int) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(n)]
    for p, ws in enumerate(holders):
        for w in ws:
            out[w].append(p)
    return out


def count(holders: Sequence[Sequence[int]], chosen: Sequence[int]) -> int:
    """Parts whose holders are in a strict majority in ``chosen``."""
    bad = set(chosen)
    return sum(1 for ws in holders if 2 * sum(w in bad for w in ws) > len(ws))


def upper_bound(
    needs: Sequence[int], free_holders: Sequence[int], picks: int, per_pick: int
) -> int:
    """Parts already won plus those that ``picks`` more workers could still win.

    ``needs[p]``: adversaries part ``p`` still lacks (``<= 0``: won); ``free_holders[p]``:
    its holders not yet decided; ``per_pick``: most parts one undecided worker holds.
    """
    won = sum(1 for m in needs if m <= 0)
    open_needs = sorted(m for m, h in zip(needs, free_holders, strict=True) if 0 < m <= h)
    slots, more = picks * per_pick, 0
    for m in open_needs:
        if m > slots or m > picks:
            break
        slots -= m
        more += 1
    return won + more


def _greedy(
    holders: Sequence[Sequence[int]], held: list[list[int]], q: int, pool: list[int]
) -> list[int]:
    have = [0] * len(holders)
    maj = [len(ws) // 2 + 1 for ws in holders]
    chosen: list[int] = []
    for _ in range(q):

        def gain(w: int) -> tuple[int, int, int]:
            won = sum(1 for p in held[w] if have[p] + 1 == maj[p])
            closer = sum(1 for p in held[w] if have[p] < maj[p])
            return won, closer, -w

        best = max((w for w in pool if w not in chosen), key=gain)
        chosen.append(best)
        for p in held[best]:
            have[p] += 1
    return chosen


def _climb(holders: Sequence[Sequence[int]], chosen: list[int], pool: list[int]) -> list[int]:
    value = count(holders, chosen)
    improved = True
    while improved:
        improved = False
        for i in range(len(chosen)):
            for w in pool:
                if w in chosen:
                    continue
                trial = [*chosen[:i], w, *chosen[i + 1 :]]
                v = count(holders, trial)
                if v > value:
                    chosen, value, improved = trial, v, True
                    break
            if improved:
                break
    return chosen


def most_distorting(
    q: int,
    holders: Sequence[Sequence[int]],
    n: int,
    taken: frozenset[int] = frozenset(),
    budget: int = 200_000,
) -> Worst:
    """The ``q`` workers (none of ``taken``) that win the most parts' majorities."""
    pool = [w for w in range(n) if w not in taken]
    q = min(q, len(pool))
    held = _held(holders, n)
    per_pick = max((len(held[w]) for w in pool), default=0)
    best = sorted(_climb(holders, _greedy(holders, held, q, pool), pool)) if q else []
    best_value = count(holders, best)
    needs = [len(ws) // 2 + 1 for ws in holders]  # taken workers are honest here
    free = [sum(w not in taken for w in ws) for ws in holders]
    root = upper_bound(needs, free, q, per_pick)
    nodes = 0
    chosen: list[int] = []

    def search(i: int) -> bool:  # False: out of budget
        nonlocal nodes, best, best_value
        nodes += 1
        if nodes > budget:
            return False
        left = q - len(chosen)
        if left == 0:
            value = sum(1 for m in needs if m <= 0)
            if value > best_value:
                best, best_value = sorted(chosen), value
            return True
        if len(pool) - i < left or upper_bound(needs, free, left, per_pick) <= best_value:
            return True
        w = pool[i]
        for p in held[w]:  # include w
            needs[p] -= 1
            free[p] -= 1
        chosen.append(w)
        ok = search(i + 1)
        chosen.pop()
        for p in held[w]:
            needs[p] += 1
        if not ok:
            for p in held[w]:
                free[p] += 1
            return False
        ok = search(i + 1)  # exclude w (it stays undecided no more)
        for p in held[w]:
            free[p] += 1
        return ok

    exact = search(0) if q else True
    return Worst(best, best_value, best_value if exact else max(root, best_value), exact)
