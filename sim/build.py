"""The one place where a composed config becomes objects."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from sim import validate
from sim.adversaries.adversary import Adversary, Group
from sim.adversaries.placement import Placer
from sim.adversaries.schedule import Schedule
from sim.aggregators.base import Aggregator
from sim.aggregators.bucketing import Bucketing
from sim.aggregators.chain import Chain, PreAggregator
from sim.aggregators.nnm import NNM
from sim.codes.base import Code
from sim.config import SCHEMAS, AdversaryConf, Device, OracleMode, Placement, Wait, Workload
from sim.config import PreAggregator as Pre
from sim.errors import ConfigError
from sim.latency import LatencyModel
from sim.protocol import Learning
from sim.timing import TimingOnly, check_decodable, count_parameters
from sim.training.datasets import BatchSampler, Dataset
from sim.training.oracle import GradientOracle

STREAMS = (
    "data",
    "latency",
    "placement",
    "adversary",
    "model",
    "workers",
    "ps",
    "spare",
    "aggregator",  # appended: earlier streams keep their seeds
)


def streams(seed: int) -> dict[str, np.random.SeedSequence]:
    """Independent random streams, one per role, at fixed positions (DESIGN §6)."""
    return dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS)), strict=True))


def rng(seq: np.random.SeedSequence) -> np.random.Generator:
    return np.random.default_rng(seq)


def torch_gen(seq: np.random.SeedSequence) -> torch.Generator:
    return torch.Generator().manual_seed(int(seq.generate_state(1, dtype=np.uint64)[0] >> 1))


def device(choice: Device) -> torch.device:
    if choice is Device.cuda and not torch.cuda.is_available():
        raise ConfigError("device=cuda but no CUDA device is available (use device=auto or cpu)")
    if choice is Device.auto:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice.value)


def _make(node: Any, what: str, **kwargs: Any) -> Any:
    try:
        return instantiate(node, **kwargs)
    except Exception as exc:  # Hydra wraps the constructor's error; surface ours unchanged
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, ConfigError):
            cause = cause.__cause__
        if cause is not None:
            raise cause from None
        raise ConfigError(f"{what}: {exc}") from exc


@dataclass
class Parts:
    code: Code
    rule: Aggregator
    adversary: Adversary
    latency: LatencyModel
    graph: Any
    learning: Learning | TimingOnly  # the round's math: real gradients, or sizes only
    seeds: dict[str, np.random.SeedSequence]


def check(cfg: DictConfig) -> None:
    """Every range and cross-field problem at once (see :mod:`sim.validate`)."""
    validate.check(cfg)


def _child(seq: np.random.SeedSequence, key: int) -> np.random.SeedSequence:
    """A fixed sub-stream of ``seq`` (independent of how often anyone calls ``spawn``)."""
    return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, key))


def _group_specs(node: DictConfig) -> list[tuple[str, DictConfig]]:
    """(option name, full adversary node) per group: one for ``adversary=NAME``, or the mix."""
    if "groups" not in node:
        return [(_option_name(node._target_), node)]
    unused = {
        k: node[k]
        for k in sorted(set(AdversaryConf.__dataclass_fields__) - {"_target_"})
        if node[k] != getattr(AdversaryConf(), k)
    }
    if unused:
        raise ConfigError(
            f"adversary=mixed: set {', '.join(unused)} inside each of adversary.groups, "
            "not at the top level"
        )
    schemas = SCHEMAS["adversary"]
    specs = []
    for k, raw in enumerate(node.groups):
        where = f"adversary.groups[{k}]"
        if not isinstance(raw, DictConfig) or "name" not in raw:
            raise ConfigError(f"{where} needs a `name`: one of {sorted(set(schemas) - {'mixed'})}")
        name = raw.name
        if name not in schemas or name == "mixed":
            valid = sorted(set(schemas) - {"mixed"})
            raise ConfigError(f"{where}.name={name} is not an adversary; valid: {valid}")
        body = {key: v for key, v in raw.items() if key != "name"}
        try:
            spec = cast(DictConfig, OmegaConf.merge(OmegaConf.structured(schemas[name]), body))
        except Exception as exc:  # a misspelt key or a wrong type in a group
            raise ConfigError(f"{where} ({name}): {exc}".splitlines()[0]) from None
        specs.append((name, spec))
    return specs


def _option_name(target: str) -> str:
    for name, schema in SCHEMAS["adversary"].items():
        if schema._target_ == target:  # type: ignore[attr-defined]
            return name
    return get_class(target).__name__.lower()


def _count(spec: DictConfig) -> int:
    return len(spec.ids) if spec.ids or spec.placement is Placement.explicit else int(spec.count)


def adversary(cfg: DictConfig, code: Code, seeds: dict[str, np.random.SeedSequence]) -> Adversary:
    """The adversary groups. Group 0 draws from the ``placement``/``adversary`` streams,
    group k > 0 from fixed sub-streams of them; schedules from their own sub-streams.
    Strategies whose constructor takes ``n`` (workers), ``f`` (all adversaries) or ``code``
    (the run's code, e.g. to learn a projection it reuses) get them.
    """
    specs = [(name, spec) for name, spec in _group_specs(cfg.adversary) if name != "none"]
    f = sum(_count(spec) for _, spec in specs)
    if f > code.n:
        raise ConfigError(f"{f} adversaries in all groups exceed cluster.workers={code.n}")
    common = set(AdversaryConf.__dataclass_fields__) - {"_target_"}
    groups = []
    for k, (name, spec) in enumerate(specs):
        params = {
            key: v
            for key, v in OmegaConf.to_container(spec).items()  # type: ignore[union-attr]
            if key not in common
        }
        accepts = inspect.signature(get_class(spec._target_)).parameters
        given = (("n", code.n), ("f", f), ("code", code))
        known = {key: v for key, v in given if key in accepts}
        strategy = _make(params, f"adversary={name}", **known)
        placement_seq = seeds["placement"] if k == 0 else _child(seeds["placement"], k)
        adversary_seq = seeds["adversary"] if k == 0 else _child(seeds["adversary"], k)
        placer = Placer(
            spec.placement, spec.count, list(spec.ids), code.n, code.groups(), rng(placement_seq)
        )
        schedule = Schedule(
            spec.start, spec.stop, spec.probability, rng(_child(seeds["placement"], 1000 + k))
        )
        validate = getattr(strategy, "validate", None)
        if validate is not None:
            validate(placer.count, spec.knowledge)
        groups.append(
            Group(name, placer, schedule, strategy, spec.knowledge, torch_gen(adversary_seq))
        )
    return Adversary(groups)


def timing_only(cfg: DictConfig, code: Code, rule: Aggregator, adv: Adversary) -> TimingOnly:
    """Message sizes only: ``d`` from ``timing.d`` or the configured model's parameters."""
    d = cfg.timing.d
    if d == 0:
        data: Dataset = _make(cfg.data, "data")
        d = count_parameters(
            lambda: _make(cfg.model, "model", in_features=data.features, classes=data.classes)
        )
    if cfg.ps.wait is Wait.decodable:
        check_decodable(code)
    return TimingOnly(code, rule, adv, d)


def candidates(cfg: DictConfig, code: Code) -> tuple[int, str]:
    """Vectors the rule gets when every awaited message arrives, and where that number comes from.

    With a code that groups workers, a wait policy that stops early leaves a number that
    varies by iteration; an iteration with too few then applies no update (a decode failure).
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


def aggregator(cfg: DictConfig, code: Code, seeds: dict[str, np.random.SeedSequence]) -> Aggregator:
    """The rule, behind its pre-aggregators; fails now if it cannot take the candidates."""
    node = cfg.aggregator
    common = {"pre", "bucket_size"}  # the pre-aggregators' settings, not the rule's
    # resolved against the whole config: e.g. Krum's f: ${adversary.count}
    plain = cast(dict[str, Any], OmegaConf.to_container(node, resolve=True))
    params = {k: v for k, v in plain.items() if k not in common}
    rule: Aggregator = _make(params, "aggregator")
    pre: list[PreAggregator] = []
    gen = rng(seeds["aggregator"])
    for kind in node.pre:
        pre.append(NNM(node.f) if kind is Pre.nnm else Bucketing(node.bucket_size, gen))
    if pre:
        rule = Chain(pre, rule)
    k, source = candidates(cfg, code)
    if why := rule.invalid(k):
        raise ConfigError(f"aggregator={rule.name} {why}; got k={k} candidates ({source})")
    return rule


def make_code(cfg: DictConfig, seeds: dict[str, np.random.SeedSequence]) -> Code:
    """The code; one that takes a ``gen`` gets the PS's private stream (its projections)."""
    extra: dict[str, Any] = {}
    if "gen" in inspect.signature(get_class(cfg.code._target_)).parameters:
        extra["gen"] = torch_gen(seeds["ps"])
    return _make(cfg.code, "code", n=cfg.cluster.workers, **extra)


def build(cfg: DictConfig) -> Parts:
    check(cfg)
    n = cfg.cluster.workers
    seeds = streams(cfg.seed)
    dev = device(cfg.device)
    code = make_code(cfg, seeds)
    rule = aggregator(cfg, code, seeds)
    adv = adversary(cfg, code, seeds)
    latency: LatencyModel = _make(cfg.latency, "latency")
    latency.check(n)
    graph = _make(cfg.network, "network", workers=n)
    if cfg.workload is Workload.timing_only:
        return Parts(code, rule, adv, latency, graph, timing_only(cfg, code, rule, adv), seeds)
    data: Dataset = _make(cfg.data, "data")
    if cfg.train.batch_size < code.parts:
        raise ConfigError(
            f"train.batch_size={cfg.train.batch_size} is smaller than the {code.parts} data parts "
            f"per iteration: every part needs at least one sample"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seeds["model"].generate_state(1)[0]))
        model = _make(cfg.model, "model", in_features=data.features, classes=data.classes)
    model = model.to(dev)
    mode = cfg.train.oracle
    # a nonlinear rule looks at every part anyway: compute them all in one batched call
    batched = mode is OracleMode.batched or not hasattr(rule, "weights")
    oracle = GradientOracle(model, batched=batched, reference=mode is OracleMode.reference)
    sampler = BatchSampler(len(data.y_train), cfg.train.batch_size, rng(seeds["data"]))
    learning = Learning(
        oracle,
        data.to(dev),
        sampler,
        code,
        rule,
        adv,
        cfg.train.lr,
        cfg.train.eval_every,
        cfg.train.iterations,
    )
    return Parts(code, rule, adv, latency, graph, learning, seeds)
