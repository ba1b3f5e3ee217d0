"""Timing-only throughput: simulated worker-iterations per second of our world, as a
ratio to a bare SimPy round loop written here, measured side by side in one run.

The bare loop has the same structure per worker and round — receive the model, compute,
send, the PS collects every message — as three SimPy timeouts and a Store, with no
network, no policies, no metrics and no trace. Our world runs ``workload=timing_only``
with the default scenario's code, rule and adversary, shifted-exponential stragglers,
the star network with FIFO links, the wait policy, the PS's cost model, the metrics and
the trace of the first iterations (writing the files is timed separately).

    python benchmarks/timing.py [--workers 10000] [--iterations 20] [--repeats 2]

Target: ratio >= 0.5.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.api import compose  # noqa: E402
from sim.build import build  # noqa: E402
from sim.runs.session import Session, execute  # noqa: E402


def bare_loop(n: int, iterations: int, seed: int = 0) -> float:
    """Wall seconds of a minimal SimPy PS round loop over ``n`` workers."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()

    def worker(inbox: simpy.Store, compute_s: float):  # type: ignore[no-untyped-def]
        yield env.timeout(75e-6)  # receive the model
        yield env.timeout(compute_s)
        yield env.timeout(75e-6)  # send the message
        yield inbox.put(1)

    def ps():  # type: ignore[no-untyped-def]
        for _ in range(iterations):
            inbox = simpy.Store(env)
            compute = (0.15 + rng.exponential(0.03, n)).tolist()
            for i in range(n):
                env.process(worker(inbox, compute[i]))
            for _ in range(n):
                yield inbox.get()
            yield env.timeout(1e-3)  # decode and aggregate

    start = time.perf_counter()
    env.process(ps())
    env.run()
    return time.perf_counter() - start


def overrides(n: int, iterations: int) -> list[str]:
    return [
        "workload=timing_only",
        f"cluster.workers={n}",
        f"train.iterations={iterations}",
        "code=repetition" if n % 3 == 0 else "code=none",
        "latency=shifted_exp",
        "timing.d=23050",  # the default model's size, without generating its data set
        "progress=false",
    ]


def our_world(n: int, iterations: int, out: Path) -> tuple[float, float]:
    """(wall seconds of the simulation, of writing its outputs)."""
    cfg = compose(overrides(n, iterations))
    out.mkdir(parents=True)
    session = Session(build(cfg), out, None)
    start = time.perf_counter()
    session.run()
    run_s = time.perf_counter() - start
    start = time.perf_counter()
    execute(cfg, out / "full")  # again, with every output file, for the second number
    return run_s, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    n, its = args.workers, args.iterations
    bare, ours, full = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):  # interleaved, best of each
            bare.append(bare_loop(n, its))
            run_s, full_s = our_world(n, its, Path(tmp) / f"r{r}")
            ours.append(run_s)
            full.append(full_s)
    work = n * its
    b, o, f = min(bare), min(ours), min(full)
    print(f"{n} workers x {its} iterations = {work} worker-iterations, best of {args.repeats}")
    print(f"bare SimPy round loop : {b:7.3f} s  {work / b:12,.0f} worker-iterations/s")
    print(f"timing-only world     : {o:7.3f} s  {work / o:12,.0f} worker-iterations/s")
    print(f"  with build + outputs: {f:7.3f} s  (metrics, summary, trace.json, timeline.png)")
    print(f"ratio (world / bare)  : {b / o:.2f}   target >= 0.5")


if __name__ == "__main__":
    main()
