"""Every check of a run's settings, in one place, run once before the run starts.

Types are checked while Hydra composes (every shipped option is a typed schema). Then,
in this order, each step only when the ones before it found nothing:

1. structure: missing values, interpolations that do not resolve;
2. options: a group option that is not one of ours (a user's class named by
   ``_target_``) gets its schema from its signature here, so its typos and wrong types
   fail like ours; ``adversary=mixed`` groups are typed by their options' schemas;
3. ranges: a setting's range is written next to it (``Annotated``, see
   :mod:`sim.config.ranges`); a key without one is checked by the unit in its name
   (``*_s`` seconds, ``*_bps`` bandwidth, ``*_bytes``, ``p_*``/``*_prob`` probabilities);
   no number anywhere may be NaN;
4. option checks: an option class (or a group's common settings) may define
   ``problems(**settings) -> list[str]`` for rules across its own parameters;
5. cross checks: rules across sections, registered with :func:`cross_check`.

Checks that need built objects (a rule's ``invalid(k)``, a trace file's rows against
``n``) are methods of those objects, called from :func:`check_built` once the run is
built and before its first iteration. Constructors trust what passed.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.config.errors import ConfigError
from sim.config.options import GROUPS, MIXED, locate, option_name, option_schema, target_schema
from sim.config.ranges import NON_NEGATIVE, POSITIVE, PROBABILITY, Range, range_of
from sim.config.schema import Wait, Workload

# Ranges implied by a key's unit, for settings that state none.
SUFFIXES: list[tuple[Callable[[str], bool], Range]] = [
    (lambda leaf: leaf.endswith("_s"), NON_NEGATIVE),
    (lambda leaf: leaf.endswith("_bps"), POSITIVE),
    (lambda leaf: leaf.endswith("_bytes"), NON_NEGATIVE),
    (lambda leaf: leaf.startswith("p_") or leaf.endswith("_prob"), PROBABILITY),
]

Check = Callable[[DictConfig], Iterable[str]]
CROSS_CHECKS: list[Check] = []


def cross_check(fn: Check) -> Check:
    """Register ``fn(cfg) -> problems`` as a rule across sections (a decorator)."""
    CROSS_CHECKS.append(fn)
    return fn


def check(cfg: DictConfig) -> DictConfig:
    """``cfg`` with every group typed, or a :class:`ConfigError` listing every problem."""
    typed, found = checked(cfg)
    if found:
        raise ConfigError(*found)
    return typed


def problems(cfg: DictConfig) -> list[str]:
    """Every problem found, one line each; empty when the config is valid."""
    return checked(cfg)[1]


def checked(cfg: DictConfig) -> tuple[DictConfig, list[str]]:
    """(the config with every group typed, its problems)."""
    found = _structure_problems(cfg)
    if found:
        return cfg, found
    typed, found = _typed(cfg)
    if found:
        return cfg, found
    found = list(_range_problems(typed))
    if found:  # the rules below assume every single value is in range
        return typed, found
    found = [*_option_problems(typed)]
    for fn in CROSS_CHECKS:
        found += list(fn(typed))
    return typed, found


# ---------------------------------------------------------------- 1. structure


def _structure_problems(cfg: DictConfig) -> list[str]:
    """Keys no schema has (added with ``+key=``), missing values, interpolations that do
    not resolve."""
    unknown = list(_unknown_keys(cfg, ""))
    if unknown:
        return unknown
    try:
        OmegaConf.to_container(cfg, resolve=True)
        missing = sorted(OmegaConf.missing_keys(cfg))
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "config"
        return [f"{key}: {str(exc).splitlines()[0]}"]
    out = []
    for key in missing:
        group = key.split(".")[0]
        options = ", ".join(GROUPS[group].options) if group in GROUPS else ""
        hint = f" (set {group}=<option>; options: {options})" if options and key == group else ""
        out.append(f"{key}: no value given{hint}")
    return out


def _unknown_keys(node: DictConfig, prefix: str) -> Iterator[str]:
    """``+key=value`` adds a key even where the schema has none: name each one."""
    kind = OmegaConf.get_type(node)
    if dataclasses.is_dataclass(kind):
        if "_target_" in node and _default_target(kind) != node._target_:
            return  # `group._target_=pkg.Class`: its keys are checked by that class's signature
        valid = [f.name for f in dataclasses.fields(kind)]
        shown = [v for v in valid if not v.startswith("_")]
        yield from (no_such_key(f"{prefix}{k}", shown) for k in map(str, node) if k not in valid)
    for key in map(str, node):
        child = node._get_node(key)
        if isinstance(child, DictConfig) and not child._is_missing() and not child._is_none():
            yield from _unknown_keys(child, f"{prefix}{key}.")


def no_such_key(key: str, valid: list[str]) -> str:
    """``key: no such key (did you mean ...?); valid keys: ...``"""
    parent, _, leaf = key.rpartition(".")
    close = difflib.get_close_matches(leaf, valid, n=1)
    hint = f" (did you mean {parent + '.' if parent else ''}{close[0]}?)" if close else ""
    return f"{key}: no such key{hint}; valid keys: {', '.join(valid)}"


# ---------------------------------------------------------------- 2. options


def _typed(cfg: DictConfig) -> tuple[DictConfig, list[str]]:
    """Group nodes merged onto their schema: a user's option typed by its signature."""
    out = cfg.copy()
    found: list[str] = []
    for group in GROUPS:
        node = OmegaConf.select(out, group)
        if not isinstance(node, DictConfig) or "_target_" not in node:
            continue
        typed = _as_schema(group, node, group)
        if isinstance(typed, str):
            found.append(typed)
            continue
        if group == "adversary" and option_name(group, typed._target_) == MIXED:
            groups, bad = _mixed_groups(typed)
            found += bad
            typed.groups = groups
        OmegaConf.update(out, group, typed, merge=False)
    return out, found


def _as_schema(group: str, node: DictConfig, where: str, schema: type | None = None) -> Any:
    """``node`` typed by ``schema`` (default: its target's); a problem line if it fails."""
    if schema is None:
        kind = OmegaConf.get_type(node)
        if dataclasses.is_dataclass(kind):
            if _default_target(kind) == node._target_:
                return node  # one of ours: typed while composing
            node = _retargeted(group, node, kind)  # `group._target_=pkg.Class` typed
        try:
            schema = target_schema(group, str(node._target_))
        except (ImportError, AttributeError, ValueError, TypeError) as exc:
            return f"{where}._target_={node._target_}: cannot be loaded ({exc})"
    try:
        return OmegaConf.merge(OmegaConf.structured(schema), node)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "key", None)
        first = str(exc).splitlines()[0]
        if key is not None and "not in" in first:
            valid = [f.name for f in dataclasses.fields(schema) if not f.name.startswith("_")]
            return f"{where}.{key}: no such key; valid keys: {', '.join(valid)}"
        return f"{where}.{key}: {first}" if key is not None else f"{where}: {first}"


def _default_target(kind: Any) -> Any:
    return next((f.default for f in dataclasses.fields(kind) if f.name == "_target_"), None)


def _retargeted(group: str, node: DictConfig, kind: Any) -> DictConfig:
    """A shipped option whose ``_target_`` was set to another class: the keys the user
    set (changed from the option's defaults) and the group's common ones, untyped."""
    defaults: dict[str, Any] = OmegaConf.to_container(OmegaConf.structured(kind))  # type: ignore[assignment]
    given: dict[str, Any] = OmegaConf.to_container(node, resolve=True)  # type: ignore[assignment]
    common = set(common_keys(group))
    changed = {k for k, v in given.items() if k not in defaults or v != defaults[k]}
    kept = {k: v for k, v in given.items() if k in ("_target_", *common) or k in changed}
    return OmegaConf.create(kept)


def _mixed_groups(node: DictConfig) -> tuple[list[Any], list[str]]:
    """``adversary.groups`` entries typed by their options' schemas."""
    defaults = OmegaConf.structured(option_schema("adversary", MIXED))
    found = [
        f"adversary=mixed: set {key} inside each of adversary.groups, not at the top level"
        for key in common_keys("adversary")
        if node[key] != defaults[key]
    ]
    options = sorted(set(GROUPS["adversary"].options) - {MIXED})
    groups = []
    for k, raw in enumerate(node.groups):
        where = f"adversary.groups[{k}]"
        if not isinstance(raw, DictConfig) or "name" not in raw:
            found.append(f"{where} needs a `name`: one of {options}")
            continue
        name = raw.name
        if name not in options:
            found.append(f"{where}.name={name} is not an adversary; valid: {options}")
            continue
        body = OmegaConf.create({k: v for k, v in raw.items() if k != "name"})
        typed = _as_schema("adversary", body, f"{where} ({name})", option_schema("adversary", name))
        if isinstance(typed, str):
            found.append(typed.replace(f"({name}).", f"({name}): "))
            continue
        groups.append(typed)  # its option: the first one with its _target_
    return groups, found


def common_keys(group: str) -> list[str]:
    """The settings every option of ``group`` has (the builder's, not the target's)."""
    spec = GROUPS[group].common if group in GROUPS else None
    return [f.name for f in dataclasses.fields(locate(spec))] if spec else []


def adversary_groups(cfg: DictConfig) -> list[tuple[str, DictConfig]]:
    """(option name, settings) of every adversary group, ``none`` left out."""
    node = cfg.adversary
    specs = node.groups if option_name("adversary", str(node._target_)) == MIXED else [node]
    named = [(option_name("adversary", str(g._target_)) or str(g._target_), g) for g in specs]
    return [(name, spec) for name, spec in named if name != "none"]


def group_workers(spec: DictConfig) -> int:
    """Workers of one adversary group: its ids when it has them, else its count."""
    explicit = getattr(spec.placement, "name", spec.placement) == "explicit"
    return len(spec.ids) if spec.ids or explicit else int(spec.count)


# ---------------------------------------------------------------- 3. ranges


def _range_problems(cfg: DictConfig) -> Iterator[str]:
    yield from _node_ranges(cfg, "")


def _node_ranges(node: Any, prefix: str) -> Iterator[str]:
    hints = _hints(node)
    for key in node:
        path = f"{prefix}{key}"
        child = node[key]
        if isinstance(child, DictConfig):
            yield from _node_ranges(child, f"{path}.")
        elif isinstance(child, ListConfig) and any(isinstance(c, DictConfig) for c in child):
            for i, c in enumerate(child):
                if isinstance(c, DictConfig):
                    yield from _node_ranges(c, f"{path}[{i}].")
        else:
            plain = OmegaConf.to_container(child) if isinstance(child, ListConfig) else child
            yield from _number_problems(path, plain, hints.get(str(key)))


def _hints(node: Any) -> dict[str, Any]:
    kind = OmegaConf.get_type(node) if isinstance(node, DictConfig) else None
    if kind is not None and dataclasses.is_dataclass(kind):
        return typing.get_type_hints(kind, include_extras=True)
    return {}


def _range_for(path: str, hint: Any) -> Range | None:
    found = range_of(hint) if hint is not None else None
    if found is not None:
        return found
    leaf = path.rsplit(".", 1)[-1]
    return next((rng for match, rng in SUFFIXES if match(leaf)), None)


def _number_problems(path: str, value: Any, hint: Any) -> Iterator[str]:
    values = list(value) if isinstance(value, list) else [value]
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if any(isinstance(v, float) and math.isnan(v) for v in numbers):
        yield f"{path}={show(value)}: NaN is not a valid setting"
        return
    rule = _range_for(path, hint)
    if rule is not None and any(not rule(v) for v in numbers):
        what = "every entry must be" if isinstance(value, list) else "must be"
        yield f"{path}={show(value)}: {what} {rule.text}"


def show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(show(v) for v in value) + "]"
    return str(value)


# ---------------------------------------------------------------- 4. option checks


def provided(cfg: DictConfig) -> dict[str, Any]:
    """The provided constructor arguments that the config alone decides."""
    n = int(cfg.cluster.workers)
    f = sum(group_workers(spec) for _, spec in adversary_groups(cfg))
    return {"n": n, "workers": n, "f": f}


def _option_problems(cfg: DictConfig) -> Iterator[str]:
    given = provided(cfg)
    for group in GROUPS:
        node = OmegaConf.select(cfg, group)
        if not isinstance(node, DictConfig) or "_target_" not in node:
            continue
        nodes = [spec for _, spec in adversary_groups(cfg)] if group == "adversary" else [node]
        for spec in nodes:
            settings: dict[str, Any] = OmegaConf.to_container(spec, resolve=True)  # type: ignore[assignment]
            common = GROUPS[group].common
            if common is not None:
                yield from _call_problems(locate(common), settings, group)
            yield from _call_problems(locate(str(spec._target_)), {**settings, **given}, group)


def _call_problems(owner: Any, settings: dict[str, Any], group: str) -> Iterator[str]:
    fn = getattr(owner, "problems", None)
    if fn is None:
        return
    params = inspect.signature(fn).parameters
    takes_all = any(p.kind is p.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in settings.items() if takes_all or k in params}
    names = set(params) | set(settings)
    for line in fn(**{k: v for k, v in kwargs.items() if not k.startswith("_")}):
        head = line.split("=", 1)[0].split(":", 1)[0].split(" ", 1)[0]
        yield f"{group}.{line}" if head in names and "." not in head else line


# ---------------------------------------------------------------- 5. cross checks


@cross_check
def _adversaries_fit(cfg: DictConfig) -> Iterator[str]:
    n = cfg.cluster.workers
    specs = adversary_groups(cfg)
    mixed = option_name("adversary", str(cfg.adversary._target_)) == MIXED
    taken: dict[int, int] = {}
    for k, (_, spec) in enumerate(specs):
        where = f"adversary.groups[{k}].ids" if mixed else "adversary.ids"
        ids = list(spec.ids)
        if ids:
            bad = [i for i in ids if not 0 <= i < n]
            if bad:
                yield f"{where}={show(ids)}: ranks {bad} are not in [0, {n}) (n={n})"
            if len(set(ids)) != len(ids):
                yield f"{where}={show(ids)}: ranks must be distinct"
            shared = sorted(i for i in ids if i in taken)
            if shared:
                yield f"{where}={show(ids)}: ranks {shared} belong to another adversary group"
            taken.update(dict.fromkeys(ids, k))
    total = sum(group_workers(spec) for _, spec in specs)
    if not mixed and not list(cfg.adversary.ids) and total > n:
        yield f"adversary.count={total} must be between 0 and cluster.workers={n}"
    elif mixed and total > n:
        yield f"{total} adversaries in all groups exceed cluster.workers={n}"


@cross_check
def _timing_only_has_no_data(cfg: DictConfig) -> Iterator[str]:
    if cfg.workload is not Workload.timing_only:
        return
    for name, spec in adversary_groups(cfg):
        if getattr(locate(str(spec._target_)), "flip_labels", False):
            yield (
                f"adversary={name} trains on flipped labels, but workload=timing_only has "
                f"no data and no gradients: use workload=gradients"
            )


@cross_check
def _wait_fits(cfg: DictConfig) -> Iterator[str]:
    n = cfg.cluster.workers
    if cfg.ps.wait == Wait.first_k and cfg.ps.k > n:
        yield f"ps.k={cfg.ps.k} must be between 1 and cluster.workers={n} (0 = n)"


@cross_check
def _speed_factors_fit(cfg: DictConfig) -> Iterator[str]:
    n = cfg.cluster.workers
    factors = OmegaConf.select(cfg, "latency.speed_factors", default=[])
    if factors is not None and 0 < len(factors) != n:
        yield (
            f"latency.speed_factors has {len(factors)} entries, cluster.workers={n}: "
            f"give one factor per worker or none"
        )


@cross_check
def _fits_in_memory(cfg: DictConfig) -> Iterator[str]:
    from sim.footprint import problems as too_big  # sizes the model: imports torch

    try:
        yield from too_big(cfg)
    except ConfigError:  # a model that cannot be made for this data: said when it is built
        return


# ---------------------------------------------------------------- checks of built objects


def candidates(cfg: DictConfig, code: Any) -> tuple[int, str]:
    """Vectors the rule gets when every awaited message arrives, and where that number comes from.

    With a code that groups workers, a wait policy that stops early leaves a number that
    varies by iteration; an iteration with too few then applies no update.
    """
    n = cfg.cluster.workers
    k = int(getattr(code, "candidates", code.parts))  # a code may decode to fewer vectors
    if k == n and cfg.ps.wait is Wait.first_k and 0 < cfg.ps.k < n:
        return cfg.ps.k, f"ps.wait=first_k with ps.k={cfg.ps.k}"
    if k == n:
        return k, f"cluster.workers={n}"
    if "r" in cfg.code and k * cfg.code.r == n:
        return k, f"cluster.workers={n} / code.r={cfg.code.r}"
    return k, f"what {type(code).__name__} decodes from cluster.workers={n}"


def built_problems(
    cfg: DictConfig, code: Any, rule: Any, adversary: Any, latency: Any, samples: int | None
) -> list[str]:
    """What only the built objects can tell, each asked by its own method."""
    found = []
    k, source = candidates(cfg, code)
    if why := rule.invalid(k):
        found.append(f"aggregator={rule.name} {why}; got k={k} candidates ({source})")
    if why := latency.invalid(cfg.cluster.workers):
        found.append(why)
    for g in adversary.groups:
        invalid = getattr(g.strategy, "invalid", None)
        if invalid is not None and (why := invalid(g.placer.count, g.knowledge)):
            found.append(why)
    if samples is not None:
        batch = cfg.train.batch_size
        if batch < code.parts:
            found.append(
                f"train.batch_size={batch} is smaller than the {code.parts} data parts per "
                f"iteration: every part needs at least one sample"
            )
        elif batch > samples:
            found.append(
                f"train.batch_size={batch} exceeds the {samples} training samples (lower it, "
                f"or raise data.samples)"
            )
    return found


def check_built(
    cfg: DictConfig, code: Any, rule: Any, adversary: Any, latency: Any, samples: int | None
) -> None:
    found = built_problems(cfg, code, rule, adversary, latency, samples)
    if found:
        raise ConfigError(*found)
