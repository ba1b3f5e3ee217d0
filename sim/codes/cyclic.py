"""DRACO's cyclic code (Chen et al. 2018, §5): redundancy ``2s+1`` over the complex numbers.

There are ``n`` data parts per iteration and worker ``i`` computes parts
``{i, …, i+2s} mod n``, sending the complex combination ``z_i = sum_j W[i,j] g_j``
(:func:`sim.codes.dft.encoding_matrix`). The PS decodes *errors and erasures*: up to
``e`` wrong messages and ``t`` missing ones while ``2e + t <= 2s``, and returns the mean
of the part gradients, ``sum_j g_j / n``, exactly (to complex128 rounding).

Decoding looks at one random projection ``y_i = z_i·f`` of every message, with
``f ~ N(0,1)^d`` drawn **fresh and private** each iteration from the PS's own stream: an
error orthogonal to a known ``f`` would be invisible (``fresh_projection=false`` keeps
one ``f`` forever, to show that). When no set of rows explains the projections — more
errors than the code corrects — the decoder reports a failure and returns nothing,
never a guess. Rows fit when they miss one codeword by at most ``code.tolerance``, or by
the rounding floor of a coarser dtype (:meth:`CyclicCode._tolerance`): a lie below that
floor passes as rounding (docs/architecture.md, "The cyclic code's precision"); a row
named wrong that fits within it is trusted again. Dense messages are projected blocked
first (:mod:`sim.codes.dense`:
a few roundings of their own precision, at the cost of one pass); a failure, or an
answer that blames a row which would fit the codeword within ``DOUBT`` tolerances, is
decided again on float64 projections. The fast path's own rounding stays far below
that margin, so it cannot turn a decodable iteration into a failure or have an honest
worker blamed; it can only let through a lie of about its own size.

Honest messages stay symbolic: the projection of ``PartSum(a)`` is ``a·(G f)`` (one
call to ``project``), and when every trusted row is symbolic, so is the result.
``honest_messages()`` starts an iteration: it forgets the cached projections and, when
projections are fresh, the old ``f``.
"""

from __future__ import annotations

import cmath
import math
from typing import Annotated

import torch

from sim.codes.base import Arrivals, Decoded, Materialize, Project
from sim.codes.dense import as_matrix, combine_rows, project_rows
from sim.codes.dft import CDTYPE, Location, blame, encoding_matrix, locate, recovery_weights
from sim.config.ranges import Count, Range
from sim.messages import Message, PartSum, one_hot

FLOOR = 32  # rounding units of the projections a fit may miss by (see _tolerance)
DOUBT = 16  # blame by less than this many tolerances is decided again in float64


RELATIVE = Range(lambda v: 0 <= v < 1, "in [0, 1) (relative)")


class CyclicCode:
    def __init__(
        self,
        n: int,
        s: Count = 1,
        tolerance: Annotated[float, RELATIVE] = 1e-10,
        fresh_projection: bool = True,
        gen: torch.Generator | None = None,
    ) -> None:
        """``s``: errors corrected (every worker computes ``2s+1`` parts); ``tolerance``:
        relative least-squares residual still "one codeword"; ``fresh_projection=false``
        reuses one projection forever (to show the attack it invites)."""
        self.n, self.s, self.parts = n, s, n
        self.candidates = 1  # the decoder hands the rule one vector: the recovered mean
        self.tolerance, self.fresh_projection = tolerance, fresh_projection
        self.gen = gen if gen is not None else torch.Generator().manual_seed(0)
        self.W = encoding_matrix(n, s)  # (n, n) complex128
        self._honest = [PartSum(self.W[i]) for i in range(n)]
        self.f: torch.Tensor | None = None  # this iteration's projection (d,)
        self._gf: torch.Tensor | None = None  # (P,) g_p·f
        self._y: dict[int, tuple[Message, complex, bool]] = {}  # (row, y_i, exact)

    @staticmethod
    def footprint(n: int, **_: object) -> tuple[int, int]:
        """(data parts, bytes of its complex128 tables: the DFT code and encoding matrix)."""
        return n, 3 * n * n * 16

    @staticmethod
    def problems(n: int, s: int, **_: object) -> list[str]:
        if n >= 2 * s + 1:
            return []
        return [
            f"code.s={s} needs cluster.workers >= 2s+1 = {2 * s + 1} (got {n}); "
            f"with {n} workers code.s can be at most {(n - 1) // 2}"
        ]

    def load(self, rank: int) -> int:
        return 2 * self.s + 1

    def message_bytes(self, d: int) -> int:
        return 8 * d  # complex64 on the wire, whatever precision the PS decodes in

    def groups(self) -> list[list[int]]:
        return [list(range(self.n))]  # one codeword: every worker must agree with it

    def honest_messages(self) -> list[Message]:
        self._gf, self._y = None, {}
        if self.fresh_projection:
            self.f = None
        return list(self._honest)

    # ------------------------------------------------------------------ projections

    def projection(self, d: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """This iteration's ``f`` (d,) float32, drawn on first use from the PS's stream."""
        if self.f is None or self.f.numel() != d:
            self.f = torch.randn(d, generator=self.gen, dtype=torch.float32)
        return self.f.to(device)

    def _symbolic_projection(
        self,
        coeffs: torch.Tensor,
        f: torch.Tensor,
        materialize: Materialize,
        project: Project | None,
    ) -> complex:
        if self._gf is None:  # (P,) g_p·f, once per iteration
            if project is None:  # no fast path: materialize every part
                parts = [materialize(one_hot(p, self.parts)) for p in range(self.parts)]
                gf = torch.stack(parts) @ f.to(parts[0].dtype)
            else:
                gf = project(f)
            self._gf = gf.to(device="cpu", dtype=CDTYPE)
        return complex(coeffs.to(CDTYPE) @ self._gf)

    def _projections(
        self,
        received: dict[int, Message],
        materialize: Materialize,
        project: Project | None,
        exact: bool,
    ) -> dict[int, complex]:
        """``y_i = z_i·f`` of every message, each computed once per iteration (a dense
        one again if ``exact`` is asked for and it was only blocked so far)."""
        fresh = {
            i: m
            for i, m in received.items()
            if i not in self._y or self._y[i][0] is not m or (exact and not self._y[i][2])
        }
        dense = {i: m for i, m in fresh.items() if not isinstance(m, PartSum)}
        shape = [m for m in received.values() if not isinstance(m, PartSum)]
        if not shape:  # only symbolic rows, not all honest: one part shows d
            shape = [materialize(one_hot(0, self.parts))]
        f = self.projection(shape[0].numel(), shape[0].device)
        if dense:
            ys = project_rows(as_matrix(list(dense.values())), f, exact).cpu()
            for (i, row), value in zip(dense.items(), ys.tolist(), strict=True):
                self._y[i] = (row, complex(value), exact)
        for i, m in fresh.items():
            if isinstance(m, PartSum):
                value = self._symbolic_projection(m.coeffs, f, materialize, project)
                self._y[i] = (m, value, True)
        return {i: self._y[i][1] for i in received}

    def _tolerance(self, received: dict[int, Message]) -> float:
        """The relative residual rows may miss one codeword by: ``code.tolerance``, or the
        rounding of the dense rows' own dtype if coarser.

        Rounding each message to unit roundoff ``u`` moves its projection by about
        ``u |y_i|``; the part of that outside the code, relative to ``|y|``, is about
        ``u sqrt(2s / n)``. Measured on honest complex64 messages (n <= 45, every s):
        below 5 such units when each message is rounded once, up to 19 when it was
        encoded in float32 arithmetic and ``n - 2s`` is 3 (the code at its least well
        conditioned). The floor is ``FLOOR`` units: a lie on one row is then missed only
        when its projection is below about ``FLOOR u |y|`` (the ``sqrt(2s/n)`` of its
        own residual cancels)."""
        dense = [m for m in received.values() if not isinstance(m, PartSum)]
        u = max((torch.finfo(m.real.dtype).eps / 2 for m in dense), default=0.0)
        return max(self.tolerance, FLOOR * u * math.sqrt(2 * self.s / self.n))

    def _locate(
        self, received: dict[int, Message], materialize: Materialize, project: Project | None
    ) -> tuple[Location | None, set[int]]:
        """(where the errors are, or None if undecodable; rows with non-finite values).

        Dense rows are first projected blocked (fast, off by a few roundings of their own
        precision). That answer is kept when it is clear; a failure, or an answer that
        blames a row which, trusted again, misses the codeword by less than ``DOUBT``
        tolerances (that might be the rounding), is decided again on float64 projections."""
        n, s = self.n, self.s
        if all(isinstance(m, PartSum) and m.same_as(self._honest[i]) for i, m in received.items()):
            # every row is exactly its honest codeword row: nothing to look for
            ok = n - len(received) <= 2 * s
            return (Location([], sorted(received)) if ok else None), set()
        tol = self._tolerance(received)
        found, broken, y = self._locate_with(received, materialize, project, tol, exact=False)
        dense = any(not isinstance(m, PartSum) for m in received.values())
        if (
            dense
            and n - len(received) <= 2 * s
            and (found is None or blame(y, found, s) <= DOUBT * tol)
        ):
            found, broken, _ = self._locate_with(received, materialize, project, tol, exact=True)
        return found, broken

    def _locate_with(
        self,
        received: dict[int, Message],
        materialize: Materialize,
        project: Project | None,
        tolerance: float,
        exact: bool,
    ) -> tuple[Location | None, set[int], torch.Tensor]:
        """(errors or None, non-finite rows, the projections ``y`` (n,) they came from)."""
        values = [0j] * self.n
        present = torch.zeros(self.n, dtype=torch.bool)
        broken: set[int] = set()
        projections = self._projections(received, materialize, project, exact)
        for i, value in projections.items():
            if cmath.isfinite(value):
                values[i], present[i] = value, True
            else:  # a NaN/Inf message is wrong at a known place: an erasure
                broken.add(i)
        y = torch.tensor(values, dtype=CDTYPE)
        return locate(y, present, self.s, tolerance), broken, y

    # ------------------------------------------------------------------ decoding

    def _recover(
        self,
        honest: list[int],
        received: dict[int, Message],
        materialize: Materialize,
        broken: set[int],
    ) -> Message:
        """``Re(X[0]) / n`` from the trusted rows: symbolic if they all are."""
        c = dict(zip(honest, recovery_weights(honest, self.n, self.s) / self.n, strict=True))
        coeffs: torch.Tensor | None = None
        for i in honest:
            m = received[i]
            if isinstance(m, PartSum):
                term = c[i] * m.coeffs.to(CDTYPE)
                coeffs = term if coeffs is None else coeffs + term
        symbolic = None if coeffs is None else PartSum(coeffs.real.clone())
        # every dense row in one product, weight 0 for the untrusted (unless non-finite)
        rows = {i: m for i, m in sorted(received.items()) if not isinstance(m, PartSum)}
        rows = {i: m for i, m in rows.items() if i in c or not broken}
        if not any(i in c for i in rows):
            assert symbolic is not None
            return symbolic
        w = torch.stack([c.get(i, torch.zeros((), dtype=CDTYPE)) for i in rows])
        dense = combine_rows(as_matrix(list(rows.values())), w)
        if symbolic is not None:
            dense = dense + materialize(symbolic)
        return dense

    def decode(
        self, received: dict[int, Message], materialize: Materialize, project: Project | None = None
    ) -> Decoded:
        found, broken = self._locate(received, materialize, project)
        if found is None:
            return Decoded([], failures=1, suspects=broken)
        out = self._recover(found.honest, received, materialize, broken)
        return Decoded([out], suspects=broken | set(found.errors))

    def decodable(
        self, received: dict[int, Message], materialize: Materialize, project: Project | None = None
    ) -> bool:
        """``n - s`` received rows agree on one codeword.

        Among them at most ``s`` are adversarial (the code's assumption), so at least
        ``n - 2s`` are honest, and ``n - 2s`` rows fix the codeword: no later arrival can
        change the result. Decoding with fewer rows (down to ``n - 2s``, when the PS
        stops for another reason) only holds if the missing rows were the liars.
        """
        found, _ = self._locate(received, materialize, project)
        return found is not None and len(found.honest) >= self.n - self.s

    def decode_ops(self, received: int, d: int) -> float:
        return 4.0 * received * d  # projection and recovery, one complex pass each

    def arrivals(self) -> Arrivals:
        return Codeword(self.n, self.s)


class Codeword:
    """Decodable as :meth:`CyclicCode.decodable` decides it, from counts: the ``e`` forged
    rows and ``t`` missing ones are within the bound (``2e + t <= 2s``) and at least
    ``n - s`` honest rows agree on the codeword."""

    def __init__(self, n: int, s: int) -> None:
        self.n, self.s, self.honest, self.forged = n, s, 0, 0

    def add(self, rank: int, honest: bool) -> bool:
        self.honest += honest
        self.forged += not honest
        missing = self.n - self.honest - self.forged
        return self.honest >= self.n - self.s and 2 * self.forged + missing <= 2 * self.s
