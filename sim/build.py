"""The one place where a composed config becomes objects: ``build(cfg) -> World``.

Every option is made the same way (:func:`make`): its ``_target_`` is called with the
option's own settings, plus the *provided* arguments its signature asks for (the
simulator's facts, declared per group in :data:`sim.config.options.GROUPS`: ``n`` and
``gen`` for codes, ``n``, ``f``, ``code`` and ``rule`` for adversary strategies,
``workers`` for topologies, ``in_features`` and ``classes`` for models, ``tensor_sizes``
for rules). Settings every option of a group shares (an adversary's placement, a rule's
pre-aggregators, the workers' speed factors) are the builder's to use.
"""

from __future__ import annotations

import inspect
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
from sim.training.datasets import BatchSampler, Dataset, shape_of
from sim.training.oracle import GradientOracle
from sim.world import World

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


def traced_iterations(cfg: DictConfig, network: Network) -> int:
    """``trace.iterations``, fewer when a round's spans would pass ``trace.max_spans``."""
    n, hops = cfg.cluster.workers, network.down.shape[1]
    per_round = n * (3 + 2 * hops) + 3  # worker lanes, link holds, the PS's lanes
    fit = max(1, cfg.trace.max_spans // per_round)
    return min(cfg.trace.iterations, cfg.train.iterations, fit)


def learning(
    cfg: DictConfig, code: Code, rule: Aggregator, adv: Adversary, seeds: Seeds, data: Dataset
) -> Learning:
    """Real gradients: the model, the oracle and the round's math on ``data``."""
    dev = device(cfg.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seeds["model"].generate_state(1)[0]))
        model = make("model", cfg.model, in_features=data.features, classes=data.classes)
    model = model.to(dev)
    mode = cfg.train.oracle
    # a nonlinear rule looks at every part anyway: compute them all in one batched call
    batched = mode is OracleMode.batched or not isinstance(rule, Linear)
    oracle = GradientOracle(model, batched=batched, reference=mode is OracleMode.reference)
    sampler = BatchSampler(len(data.y_train), cfg.train.batch_size, rng(seeds["data"]))
    train = cfg.train
    return Learning(
        oracle, data.to(dev), sampler, code, rule, adv, train.lr, train.eval_every, train.iterations
    )


def model_sizes(cfg: DictConfig, data: Dataset | None) -> tuple[int, ...]:
    """The configured model's parameter tensor sizes (``(timing.d,)`` when that is set
    in a timing-only run); without ``data``, the data set only says its shape, if it can."""
    if data is None and cfg.workload is Workload.timing_only and cfg.timing.d:
        return (int(cfg.timing.d),)
    shape = None if data is None else (data.features, data.classes)
    if shape is None:
        shape = shape_of(locate(str(cfg.data._target_)), settings("data", cfg.data))
    if shape is None:
        made: Dataset = make("data", cfg.data)
        shape = made.features, made.classes
    features, classes = shape
    return tensor_sizes(lambda: make("model", cfg.model, in_features=features, classes=classes))


def build(cfg: DictConfig) -> World:
    """The whole wired simulation of ``cfg``, checked: nothing is left to fail at run time
    that could be known before the first iteration."""
    cfg = validate.check(cfg)
    n = cfg.cluster.workers
    seeds = streams(cfg.seed)
    code: Code = make("code", cfg.code, n=n, gen=torch_gen(seeds["ps"]))
    timing = cfg.workload is Workload.timing_only
    data: Dataset | None = None if timing else make("data", cfg.data)
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
    trace = Trace(limit=traced_iterations(cfg, network))
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
