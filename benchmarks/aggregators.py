"""What each aggregation rule costs, as a ratio to the mean, measured side by side.

    python -m benchmarks.aggregators            # (k, d) in {15, 45} x {1e5, 1e6}
    python -m benchmarks.aggregators --quick    # d = 1e5 only
    python -m benchmarks.aggregators --threads 1   # steadiest on a busy shared machine

Every rule runs on the same float32 candidates (Gaussian, a quarter of them shifted
far away as adversaries would be) with ``f = (k - 3) // 4``, the largest ``f`` Bulyan
accepts, for every rule. The rules take turns (a turn lasts at least one call and about
50 ms), round after round after a warm-up round, and each rule's time is its fastest
call, so a machine whose load drifts slows every rule alike. The tables give the mean's
time in ms and every other rule as a multiple of it, once by wall time and once by the
CPU time the process used (which waiting for a busy machine does not inflate).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import torch

from sim.aggregators.base import Aggregator
from sim.aggregators.bucketing import Bucketing
from sim.aggregators.bulyan import Bulyan
from sim.aggregators.centered_clip import CenteredClip
from sim.aggregators.chain import Chain
from sim.aggregators.geomed import GeometricMedian
from sim.aggregators.krum import Krum
from sim.aggregators.mean import Mean
from sim.aggregators.median import Median
from sim.aggregators.multikrum import MultiKrum
from sim.aggregators.nnm import NNM
from sim.aggregators.trimmed_mean import TrimmedMean


def rules(f: int) -> dict[str, Callable[[], Aggregator]]:
    return {
        "mean": Mean,
        "median": Median,
        f"trimmed_mean (b={f})": lambda: TrimmedMean(b=f),
        "geomed (3 iterations)": lambda: GeometricMedian(tol=0.0, max_iter=3),
        "geomed (tol 1e-5)": GeometricMedian,
        "krum": lambda: Krum(f=f),
        "multikrum": lambda: MultiKrum(f=f),
        "bulyan": lambda: Bulyan(f=f),
        "centered_clip (L=3)": lambda: CenteredClip(iterations=3),
        "nnm + mean": lambda: Chain([NNM(f)], Mean()),
        "bucketing(2) + krum": lambda: Chain(
            [Bucketing(2, np.random.default_rng(0))], Krum(f=(f + 1) // 2)
        ),
    }


Times = dict[str, tuple[float, float]]  # rule -> (best wall s, best CPU s of this process)


def timed(made: dict[str, Aggregator], x: torch.Tensor, rounds: int) -> Times:
    """Best wall and CPU time of one call of each rule, the rules taking turns.

    Each turn calls a rule repeatedly for about 50 ms (at least once), so a cheap rule
    like the mean is sampled as often as it takes to find a quiet moment.
    """
    best = dict.fromkeys(made, (float("inf"), float("inf")))
    for r in range(rounds + 1):  # round 0 warms up
        for name, rule in made.items():
            turn = time.perf_counter()
            while True:
                wall, cpu = time.perf_counter(), time.process_time()
                rule(x)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                if r > 0:
                    best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
                if time.perf_counter() - turn > 0.05:
                    break
    return best


def table(columns: dict[tuple[int, int], Times], which: int) -> None:
    sizes = list(columns)
    header = " | ".join(f"k={k}, d=1e{len(str(d)) - 1}" for k, d in sizes)
    print(f"| rule | {header} |")
    print("|---" * (len(sizes) + 1) + "|")
    for name in next(iter(columns.values())):
        cells = []
        for size in sizes:
            t, mean = columns[size][name][which], columns[size]["mean"][which]
            cells.append(f"{t * 1e3:.1f} ms" if name == "mean" else f"{t / mean:.0f}x ({t:.3f} s)")
        print(f"| {name} | " + " | ".join(cells) + " |")


def candidates(k: int, d: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(k, d, generator=gen)  # (k, d)
    x[: k // 4] += 10.0
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="d = 1e5 only")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads (default: torch's choice)"
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    sizes = [(k, d) for d in ([10**5] if args.quick else [10**5, 10**6]) for k in (15, 45)]
    torch.set_grad_enabled(False)
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, ", end="")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at the start\n")
    columns: dict[tuple[int, int], Times] = {}
    for k, d in sizes:
        f = (k - 3) // 4
        x = candidates(k, d)
        made = {name.replace(f"b={f}", "b=f"): make() for name, make in rules(f).items()}
        columns[(k, d)] = timed(made, x, rounds=5 if d <= 10**5 else 3)
        del x
    print("Wall time (the mean in ms, every other rule as a multiple of it):\n")
    table(columns, 0)
    print("\nCPU time of this process, all threads (steadier on a shared machine):\n")
    table(columns, 1)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
