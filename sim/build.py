"""The one place where a composed config becomes objects: ``build(cfg) -> World``.

Every option is made the same way (:func:`make`): its ``_target_`` is called with the
option's own settings, plus the *provided* arguments its signature asks for (the
simulator's facts, declared per group in :data:`sim.config.options.GROUPS`: ``n`` and
``gen`` for codes, ``n``, ``f``, ``code`` and ``rule`` for adversary strategies,
``workers`` for topologies, ``in_features``, ``classes`` and ``in_shape`` for models,
``tensor_sizes`` for rules). Settings every option of a group shares (an adversary's
placement, a rule's pre-aggregators, the workers' speed factors, the data split) are the
builder's to use.
"""

from __future__ import annotations

import inspect
import logging
from math import prod
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from sim.adversaries.adversary import Adversary, Group
from sim.adversaries.placement import Placer
from sim.adversaries.schedule import Schedule
from sim.aggregators.base import Aggregator, Linear
from sim.aggregators.bucketing import Bucketing
from sim.aggregators.chain import Chain, Pre, PreAggregator
from sim.aggregators.nnm import NNM
from sim.codes.base import Code
from sim.config import validate
from sim.config.errors import ConfigError
from sim.config.options import GROUPS, locate
from sim.config.schema import Device, OracleMode, Workload
from sim.latency import LatencyModel, Speeds
from sim.network import PS, Network
from sim.nodes.ps import ParameterServer, RoundMath, WaitPolicy
from sim.nodes.worker import Worker
from sim.protocol import Learning
from sim.runs.trace import Trace
from sim.timing import TimingOnly, tensor_sizes
from sim.training import splits
from sim.training.datasets import Dataset, shape_of
from sim.training.models import batch_norm_problem
from sim.training.optimizer import ServerSGD
from sim.training.oracle import GradientOracle
from sim.world import World

log = logging.getLogger(__name__)

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

Seeds = dict[str, np.random.SeedSequence]


def streams(seed: int) -> Seeds:
    """Independent random streams, one per role, at fixed positions: adding a role at the
    end never changes the numbers any other role draws."""
    return dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS)), strict=True))


def rng(seq: np.random.SeedSequence) -> np.random.Generator:
    return np.random.default_rng(seq)


def torch_gen(seq: np.random.SeedSequence) -> torch.Generator:
    return torch.Generator().manual_seed(int(seq.generate_state(1, dtype=np.uint64)[0] >> 1))


def child(seq: np.random.SeedSequence, key: int) -> np.random.SeedSequence:
    """A fixed sub-stream of ``seq`` (independent of how often anyone calls ``spawn``)."""
    return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, key))


def device(choice: Device) -> torch.device:
    if choice is Device.cuda and not torch.cuda.is_available():
        raise ConfigError("device=cuda but no CUDA device is available (use device=auto or cpu)")
    if choice is Device.auto:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice.value)


def settings(group: str, node: DictConfig) -> dict[str, Any]:
    """The option's own settings: the node without ``_target_`` and the group's common keys."""
    common = set(validate.common_keys(group))
    plain = OmegaConf.to_container(node, resolve=True)
    assert isinstance(plain, dict)
    return {str(k): v for k, v in plain.items() if k != "_target_" and k not in common}


def make(group: str, node: DictConfig, **provided: Any) -> Any:
    """Call the option's target with its settings and the provided arguments it takes."""
    target = locate(str(node._target_))
    params = inspect.signature(target).parameters
    takes = {k: v for k, v in provided.items() if k in params and k in GROUPS[group].provides}
    try:
        return target(**settings(group, node), **takes)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:  # a user's class refusing its settings
        raise ConfigError(f"{group}={node._target_}: {exc}".splitlines()[0]) from None


def aggregator(node: DictConfig, seeds: Seeds, sizes: tuple[int, ...] = ()) -> Aggregator:
    """The rule, behind its pre-aggregators; ``sizes``: the model's parameter tensors."""
    rule: Aggregator = make("aggregator", node, tensor_sizes=sizes)
    gen = rng(seeds["aggregator"])
    pre: list[PreAggregator] = [
        NNM(node.f) if kind is Pre.nnm else Bucketing(node.bucket_size, gen) for kind in node.pre
    ]
    return Chain(pre, rule) if pre else rule


def adversary(
    cfg: DictConfig, code: Code, seeds: Seeds, rule: Aggregator | None = None
) -> Adversary:
    """The adversary groups. Group 0 draws from the ``placement``/``adversary`` streams,
    group k > 0 from fixed sub-streams of them; schedules from their own sub-streams."""
    specs = validate.adversary_groups(cfg)
    f = sum(validate.group_workers(spec) for _, spec in specs)
    groups = []
    for k, (name, spec) in enumerate(specs):
        strategy = make("adversary", spec, n=code.n, f=f, code=code, rule=rule)
        placement_seq = seeds["placement"] if k == 0 else child(seeds["placement"], k)
        adversary_seq = seeds["adversary"] if k == 0 else child(seeds["adversary"], k)
        placer = Placer(
            spec.placement, spec.count, list(spec.ids), code.n, code.groups(), rng(placement_seq)
        )
        schedule = Schedule(
            spec.start, spec.stop, spec.probability, rng(child(seeds["placement"], 1000 + k))
        )
        groups.append(
            Group(name, placer, schedule, strategy, spec.knowledge, torch_gen(adversary_seq))
        )
    return Adversary(groups)


def trace_for(cfg: DictConfig, network: Network) -> Trace:
    """A trace of ``trace.iterations`` rounds of every worker, fewer when that would pass
    ``trace.max_spans`` (a hard limit): fewer rounds, and when not even one round of
    every worker fits, one round of the first workers."""
    n, hops = cfg.cluster.workers, network.down.shape[1]
    per_worker = 3 + 2 * hops  # its lanes and its transfers' link holds
    budget = cfg.trace.max_spans - 3  # the PS's lanes
    workers = min(n, max(0, budget // per_worker))
    rounds = budget // (workers * per_worker) if workers else 0
    limit = min(cfg.trace.iterations, cfg.train.iterations, rounds)
    return Trace(limit, workers=workers, total=n)


def learning(
    cfg: DictConfig, code: Code, rule: Aggregator, adv: Adversary, seeds: Seeds, data: Dataset
) -> Learning:
    """Real gradients: the model, the oracle and the round's math on ``data``."""
    dev = device(cfg.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seeds["model"].generate_state(1)[0]))
        model = new_model(cfg, data.shape, data.classes)
    if why := batch_norm_problem(model):
        raise ConfigError(f"model={cfg.model._target_}: {why}")
    model = model.to(dev)
    train = cfg.train
    mode = train.oracle
    # a nonlinear rule looks at every part anyway: compute them all in one batched call
    batched = mode is OracleMode.batched or not isinstance(rule, Linear)
    reference = mode is OracleMode.reference
    oracle = GradientOracle(model, batched, reference, worker_momentum=train.worker_momentum)
    if dev.type == "cuda" and reference and getattr(code, "tolerance", None) == 0.0:
        log.warning(
            "device=cuda with train.oracle=reference: every worker recomputes its gradient, "
            "and CUDA kernels (convolution and adaptive-pooling backward, scatter-adds) are "
            "not bit-deterministic, so honest copies may differ in their last bits and lose "
            "the bitwise vote; set code.tolerance (e.g. 1e-6) to compare within it"
        )
    split = splits.SplitSettings(cfg.data.split, cfg.data.alpha, cfg.data.shard_classes)
    sampler = splits.sampler(
        split,
        data.y_train,
        data.classes,
        code.parts,
        train.batch_size,
        rng(seeds["data"]),
        rng(child(seeds["data"], 1)),  # the shards: a fixed sub-stream of the data stream
    )
    optimizer = ServerSGD(train.lr, train.momentum, train.weight_decay, dev)
    return Learning(
        oracle,
        data.to(dev),
        sampler,
        code,
        rule,
        adv,
        optimizer,
        train.eval_every,
        train.iterations,
        train.worker_momentum,
    )


def new_model(cfg: DictConfig, sample: tuple[int, ...], classes: int) -> torch.nn.Module:
    """The configured model for samples of shape ``sample`` (flat: ``(features,)``)."""
    model: torch.nn.Module = make(
        "model", cfg.model, in_features=prod(sample), classes=classes, in_shape=sample
    )
    return model


def model_sizes(cfg: DictConfig, data: Dataset | None) -> tuple[int, ...]:
    """The configured model's parameter tensor sizes (``(timing.d,)`` when that is set
    in a timing-only run), counted on PyTorch's meta device; without ``data``, the data
    set only says its shape, if it can."""
    if data is None and cfg.workload is Workload.timing_only and cfg.timing.d:
        return (int(cfg.timing.d),)
    shape = None if data is None else (data.shape, data.classes)
    if shape is None:
        shape = shape_of(locate(str(cfg.data._target_)), settings("data", cfg.data))
    if shape is None:
        made: Dataset = make("data", cfg.data)
        shape = made.shape, made.classes
    return tensor_sizes(lambda: new_model(cfg, *shape))


def build(cfg: DictConfig) -> World:
    """The whole wired simulation of ``cfg``, checked: nothing is left to fail at run time
    that could be known before the first iteration."""
    cfg = validate.check(cfg)
    n = cfg.cluster.workers
    seeds = streams(cfg.seed)
    code: Code = make("code", cfg.code, n=n, gen=torch_gen(seeds["ps"]))
    timing = cfg.workload is Workload.timing_only
    data: Dataset | None = None if timing else make("data", cfg.data)
    if data is not None and (found := data.flaws()):
        raise ConfigError(*(f"data={cfg.data._target_}: {line}" for line in found))
    sizes = model_sizes(cfg, data)
    rule = aggregator(cfg.aggregator, seeds, sizes)
    adv = adversary(cfg, code, seeds, rule)
    latency: LatencyModel = make("latency", cfg.latency)
    network = Network(make("network", cfg.network, workers=n), n)
    samples = None
    math: RoundMath
    if data is None:
        math = TimingOnly(code, rule, adv, sum(sizes))
    else:
        math = learning(cfg, code, rule, adv, seeds, data)
        samples = len(data.y_train)
    validate.check_built(cfg, code, rule, adv, latency, samples)
    trace = trace_for(cfg, network)
    trace.pid(PS)  # the PS's lanes first, then the workers', then the links'
    ps = ParameterServer(
        workers=[Worker(i, trace) for i in range(n)],
        network=network,
        math=math,
        latency=latency,
        speeds=Speeds(list(cfg.latency.speed_factors)).of(n),
        overhead_s=cfg.latency.overhead_s,
        rng=rng(seeds["latency"]),
        wait=WaitPolicy(cfg.ps.wait, cfg.ps.k or n, cfg.ps.deadline_s),
        flops=cfg.ps.flops,
        trace=trace,
    )
    return World(ps, cfg.train.iterations, cfg)
