"""Every problem with a composed config, found before any work starts.

Types are already checked by the structured configs while Hydra composes. Here:

- missing values and broken interpolations;
- ranges, looked up by key in :data:`RANGES`, then by the unit in the key's name
  (``*_s`` seconds, ``*_bps`` bandwidth, ``*_bytes``, ``p_*``/``*_prob`` probabilities),
  so a new option whose keys follow the naming convention is checked without edits here;
  no number anywhere may be NaN;
- cross-field rules in :data:`CROSS_CHECKS` (functions ``cfg -> problems``), which other
  modules may extend with :func:`cross_check`.

:func:`problems` returns one line per problem; :func:`check` raises them all at once.
Constructors still check their own parameters (``n % r`` for the repetition code, a
rule's validity for its number of inputs in :func:`sim.build.aggregator`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.config import SCHEMAS, Wait
from sim.errors import ConfigError

Number = int | float
Range = Callable[[Number], bool]


def at_least(low: Number) -> tuple[Range, str]:
    return (lambda v: v >= low), f">= {low}"


def positive(finite: bool = True) -> tuple[Range, str]:
    if finite:
        return (lambda v: 0 < v < math.inf), "a positive finite number"
    return (lambda v: v > 0), "a positive number"


def non_negative() -> tuple[Range, str]:
    return (lambda v: 0 <= v < math.inf), "a finite number >= 0"


def probability() -> tuple[Range, str]:
    return (lambda v: 0 <= v <= 1), "a probability in [0, 1]"


# Ranges by dotted key; a list value is checked entry by entry.
RANGES: dict[str, tuple[Range, str]] = {
    "seed": at_least(0),
    "cluster.workers": at_least(1),
    "train.iterations": at_least(1),
    "train.batch_size": at_least(1),
    "train.lr": positive(),
    "train.eval_every": at_least(1),
    "ps.k": at_least(0),
    "ps.deadline_s": positive(finite=False),
    "ps.flops": positive(),
    "checkpoint.every": at_least(0),
    "code.r": at_least(1),
    "code.tolerance": non_negative(),
    "adversary.count": at_least(0),
    "adversary.ids": at_least(0),
    "latency.speed_factors": positive(),
    "latency.seconds": non_negative(),
    "network.bandwidth_bps": positive(),
    "model.hidden": at_least(1),
    "data.seed": at_least(0),
    "data.samples": ((lambda v: v == 0 or v >= 10), ">= 10 (0 = every sample, for data=mnist)"),
    "data.features": at_least(1),
    "data.classes": at_least(2),
    "timing.d": at_least(0),
    "trace.iterations": at_least(0),
    "trace.max_spans": at_least(1),
    "trace.timeline_iterations": at_least(0),
    "trace.timeline_workers": at_least(0),
}

# Ranges implied by a key's unit, for keys not listed above.
SUFFIXES: list[tuple[Callable[[str], bool], tuple[Range, str]]] = [
    (lambda leaf: leaf.endswith("_s"), non_negative()),
    (lambda leaf: leaf.endswith("_bps"), positive()),
    (lambda leaf: leaf.endswith("_bytes"), non_negative()),
    (lambda leaf: leaf.startswith("p_") or leaf.endswith("_prob"), probability()),
]

Check = Callable[[DictConfig], Iterable[str]]
CROSS_CHECKS: list[Check] = []


def cross_check(fn: Check) -> Check:
    """Register ``fn(cfg) -> problems`` as a cross-field rule (a decorator)."""
    CROSS_CHECKS.append(fn)
    return fn


def _leaves(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every resolved leaf; lists stay whole."""
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _leaves(value, f"{path}.")
        else:
            yield path, value


def _range_for(path: str) -> tuple[Range, str] | None:
    if path in RANGES:
        return RANGES[path]
    leaf = path.rsplit(".", 1)[-1]
    return next((rng for match, rng in SUFFIXES if match(leaf)), None)


def _number_problems(path: str, value: Any) -> Iterator[str]:
    values = list(value) if isinstance(value, list) else [value]
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if any(isinstance(v, float) and math.isnan(v) for v in numbers):
        yield f"{path}={_show(value)}: NaN is not a valid setting"
        return
    rule = _range_for(path)
    if rule is not None and any(not rule[0](v) for v in numbers):
        what = "every entry must be" if isinstance(value, list) else "must be"
        yield f"{path}={_show(value)}: {what} {rule[1]}"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_show(v) for v in value) + "]"
    return str(value)


def _structure_problems(cfg: DictConfig) -> list[str]:
    """Missing values and interpolations that do not resolve."""
    try:
        OmegaConf.to_container(cfg, resolve=True)
        missing = sorted(OmegaConf.missing_keys(cfg))
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "config"
        return [f"{key}: {str(exc).splitlines()[0]}"]
    out = []
    for key in missing:
        group = key.split(".")[0]
        options = ", ".join(SCHEMAS.get(group, {}))
        hint = f" (set {group}=<option>; options: {options})" if options and key == group else ""
        out.append(f"{key}: no value given{hint}")
    return out


def problems(cfg: DictConfig) -> list[str]:
    """Every problem found, one line each; empty when the config is valid."""
    structural = _structure_problems(cfg)
    if structural:
        return structural
    plain = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    assert isinstance(plain, dict)
    out = [p for path, value in _leaves(plain) for p in _number_problems(path, value)]
    if out:  # cross-field rules assume every single value is in range
        return out
    for fn in CROSS_CHECKS:
        out += list(fn(cfg))
    return out


def check(cfg: DictConfig) -> None:
    """Raise a :class:`ConfigError` listing every problem of ``cfg``."""
    found = problems(cfg)
    if found:
        raise ConfigError(*found)


# ---------------------------------------------------------------- cross-field rules


def _get(cfg: DictConfig, key: str, default: Any = None) -> Any:
    return OmegaConf.select(cfg, key, default=default)


@cross_check
def _adversaries_fit(cfg: DictConfig) -> Iterator[str]:
    n = cfg.cluster.workers
    ids = _get(cfg, "adversary.ids", [])
    if isinstance(ids, ListConfig) and len(ids) > 0:
        bad = [i for i in ids if not 0 <= i < n]
        if bad:
            yield f"adversary.ids={_show(list(ids))}: ranks {bad} are not in [0, {n}) (n={n})"
        if len(set(ids)) != len(ids):
            yield f"adversary.ids={_show(list(ids))}: ranks must be distinct"
        return
    count = _get(cfg, "adversary.count", 0)
    if count > n:
        yield f"adversary.count={count} must be between 0 and cluster.workers={n}"


@cross_check
def _wait_fits(cfg: DictConfig) -> Iterator[str]:
    n = cfg.cluster.workers
    if cfg.ps.wait == Wait.first_k and cfg.ps.k > n:
        yield f"ps.k={cfg.ps.k} must be between 1 and cluster.workers={n} (0 = n)"


@cross_check
def _speed_factors_fit(cfg: DictConfig) -> Iterator[str]:
    n = cfg.cluster.workers
    factors = _get(cfg, "latency.speed_factors", [])
    if factors is not None and 0 < len(factors) != n:
        yield (
            f"latency.speed_factors has {len(factors)} entries, cluster.workers={n}: "
            f"give one factor per worker or none"
        )
