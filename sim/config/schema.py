"""The top-level settings of a run: plain sections, each declared once, with its ranges.

Config groups (``code``, ``aggregator``, ...) are typed by their options' signatures
(:mod:`sim.config.options`); the sections here are the settings that belong to no option.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any

from omegaconf import MISSING

from sim.config.ranges import AtLeastOne, Count, NonNegative, Positive, Range

MomentumFactor = Annotated[float, Range(lambda v: 0 <= v < 1, "in [0, 1)")]


class Device(Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Workload(Enum):
    gradients = "gradients"  # real gradients with PyTorch
    timing_only = "timing_only"  # message sizes only: time, no learning


class Wait(Enum):
    all = "all"
    first_k = "first_k"
    deadline = "deadline"
    decodable = "decodable"


class OracleMode(Enum):
    fast = "fast"  # distinct part gradients once; honest sums by one backward
    batched = "batched"  # every part gradient materialized by one vmap(grad), always
    reference = "reference"  # naive: every worker computes its own gradients (for tests)


@dataclass
class ClusterConf:
    workers: AtLeastOne = 15  # n, the simulated workers


@dataclass
class TrainConf:
    iterations: AtLeastOne = 200  # synchronous SGD steps
    batch_size: AtLeastOne = 600  # distinct samples per iteration, split evenly into data parts
    lr: Positive = 0.5  # SGD step size
    momentum: MomentumFactor = 0.0  # heavy-ball momentum at the PS (PyTorch SGD's)
    weight_decay: NonNegative = 0.0  # L2 weight decay at the PS
    worker_momentum: MomentumFactor = 0.0  # workers send m = b m + (1-b) g (b = this)
    eval_every: AtLeastOne = 10  # test-set evaluation period (and always at the last iteration)
    oracle: OracleMode = OracleMode.fast  # how gradients are computed (same numbers, see docs)


@dataclass
class PSConf:
    wait: Wait = Wait.all  # when the PS stops waiting for messages
    k: Count = 0  # for wait=first_k; 0 means n
    deadline_s: Annotated[float, Range(lambda v: v > 0, "a positive number")] = 1.0  # wait=deadline
    flops: Positive = 1e10  # scalar operations per second the PS sustains (cost model)


@dataclass
class TimingConf:
    d: Count = 0  # model size for workload=timing_only; 0: the configured model's parameters


@dataclass
class TraceConf:
    iterations: Count = 20  # iterations written to trace.json (fewer if over max_spans)
    max_spans: AtLeastOne = 100_000  # bound on trace.json's events for large clusters
    timeline_iterations: Count = 3  # iterations drawn in timeline.png
    timeline_workers: Count = 40  # worker rows drawn in timeline.png (the first ones)


@dataclass
class OutputsConf:
    """Optional files of a run dir (``metrics.csv``, ``summary.json`` and ``config.yaml``
    are always written)."""

    trace: bool = True  # trace.json
    figures: bool = True  # training.png, timeline.png (sweeps of many short runs: false)
    report: bool = True  # report.html
    title: str = ""  # what the figures' titles call the run first (a lesson's name)


@dataclass
class CheckpointConf:
    every: Count = 0  # iterations between checkpoints into the run dir; 0 = off


@dataclass
class Config:
    seed: Count = 0  # every random stream of the run derives from it
    device: Device = Device.auto  # where gradients are computed; auto: cuda if present
    workload: Workload = Workload.gradients  # timing_only: message sizes, no learning
    progress: bool = True  # a progress bar when the terminal is interactive
    cluster: ClusterConf = field(default_factory=ClusterConf)
    train: TrainConf = field(default_factory=TrainConf)
    ps: PSConf = field(default_factory=PSConf)
    code: Any = MISSING
    aggregator: Any = MISSING
    adversary: Any = MISSING
    latency: Any = MISSING
    network: Any = MISSING
    model: Any = MISSING
    data: Any = MISSING
    threads: Count = 0  # torch CPU threads per run; 0 = auto (a parallel sweep job: its share)
    timing: TimingConf = field(default_factory=TimingConf)
    trace: TraceConf = field(default_factory=TraceConf)
    checkpoint: CheckpointConf = field(default_factory=CheckpointConf)
    outputs: OutputsConf = field(default_factory=OutputsConf)
    resume: bool = False  # continue from the run dir's checkpoint (same hydra.run.dir)


SECTIONS = {
    "cluster": ClusterConf,
    "train": TrainConf,
    "ps": PSConf,
    "timing": TimingConf,
    "trace": TraceConf,
    "checkpoint": CheckpointConf,
    "outputs": OutputsConf,
}
