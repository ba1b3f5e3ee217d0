"""Every option of every config group, declared once.

An option is a class (or a function) named by ``_target_``; its keyword parameters are the
option's settings. The parameter's annotation is the setting's type (and, through
``Annotated``, its valid range: :mod:`sim.config.ranges`), its default is the setting's
one and only default. :func:`schema` turns a signature into the dataclass that Hydra
composes and checks, so a typo or a value of the wrong type fails while the config is
composed, and nothing anywhere restates a default.

:data:`GROUPS` names the options users select (``aggregator=krum``). A *preset* is an
option whose ``preset`` changes some defaults (``model=fc_mnist`` is ``mlp`` with
``hidden: [800, 500]``). A group may also have *common* settings, declared once in a
dataclass of their own (the adversary's who/when/knowing-what, a rule's pre-aggregators,
the workers' speed factors), and *provided* arguments: constructor parameters the
simulator fills in (``n``, ``gen``, ...), which are never config keys.

Options outside this table (a user's own class, named by ``_target_`` in a YAML file on
the search path) get the same schema from their signature when the config is checked.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass(frozen=True)
class Option:
    target: str  # dotted path of the class or function
    preset: Mapping[str, Any] = field(default_factory=dict)  # defaults this option changes
    doc: str = ""  # what a preset is (an option without one: its target's docstring)


@dataclass(frozen=True)
class Group:
    """One config group: its options, and what every option of it shares."""

    options: Mapping[str, Option]
    provides: tuple[str, ...] = ()  # constructor arguments the simulator supplies
    common: str | None = None  # dotted path of a dataclass of settings every option has
    doc: str = ""


def _options(**targets: str | Option) -> dict[str, Option]:
    return {k: v if isinstance(v, Option) else Option(v) for k, v in targets.items()}


AGG = "sim.aggregators"
ADV = "sim.adversaries"

GROUPS: dict[str, Group] = {
    "code": Group(
        _options(
            none="sim.codes.none.NoCode",
            repetition="sim.codes.repetition.RepetitionCode",
            cyclic="sim.codes.cyclic.CyclicCode",
            assignment="sim.codes.assignment.AssignmentCode",
        ),
        provides=("n", "gen"),
        doc="who computes which data part; how the PS decodes",
    ),
    "aggregator": Group(
        _options(
            mean=f"{AGG}.mean.Mean",
            median=f"{AGG}.median.Median",
            trimmed_mean=f"{AGG}.trimmed_mean.TrimmedMean",
            geomed=f"{AGG}.geomed.GeometricMedian",
            geomed_paper=Option(
                f"{AGG}.geomed.GeometricMedian",
                {
                    "start": "mean",
                    "stop": "step",
                    "per_tensor": True,
                    "tol": 1e-8,
                    "max_iter": 1000,
                },
                "the DRACO authors' baseline: hdmedians' geomedian per parameter tensor "
                "(starts at the mean, stops when the estimate moves < 1e-8, at most 1000 steps)",
            ),
            krum=f"{AGG}.krum.Krum",
            multikrum=f"{AGG}.multikrum.MultiKrum",
            bulyan=f"{AGG}.bulyan.Bulyan",
            centered_clip=f"{AGG}.centered_clip.CenteredClip",
        ),
        provides=("tensor_sizes",),
        common=f"{AGG}.chain.PreSettings",
        doc="the rule applied to the decoded candidates",
    ),
    "adversary": Group(
        _options(
            none=Option(f"{ADV}.strategies.Honest", {"count": 0}),
            reverse=f"{ADV}.strategies.Reverse",
            sign_flip=f"{ADV}.strategies.SignFlip",
            constant=f"{ADV}.strategies.Constant",
            gaussian=f"{ADV}.strategies.Gaussian",
            nans=f"{ADV}.strategies.NaN",
            infs=f"{ADV}.strategies.Inf",
            collude=Option(f"{ADV}.strategies.Collude", {"count": 2}),
            alie=Option(f"{ADV}.omniscient.ALIE", {"count": 3}),
            ipm=Option(f"{ADV}.omniscient.IPM", {"count": 3}),
            mimic=Option(f"{ADV}.omniscient.Mimic", {"count": 3}),
            anti_decoder=f"{ADV}.anti_decoder.AntiDecoder",
            label_flip=f"{ADV}.faults.LabelFlip",
            crash=f"{ADV}.faults.Crash",
            delay=f"{ADV}.faults.Delay",
            alie_line_search=Option(f"{ADV}.line_search.ALIELineSearch", {"count": 3}),
            ipm_line_search=Option(f"{ADV}.line_search.IPMLineSearch", {"count": 3}),
            min_max=Option(f"{ADV}.min_max.MinMax", {"count": 3}),
            min_sum=Option(f"{ADV}.min_max.MinSum", {"count": 3}),
            mixed=Option(
                f"{ADV}.adversary.Mixed",
                {
                    "count": 0,
                    "groups": [
                        {"name": "alie", "count": 2},
                        {"name": "crash", "count": 1, "start": 5},
                    ],
                },
            ),
        ),
        provides=("n", "f", "code", "rule"),
        common=f"{ADV}.adversary.GroupSettings",
        doc="who lies, when, knowing what, and what they send",
    ),
    "latency": Group(
        _options(
            constant="sim.latency.Constant",
            shifted_exp="sim.latency.ShiftedExp",
            pareto="sim.latency.Pareto",
            lognormal="sim.latency.LogNormal",
            bimodal="sim.latency.Bimodal",
            trace="sim.latency.TraceFile",
        ),
        common="sim.latency.Speeds",
        doc="compute time of one uncoded share of the batch",
    ),
    "network": Group(
        _options(
            star="sim.network.star",
            two_tier="sim.network.two_tier",
            graph="sim.network.graph_file",
        ),
        provides=("workers",),
        doc="links between the PS and the workers",
    ),
    "model": Group(
        _options(
            mlp="sim.training.models.MLP",
            fc_mnist=Option(
                "sim.training.models.MLP",
                {"hidden": [800, 500]},
                "the DRACO paper's MNIST network, fully connected 784-800-500-10",
            ),
            lenet="sim.training.models.LeNet",
            cnn_cifar="sim.training.models.CNNCifar",
            resnet18="sim.training.resnet.ResNet18",
        ),
        provides=("in_features", "classes", "in_shape"),
        doc="the network being trained",
    ),
    "data": Group(
        _options(
            mnist1d="sim.training.datasets.mnist1d",
            synthetic="sim.training.datasets.synthetic",
            mnist_synthetic="sim.training.datasets.mnist_synthetic",
            mnist="sim.training.datasets.mnist",
            cifar10="sim.training.cifar.cifar10",
            cifar10_synthetic="sim.training.cifar.cifar10_synthetic",
        ),
        common="sim.training.splits.SplitSettings",
        doc="offline data sets (made locally or read from disk, never downloaded)",
    ),
}

MIXED = "mixed"  # the adversary option made of several groups (adversary.groups)


def locate(target: str) -> Any:
    """The object at a dotted path, e.g. ``sim.aggregators.krum.Krum``."""
    module, _, name = target.rpartition(".")
    try:
        obj: Any = importlib.import_module(module)
    except ModuleNotFoundError as exc:  # maybe a nested name: pkg.module.Class.factory
        if not module or exc.name != module or "." not in module:
            raise
        return getattr(locate(module), name)
    return getattr(obj, name)


def signature_of(obj: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(obj)


def hints_of(obj: Any) -> dict[str, Any]:
    """Resolved annotations of ``obj``'s parameters, ``Annotated`` ranges kept."""
    fn = obj.__init__ if inspect.isclass(obj) else obj
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except (NameError, TypeError):  # an annotation that does not resolve: leave it untyped
        return {}


@dataclass(frozen=True)
class Setting:
    """One key of an option: its type (maybe ``Annotated`` with a range) and default."""

    name: str
    kind: Any
    default: Any  # MISSING: the user must set it


def settings(obj: Any, skip: tuple[str, ...] = ()) -> list[Setting]:
    """The keyword parameters of a class's constructor (or a function) as settings."""
    hints = hints_of(obj)
    out = []
    for p in signature_of(obj).parameters.values():
        if p.name in skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            continue
        default = MISSING if p.default is p.empty else p.default
        out.append(Setting(p.name, hints.get(p.name, Any), default))
    return out


def common_settings(group: str) -> list[Setting]:
    spec = GROUPS[group].common if group in GROUPS else None
    if spec is None:
        return []
    return dataclass_settings(locate(spec))


def dataclass_settings(cls: type) -> list[Setting]:
    """A dataclass's fields as settings: name, annotated type, default (MISSING if none)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = MISSING
        out.append(Setting(f.name, hints[f.name], default))
    return out


def _field(kind: Any, default: Any) -> tuple[Any, Any]:
    if isinstance(default, list | dict | tuple):
        frozen = copy.deepcopy(default)
        return kind, field(default_factory=lambda: copy.deepcopy(frozen))
    return kind, field(default=default)


def schema(group: str, target: str, preset: Mapping[str, Any] | None = None) -> type:
    """The dataclass of one option: ``_target_``, the group's common settings, then the
    target's own parameters (minus those the simulator provides); ``preset`` changes
    some of their defaults."""
    preset = preset or {}
    provided = GROUPS[group].provides if group in GROUPS else ()
    keys = [*common_settings(group), *settings(locate(target), skip=provided)]
    fields: list[tuple[str, Any, Any]] = [("_target_", str, field(default=target))]
    seen = {"_target_"}
    for s in keys:
        if s.name in seen:
            continue
        seen.add(s.name)
        fields.append((s.name, *_field(s.kind, preset.get(s.name, s.default))))
    name = target.rsplit(".", 1)[-1]
    return dataclasses.make_dataclass(f"{name[:1].upper()}{name[1:]}Settings", fields)


@functools.cache
def option_schema(group: str, name: str) -> type:
    """The schema of a shipped option (its preset applied)."""
    opt = GROUPS[group].options[name]
    return schema(group, opt.target, opt.preset)


@functools.cache
def target_schema(group: str, target: str) -> type:
    """The schema of any class in ``group`` (a user's own included), without presets."""
    return schema(group, target)


def option_name(group: str, target: str) -> str | None:
    """The first option of ``group`` whose target is ``target`` (None: a user's own class)."""
    found = (n for n, o in GROUPS.get(group, Group({})).options.items() if o.target == target)
    return next(found, None)


def register() -> None:
    """Store the top-level schema and every option in Hydra's ConfigStore."""
    from hydra.core.config_store import ConfigStore

    from sim.config.schema import Config

    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    for group, spec in GROUPS.items():
        for name in spec.options:
            cs.store(group=group, name=name, node=option_schema(group, name))
