"""Typed settings of a simulation run, registered in Hydra's ConfigStore.

Every config group option in ``scenarios/`` extends one of the schemas below, so a
misspelt key or a value of the wrong type fails while Hydra composes the config,
before any work starts. Every default lives here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


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


class Placement(Enum):
    fixed = "fixed"  # one set, drawn once from the seed
    random = "random"  # re-drawn every iteration
    worst_case = "worst_case"  # concentrated against the code's groups
    explicit = "explicit"  # exactly adversary.ids


class Knowledge(Enum):
    omniscient = "omniscient"  # sees this iteration's honest messages
    none = "none"  # sees only its own honest message


class PreAggregator(Enum):
    nnm = "nnm"  # nearest-neighbour mixing (uses aggregator.f)
    bucketing = "bucketing"  # random buckets of aggregator.bucket_size, averaged


class AlieVariant(Enum):
    paper = "paper"  # Baruch et al. 2019, Alg. 3: z = Phi^-1((n - s) / n)
    honest = "honest"  # common code variant: z = Phi^-1((n - f - s) / (n - f))


# ---------------------------------------------------------------- plain sections


@dataclass
class ClusterConf:
    workers: int = 15


@dataclass
class TrainConf:
    iterations: int = 200
    batch_size: int = 600  # distinct samples per iteration, split evenly into data parts
    lr: float = 0.5
    eval_every: int = 10  # test-set evaluation period (and always at the last iteration)
    oracle: OracleMode = OracleMode.fast  # how gradients are computed (same numbers, see docs)


@dataclass
class PSConf:
    wait: Wait = Wait.all
    k: int = 0  # for wait=first_k; 0 means n
    deadline_s: float = 1.0  # for wait=deadline, measured from the start of the iteration
    flops: float = 1e10  # scalar operations per second the PS sustains (cost model)


# ---------------------------------------------------------------- group schemas


@dataclass
class CodeConf:
    _target_: str = MISSING


@dataclass
class NoCodeConf(CodeConf):
    _target_: str = "sim.codes.none.NoCode"


@dataclass
class RepetitionConf(CodeConf):
    _target_: str = "sim.codes.repetition.RepetitionCode"
    r: int = 3
    tolerance: float = 0.0  # 0: bitwise equality; >0: max abs difference still "equal"


@dataclass
class CyclicConf(CodeConf):
    _target_: str = "sim.codes.cyclic.CyclicCode"
    s: int = 1  # errors corrected; every worker computes 2s+1 parts
    tolerance: float = 1e-10  # relative least-squares residual still "one codeword"
    fresh_projection: bool = True  # false: reuse one projection forever (to show the attack)


@dataclass
class AggregatorConf:
    _target_: str = MISSING
    f: int = 0  # declared adversaries the rule assumes (separate from adversary.count)
    pre: list[PreAggregator] = field(default_factory=list)  # applied in order before the rule
    bucket_size: int = 2  # for pre=[bucketing]


@dataclass
class MeanConf(AggregatorConf):
    _target_: str = "sim.aggregators.mean.Mean"


@dataclass
class MedianConf(AggregatorConf):
    _target_: str = "sim.aggregators.median.Median"


@dataclass
class TrimmedMeanConf(AggregatorConf):
    _target_: str = "sim.aggregators.trimmed_mean.TrimmedMean"
    b: int = 1  # values dropped at each end, per coordinate; needs k > 2b


@dataclass
class GeomedConf(AggregatorConf):
    _target_: str = "sim.aggregators.geomed.GeometricMedian"
    tol: float = 1e-5  # stop when the objective fell by at most tol x itself in one step
    max_iter: int = 100
    nu: float = 1e-6  # smoothing: distances below nu count as nu


@dataclass
class KrumConf(AggregatorConf):
    _target_: str = "sim.aggregators.krum.Krum"


@dataclass
class MultiKrumConf(AggregatorConf):
    _target_: str = "sim.aggregators.multikrum.MultiKrum"
    m: int | None = None  # candidates averaged; null: k - f


@dataclass
class BulyanConf(AggregatorConf):
    _target_: str = "sim.aggregators.bulyan.Bulyan"


@dataclass
class CenteredClipConf(AggregatorConf):
    _target_: str = "sim.aggregators.centered_clip.CenteredClip"
    tau: float = 1.0  # clipping radius around the center
    iterations: int = 1  # clipping steps per PS iteration


@dataclass
class AdversaryConf:
    """Who, when and knowing what; the strategy (what) is ``_target_`` plus its own fields."""

    _target_: str = MISSING
    count: int = 0
    placement: Placement = Placement.fixed
    ids: list[int] = field(default_factory=list)
    knowledge: Knowledge = Knowledge.omniscient
    start: int = 0  # schedule: first active iteration
    stop: int | None = None  # schedule: first inactive iteration after start; null: never
    probability: float = 1.0  # schedule: chance of being active in an iteration


@dataclass
class NoAdversaryConf(AdversaryConf):
    _target_: str = "sim.adversaries.strategies.Honest"


@dataclass
class ReverseConf(AdversaryConf):
    _target_: str = "sim.adversaries.strategies.Reverse"
    count: int = 1
    scale: float = 100.0


@dataclass
class SignFlipConf(AdversaryConf):
    _target_: str = "sim.adversaries.strategies.SignFlip"
    count: int = 1


@dataclass
class ConstantAttackConf(AdversaryConf):
    _target_: str = "sim.adversaries.strategies.Constant"
    count: int = 1
    value: float = -100.0


@dataclass
class GaussianAttackConf(AdversaryConf):
    _target_: str = "sim.adversaries.strategies.Gaussian"
    count: int = 1
    mean: float = 0.0
    std: float = 200.0
    add: bool = False  # True: g + noise; False: noise alone


@dataclass
class NaNConf(AdversaryConf):
    _target_: str = "sim.adversaries.strategies.NaN"
    count: int = 1


@dataclass
class InfConf(AdversaryConf):
    _target_: str = "sim.adversaries.strategies.Inf"
    count: int = 1
    sign: float = 1.0


@dataclass
class ColludeConf(AdversaryConf):
    _target_: str = "sim.adversaries.strategies.Collude"
    count: int = 2
    scale: float = 100.0


@dataclass
class ALIEConf(AdversaryConf):
    _target_: str = "sim.adversaries.omniscient.ALIE"
    count: int = 3
    z: float | None = None  # null: from n and f by `variant`
    variant: AlieVariant = AlieVariant.paper
    sign: float = -1.0  # mu + sign * z * sigma
    ddof: int = 1  # sigma's delta degrees of freedom


@dataclass
class IPMConf(AdversaryConf):
    _target_: str = "sim.adversaries.omniscient.IPM"
    count: int = 3
    epsilon: float = 0.1


@dataclass
class MimicConf(AdversaryConf):
    _target_: str = "sim.adversaries.omniscient.Mimic"
    count: int = 3
    target: int = 0  # index among the honest workers (in rank order)


@dataclass
class AntiDecoderConf(AdversaryConf):
    _target_: str = "sim.adversaries.anti_decoder.AntiDecoder"
    count: int = 1
    scale: float = 100.0
    seed: int = 0  # of the projection it knows (sim.adversaries.anti_decoder.shared_projection)


@dataclass
class LabelFlipConf(AdversaryConf):
    _target_: str = "sim.adversaries.faults.LabelFlip"
    count: int = 1


@dataclass
class CrashConf(AdversaryConf):
    _target_: str = "sim.adversaries.faults.Crash"
    count: int = 1


@dataclass
class DelayConf(AdversaryConf):
    _target_: str = "sim.adversaries.faults.Delay"
    count: int = 1
    seconds: float = 1.0  # extra simulated seconds before the upload


@dataclass
class MixedConf(AdversaryConf):
    """Several groups; each is ``{name: OPTION, ...that option's keys}`` (see adversary=NAME)."""

    _target_: str = "sim.adversaries.adversary.Adversary"
    groups: list[Any] = field(default_factory=list)


@dataclass
class LatencyConf:
    _target_: str = MISSING
    speed_factors: list[float] = field(default_factory=list)  # per worker; empty: all 1


@dataclass
class ConstantLatencyConf(LatencyConf):
    _target_: str = "sim.latency.Constant"
    seconds: float = 0.05  # compute time of one data part


@dataclass
class ShiftedExpLatencyConf(LatencyConf):
    _target_: str = "sim.latency.ShiftedExp"
    shift_s: float = 0.05  # minimum compute time of one data part
    scale_s: float = 0.01  # mean of the exponential tail added to it


@dataclass
class ParetoLatencyConf(LatencyConf):
    _target_: str = "sim.latency.Pareto"
    xm_s: float = 0.05  # minimum (scale) of the Pareto I distribution
    alpha: float = 3.0  # tail index: smaller is heavier


@dataclass
class LogNormalLatencyConf(LatencyConf):
    _target_: str = "sim.latency.LogNormal"
    median_s: float = 0.05
    sigma: float = 0.5  # standard deviation of the log of the time


@dataclass
class BimodalLatencyConf(LatencyConf):
    _target_: str = "sim.latency.Bimodal"
    seconds: float = 0.05  # a normal worker's time
    p_slow: float = 0.1  # chance that a worker is slow in an iteration
    slow_factor: float = 10.0  # a slow worker takes this many times longer


@dataclass
class TraceLatencyConf(LatencyConf):
    _target_: str = "sim.latency.TraceFile"
    path: str = ""  # CSV, one row per iteration: one number or one per worker


@dataclass
class NetworkConf:
    _target_: str = MISSING
    bandwidth_bps: float = 10e9
    latency_s: float = 50e-6


@dataclass
class StarConf(NetworkConf):
    _target_: str = "sim.network.star"


@dataclass
class TwoTierConf(NetworkConf):
    _target_: str = "sim.network.two_tier"
    workers_per_rack: int = 8
    oversubscription: float = 1.0  # rack uplink = workers_per_rack x bandwidth / this


@dataclass
class GraphFileConf:
    """A topology read from a file: every link's numbers come from the file."""

    _target_: str = "sim.network.graph_file"
    path: str = ""  # GraphML (.graphml/.xml) or edge list "u v bandwidth_bps latency_s"


@dataclass
class ModelConf:
    _target_: str = MISSING


@dataclass
class MLPConf(ModelConf):
    _target_: str = "sim.training.models.MLP"
    hidden: list[int] = field(default_factory=lambda: [128, 128])


@dataclass
class DataConf:
    _target_: str = MISSING
    seed: int = 0  # the data set itself; the run's `seed` only orders it


@dataclass
class MNIST1DConf(DataConf):
    _target_: str = "sim.training.datasets.mnist1d"
    samples: int = 5000


@dataclass
class SyntheticConf(DataConf):
    _target_: str = "sim.training.datasets.synthetic"
    samples: int = 4000
    features: int = 32
    classes: int = 10


@dataclass
class TimingConf:
    d: int = 0  # model size for workload=timing_only; 0: the configured model's parameters


@dataclass
class TraceConf:
    iterations: int = 20  # iterations written to trace.json (fewer if over max_spans)
    max_spans: int = 100_000  # bound on trace.json's events for large clusters
    timeline_iterations: int = 3  # iterations drawn in timeline.png
    timeline_workers: int = 40  # worker rows drawn in timeline.png (the first ones)


@dataclass
class CheckpointConf:
    every: int = 0  # iterations between checkpoints into the run dir; 0 = off


@dataclass
class MNISTSyntheticConf(DataConf):
    _target_: str = "sim.training.datasets.mnist_synthetic"
    samples: int = 12000


@dataclass
class MNISTConf(DataConf):
    _target_: str = "sim.training.datasets.mnist"
    root: str = MISSING  # folder holding the four MNIST IDX files (never downloaded)
    samples: int = 0  # training samples to keep; 0 = all 60000


@dataclass
class Config:
    seed: int = 0
    device: Device = Device.auto
    workload: Workload = Workload.gradients
    progress: bool = True
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
    threads: int = 0  # torch CPU threads per run; 0 = auto (a parallel sweep job: its share)
    timing: TimingConf = field(default_factory=TimingConf)
    trace: TraceConf = field(default_factory=TraceConf)
    checkpoint: CheckpointConf = field(default_factory=CheckpointConf)
    resume: bool = False  # continue from the run dir's checkpoint (same hydra.run.dir)


SCHEMAS: dict[str, dict[str, type]] = {
    "code": {"none": NoCodeConf, "repetition": RepetitionConf, "cyclic": CyclicConf},
    "aggregator": {
        "mean": MeanConf,
        "median": MedianConf,
        "trimmed_mean": TrimmedMeanConf,
        "geomed": GeomedConf,
        "krum": KrumConf,
        "multikrum": MultiKrumConf,
        "bulyan": BulyanConf,
        "centered_clip": CenteredClipConf,
    },
    "adversary": {
        "none": NoAdversaryConf,
        "reverse": ReverseConf,
        "sign_flip": SignFlipConf,
        "constant": ConstantAttackConf,
        "gaussian": GaussianAttackConf,
        "nans": NaNConf,
        "infs": InfConf,
        "collude": ColludeConf,
        "alie": ALIEConf,
        "ipm": IPMConf,
        "mimic": MimicConf,
        "anti_decoder": AntiDecoderConf,
        "label_flip": LabelFlipConf,
        "crash": CrashConf,
        "delay": DelayConf,
        "mixed": MixedConf,
    },
    "latency": {
        "constant": ConstantLatencyConf,
        "shifted_exp": ShiftedExpLatencyConf,
        "pareto": ParetoLatencyConf,
        "lognormal": LogNormalLatencyConf,
        "bimodal": BimodalLatencyConf,
        "trace": TraceLatencyConf,
    },
    "network": {"star": StarConf, "two_tier": TwoTierConf, "graph": GraphFileConf},
    "model": {"mlp": MLPConf},
    "data": {
        "mnist1d": MNIST1DConf,
        "synthetic": SyntheticConf,
        "mnist_synthetic": MNISTSyntheticConf,
        "mnist": MNISTConf,
    },
}


def register() -> None:
    """Store the schemas; a YAML option extends ``/schema/<group>/<name>``."""
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    for group, options in SCHEMAS.items():
        for name, node in options.items():
            cs.store(group=f"schema/{group}", name=name, node=node)
