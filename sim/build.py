"""The one place where a composed config becomes objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from sim.adversaries.adversary import Adversary
from sim.adversaries.placement import Placer
from sim.aggregators.base import Aggregator
from sim.codes.base import Code
from sim.config import AdversaryConf, Device, Wait, Workload
from sim.errors import ConfigError
from sim.latency import LatencyModel
from sim.protocol import Learning
from sim.timing import TimingOnly, check_decodable, count_parameters
from sim.training.datasets import BatchSampler, Dataset
from sim.training.oracle import GradientOracle

STREAMS = ("data", "latency", "placement", "adversary", "model", "workers", "ps", "spare")


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
    n = cfg.cluster.workers
    if n < 1:
        raise ConfigError(f"cluster.workers={n} must be >= 1")
    if cfg.train.iterations < 1:
        raise ConfigError(f"train.iterations={cfg.train.iterations} must be >= 1")
    if cfg.train.lr <= 0 or not np.isfinite(cfg.train.lr):
        raise ConfigError(f"train.lr={cfg.train.lr} must be a positive number")
    if cfg.train.eval_every < 1:
        raise ConfigError(f"train.eval_every={cfg.train.eval_every} must be >= 1")
    if cfg.ps.flops <= 0:
        raise ConfigError(f"ps.flops={cfg.ps.flops} must be positive")
    if cfg.ps.wait is Wait.first_k and not 0 <= cfg.ps.k <= n:
        raise ConfigError(f"ps.k={cfg.ps.k} must be between 1 and cluster.workers={n} (0 = n)")
    if cfg.ps.wait is Wait.deadline and not cfg.ps.deadline_s > 0:
        raise ConfigError(f"ps.deadline_s={cfg.ps.deadline_s} must be positive")
    if cfg.timing.d < 0:
        raise ConfigError(f"timing.d={cfg.timing.d} must be >= 0 (0: the model's parameters)")
    for key in ("iterations", "timeline_iterations", "timeline_workers"):
        if cfg.trace[key] < 0:
            raise ConfigError(f"trace.{key}={cfg.trace[key]} must be >= 0")
    if cfg.trace.max_spans < 1:
        raise ConfigError(f"trace.max_spans={cfg.trace.max_spans} must be >= 1")


def adversary(cfg: DictConfig, code: Code, seeds: dict[str, np.random.SeedSequence]) -> Adversary:
    node = cfg.adversary
    common = set(AdversaryConf.__dataclass_fields__) - {"_target_"}
    params = {k: v for k, v in OmegaConf.to_container(node).items() if k not in common}  # type: ignore[union-attr]
    strategy = _make(params, f"adversary={get_class(node._target_).__name__}")
    placer = Placer(
        node.placement, node.count, list(node.ids), code.n, code.groups(), rng(seeds["placement"])
    )
    return Adversary(placer, strategy, node.knowledge, torch_gen(seeds["adversary"]))


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


def build(cfg: DictConfig) -> Parts:
    check(cfg)
    n = cfg.cluster.workers
    seeds = streams(cfg.seed)
    dev = device(cfg.device)
    code: Code = _make(cfg.code, "code", n=n)
    rule: Aggregator = _make(cfg.aggregator, "aggregator")
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
    batched = not hasattr(rule, "weights")  # a nonlinear rule looks at every part anyway
    oracle = GradientOracle(model, batched=batched)
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
