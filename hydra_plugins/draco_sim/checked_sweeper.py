"""draco-sim's sweeper: Hydra's basic sweeper, with every job's config checked before
the first job runs. It is stored as ``hydra/sweeper=basic`` (the default), so a scenario
that picks another sweeper (``override /hydra/sweeper: optuna``) still can; each job of
such a sweep is checked when it starts.

A sweep with a typo in one of its values, or an impossible setting in one job, fails at
once with the same one-line errors as a single run, prefixed by the job
(``error: job 3 (adversary=nans cluster.workers=10): ...``), and runs nothing. It lives
in Hydra's plugin package because Hydra instantiates sweepers only from there.

It fixes the sweep dir once for all jobs (:mod:`sim.sweep.dirs`), and hands the
launcher the configs its checks composed instead of composing each job a second time.
Under the joblib launcher it also starts the fork server the workers are forked from
(:mod:`sim.sweep.workers`).
"""

import copy
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf, open_dict

from sim.config import validate
from sim.config.errors import ConfigError
from sim.config.friendly import explain
from sim.config.inputs import output_dir
from sim.config.presets import conflicts
from sim.sweep.dirs import pin
from sim.sweep.workers import start_fork_server


@dataclass
class CheckedSweeperConf(BasicSweeperConf):
    _target_: str = "hydra_plugins.draco_sim.checked_sweeper.CheckedSweeper"


class Composed:
    """A config loader that gives each job the config the checks already composed for
    it (once), and asks the real loader for anything else."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.made: dict[tuple[str, ...], DictConfig] = {}

    def load_sweep_config(self, master: DictConfig, overrides: list[str]) -> DictConfig:
        made = self.made.pop(tuple(overrides), None)
        return made if made is not None else self.loader.load_sweep_config(master, overrides)

    def __getattr__(self, name: str) -> Any:
        if name in ("loader", "made"):  # not set yet (while unpickling)
            raise AttributeError(name)
        return getattr(self.loader, name)


class CheckedSweeper(BasicSweeper):
    def setup(self, *, hydra_context: Any, task_function: Any, config: DictConfig) -> None:
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        pin(config)  # every job under the sweep dir this command line names
        self.composed = Composed(hydra_context.config_loader)
        assert self.launcher is not None
        self.launcher.hydra_context = replace(hydra_context, config_loader=self.composed)  # type: ignore[attr-defined]
        if "joblib" in str(OmegaConf.select(config, "hydra.launcher._target_", default="")):
            start_fork_server()  # its imports overlap with the checks below

    def sweep(self, arguments: list[str]) -> Any:
        """The sweep's own folders are checked before Hydra writes anything there."""
        assert self.config is not None
        sweep = self.config.hydra.sweep
        output_dir("hydra.sweep.dir", str(sweep.dir))
        if not str(sweep._get_node("subdir")._value()).strip():
            raise ConfigError(
                "hydra.sweep.subdir is empty: every job would write into the same directory "
                "(the default is ${hydra.job.num})"
            )
        return super().sweep(arguments)

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        assert self.hydra_context is not None and self.config is not None
        loader = self.hydra_context.config_loader
        found = []
        for num, overrides in enumerate(batch):
            job = f"job {num} ({' '.join(o for o in overrides if not o.startswith('hydra.'))})"
            try:
                cfg = loader.load_sweep_config(self.config, list(overrides))
            except Exception as exc:  # composition failed: one line, like a single run
                lines = explain(exc, list(overrides)) or [str(exc).splitlines()[0]]
                found += [f"{job}: {line}" for line in lines]
                continue
            self.composed.made[tuple(overrides)] = cfg
            task = copy.deepcopy(cfg)
            with open_dict(task):
                del task["hydra"]
            problems = conflicts(cfg, loader) or validate.problems(task)
            found += [f"{job}: {line}" for line in problems]
        if found:
            raise ConfigError(*found)


# after hydra's own entry (imported above): the same options, plus the check
ConfigStore.instance().store(
    group="hydra/sweeper", name="basic", node=CheckedSweeperConf, provider="draco-sim"
)
