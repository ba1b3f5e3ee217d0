"""How much memory a run needs, estimated from its settings before anything is built.

A run that would not fit is refused before it starts, with the estimate: otherwise a
large cluster (``cluster.workers=100002`` with gradients) fills the machine, swaps, and
takes minutes to answer a signal. The estimate adds what grows with the cluster and the
model:

- the code's own tables and its honest messages, as the code says
  (``footprint(n, **settings) -> (P, bytes)``: a message of one part is its index, a
  cyclic code keeps ``n x n`` complex tables; a code that does not say is taken as ``n``
  messages of ``n`` coefficients), twice (the aggregation forms a second copy);
- every part gradient, ``P x d`` floats, when the rule is not a weighted sum (it looks at
  every candidate) or the oracle materializes them anyway;
- the model with its gradient and update, the adversaries' dense messages, the data set,
  the trace, and the interpreter with torch.

What is available is the smaller of the memory the system reports as available and what
the process's cgroup (a SLURM job, a container) still allows; ``DRACO_SIM_MEMORY_BYTES``
overrides both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

BASE_BYTES = 600 * 2**20  # the interpreter with torch, numpy, Hydra: measured ~0.5 GiB
SPAN_BYTES = 400  # one trace event as a Python dict
FLOAT = 4
DEFAULT_SAMPLES = 70_000  # a data set that does not say its size (MNIST's)


@dataclass(frozen=True)
class Footprint:
    items: dict[str, int]  # what needs memory -> bytes

    @property
    def total(self) -> int:
        return sum(self.items.values())

    def largest(self, k: int = 3) -> str:
        top = sorted(self.items.items(), key=lambda kv: -kv[1])[:k]
        return ", ".join(f"{name} {gib(b)}" for name, b in top if b > 0)


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def estimate(cfg: DictConfig) -> Footprint:
    """The estimate for a typed, checked config (see the module doc)."""
    from sim.aggregators.base import Linear
    from sim.build import settings
    from sim.config.options import locate
    from sim.config.schema import OracleMode, Workload
    from sim.config.validate import provided

    n = int(cfg.cluster.workers)
    code = locate(str(cfg.code._target_))
    sized = getattr(code, "footprint", None)
    parts, code_bytes = sized(n, **settings("code", cfg.code)) if sized else (n, n * n * 8)
    items = {"interpreter": BASE_BYTES, "trace": int(cfg.trace.max_spans) * SPAN_BYTES}
    items["code and symbolic messages"] = 2 * code_bytes
    if cfg.workload is Workload.timing_only:
        return Footprint(items)
    d, features, samples = _model_and_data(cfg)
    rule = locate(str(cfg.aggregator._target_))
    every_part = cfg.train.oracle is not OracleMode.fast or not issubclass(rule, Linear)
    if cfg.train.oracle is OracleMode.reference:
        parts = n  # every worker computes its own
    items["part gradients"] = parts * d * FLOAT if every_part else 0
    adversaries = provided(cfg)["f"]
    items["model, gradient, update, lies"] = (4 + 2 * adversaries) * d * FLOAT
    items["data set"] = 2 * samples * features * FLOAT
    return Footprint(items)


def _model_and_data(cfg: DictConfig) -> tuple[int, int, int]:
    """(parameters, features per sample, samples) without making the data set."""
    from math import prod

    from sim.build import new_model, settings
    from sim.config.options import locate
    from sim.timing import tensor_sizes
    from sim.training.datasets import shape_of

    given = settings("data", cfg.data)
    shape = shape_of(locate(str(cfg.data._target_)), given)
    if shape is None:
        return 0, 0, 0  # a data set that cannot say: it is read whole before the run
    samples = int(given.get("samples") or DEFAULT_SAMPLES)
    return sum(tensor_sizes(lambda: new_model(cfg, *shape))), prod(shape[0]), samples


def available_bytes() -> int | None:
    """Memory this process may still use (None: unknown)."""
    forced = os.environ.get("DRACO_SIM_MEMORY_BYTES")
    if forced:
        return int(float(forced))
    found = [v for v in (_meminfo_available(), _cgroup_room()) if v is not None]
    return min(found) if found else None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_room() -> int | None:
    """What the cgroup's limit leaves (v2, then v1); None without a limit."""
    for limit, used in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            cap = Path(limit).read_text().strip()
            if cap == "max" or int(cap) >= 2**60:
                return None
            return int(cap) - int(Path(used).read_text().strip())
        except (OSError, ValueError):
            continue
    return None


def problems(cfg: DictConfig, **_: Any) -> list[str]:
    """One line when the estimate exceeds what is available."""
    room = available_bytes()
    if room is None:
        return []
    need = estimate(cfg)
    if need.total <= room:
        return []
    fixes = [f"fewer workers (cluster.workers={cfg.cluster.workers})"]
    if "part gradients" in need.items:  # a run with gradients
        fixes += ["a smaller model", "workload=timing_only for a large cluster"]
    return [
        f"this run needs about {gib(need.total)} of memory ({need.largest()}) but "
        f"{gib(room)} is available: use {', or '.join(fixes)}"
    ]
