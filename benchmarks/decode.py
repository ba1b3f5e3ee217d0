"""Decode cost of DRACO's two codes against a plain mean and a geometric median.

One run, side by side, on the messages a PS receives from real workers (dense, as on
the wire): ``n = 45`` workers, ``d = 10^6`` parameters, ``s = 2`` adversaries sending
``-100x`` their message.

- repetition (``r = 5``, 9 groups): float32 messages, bitwise majority vote per group;
- cyclic (``s = 2``, 45 parts): complex64 messages (8·d bytes, the wire format), decoded
  with a fresh projection, complex128 locator algebra and a least-squares recovery; once
  as the decoder runs (blocked projection), once with every answer decided again on
  float64 projections (what a reported failure costs);
- baselines on the same messages: their plain mean and their geometric median
  (smoothed Weiszfeld, `sim.aggregators.geomed`); the cyclic code's complex64 messages
  count as real vectors of length 2d. For reference, the cyclic decode is also compared
  with the geometric median over the float32 messages of an uncoded run (half the bytes).

Every timing is the median of interleaved repeats, single-threaded by default (on a
shared CPU, a second thread mostly measures the neighbours). Ratios are printed last.
``python benchmarks/decode.py [--n 45] [--d 1000000] [--repeats 5] [--threads 1]``
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's `sim`

from sim.aggregators.geomed import GeometricMedian
from sim.aggregators.mean import Mean
from sim.codes import cyclic
from sim.codes.cyclic import CyclicCode
from sim.codes.dft import CDTYPE
from sim.codes.repetition import RepetitionCode
from sim.messages import Message

S = 2  # adversaries; repetition r = 2s+1, cyclic code.s = s


def identity(m: Message) -> torch.Tensor:
    assert isinstance(m, torch.Tensor)
    return m


def cyclic_messages(code: CyclicCode, g: torch.Tensor, chunk: int = 1 << 17) -> torch.Tensor:
    """``W·G`` (n, d) computed in complex128, rounded to complex64 as on the wire."""
    out = torch.empty(code.n, g.shape[1], dtype=torch.complex64)
    for start in range(0, g.shape[1], chunk):
        block = g[:, start : start + chunk].to(CDTYPE)
        out[:, start : start + chunk] = code.W @ block
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm((a - b).double()) / torch.linalg.vector_norm(b.double()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=45)
    ap.add_argument("--d", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: steady on a shared CPU)"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    n, d, r = args.n, args.d, 2 * S + 1
    gen = torch.Generator().manual_seed(0)

    rep = RepetitionCode(n, r=r)
    parts = torch.randn(rep.parts, d, generator=gen)
    flat = parts.repeat_interleave(r, dim=0)  # (n, d): every copy its own buffer
    liars = [0, r + 1]  # one per group, in two groups
    flat[liars] *= -100
    rep_received: dict[int, Message] = {i: flat[i] for i in range(n)}

    cyc = CyclicCode(n, s=S, gen=torch.Generator().manual_seed(1))
    g = torch.randn(n, d, generator=gen)
    wire = cyclic_messages(cyc, g)
    cyc_liars = [3, 20]
    wire[cyc_liars] *= -100
    cyc_received: dict[int, Message] = {i: wire[i] for i in range(n)}

    def cyclic_decode() -> Any:
        cyc.honest_messages()  # a new iteration: a fresh projection, nothing cached
        return cyc.decode(cyc_received, identity)

    def cyclic_decode_rechecked() -> Any:
        """The same, with every answer decided again on float64 projections (what a
        failure, or a faint blame, costs)."""
        doubt, cyclic.DOUBT = cyclic.DOUBT, math.inf
        try:
            return cyclic_decode()
        finally:
            cyclic.DOUBT = doubt

    mean, geomed = Mean(), GeometricMedian(tol=1e-5, max_iter=100)
    wire_real = torch.view_as_real(wire).reshape(n, 2 * d)  # the same bytes, as (n, 2d)
    slow: dict[str, Callable[[], Any]] = {
        "geomed, float32 messages": lambda: geomed(flat),
        "geomed, complex64 messages": lambda: geomed(wire_real),
    }
    jobs: dict[str, Callable[[], Any]] = {
        "mean, float32 messages": lambda: mean(flat),
        "mean, complex64 messages": lambda: mean(wire),
        "repetition decode": lambda: rep.decode(rep_received, identity),
        "cyclic decode": cyclic_decode,
        "cyclic decode, float64 check": cyclic_decode_rechecked,
    }
    times: dict[str, list[float]] = {k: [] for k in [*jobs, *slow]}
    outs: dict[str, Any] = {}
    for i in range(args.repeats):
        for name, job in jobs.items():
            t, outs[name] = timed(job)
            times[name].append(t)
        for name, job in slow.items() if i < 2 else ():  # the slow ones: two runs each
            t, outs[name] = timed(job)
            times[name].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}

    rep_out, cyc_out = outs["repetition decode"], outs["cyclic decode"]
    assert rep_out.failures == 0 and rep_out.suspects == set(liars)
    assert all(torch.equal(c, p) for c, p in zip(rep_out.candidates, parts, strict=True))
    assert cyc_out.failures == 0 and cyc_out.suspects == set(cyc_liars)
    checked = outs["cyclic decode, float64 check"]
    assert checked.suspects == cyc_out.suspects
    assert torch.equal(checked.candidates[0], cyc_out.candidates[0])
    cyc_error = rel(cyc_out.candidates[0], g.double().mean(0))

    threads = torch.get_num_threads()
    print(
        f"n={n} d={d} s={S} (repetition r={r}), median of {args.repeats} runs, {threads} thread(s)"
    )
    for name, t in med.items():
        print(f"  {name:28s} {1e3 * t:9.1f} ms")
    print(f"  repetition: liars {sorted(rep_out.suspects)} found, every group exact (bitwise)")
    print(f"  cyclic: liars {sorted(cyc_out.suspects)} found, relative error {cyc_error:.1e}")
    print("  (complex64 on the wire limits the cyclic sum's precision; complex128 gives ~1e-13)")
    mean_f32, mean_c64 = med["mean, float32 messages"], med["mean, complex64 messages"]
    print(f"repetition decode / mean: {med['repetition decode'] / mean_f32:.2f}x (target <= 2)")
    cyc = med["cyclic decode"]
    print(f"cyclic decode / mean (same messages): {cyc / mean_c64:.2f}x (target <= 6)")
    print(f"cyclic decode / mean of float32 messages: {cyc / mean_f32:.2f}x")
    geo_f32, geo_c64 = med["geomed, float32 messages"], med["geomed, complex64 messages"]
    rep_t = med["repetition decode"]
    print(f"geometric median / repetition decode: {geo_f32 / rep_t:.1f}x (target >= 20)")
    print(f"geometric median / cyclic decode: {geo_c64 / cyc:.1f}x (target >= 20)")
    print(f"geometric median of float32 messages / cyclic decode: {geo_f32 / cyc:.1f}x")


if __name__ == "__main__":
    main()
