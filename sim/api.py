"""The Python API: run scenarios from a script or a notebook, and read runs back.

>>> from sim import api
>>> attacked = api.run(["code=repetition", "adversary=reverse", "train.iterations=20"])
>>> clean = api.run(["code=repetition", "adversary=none", "train.iterations=20"])
>>> attacked.summary.model_digest == clean.summary.model_digest  # DRACO removed the liar
True

:func:`run` composes the same config as ``python -m sim`` with the same overrides (so the
same ``model_digest``), checks it, builds it and runs it, in this process. With
``out_dir=None`` nothing is written and no figure is drawn; with a directory, the run's
files are written as the command line writes them (figures with ``figures=True``).
:func:`load_run` and :func:`load_sweep` read finished runs back into the same
:class:`~sim.runs.store.Result` objects.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from sim.runs.store import Result, load_run, load_runs, load_sweep, parse_overrides

__all__ = ["Result", "compose", "load_run", "load_runs", "load_sweep", "run"]


def compose(overrides: Sequence[str] = (), config_dir: str | Path | None = None) -> DictConfig:
    """The scenario ``python -m sim OVERRIDES`` would run, checked (a ConfigError if not).

    ``config_dir``: a folder of your own configs searched before the shipped ones (what
    ``--config-dir`` does on the command line).
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from sim.cli import CONFIG_DIR, CONFIG_NAME, register
    from sim.config import validate
    from sim.config.errors import ConfigError
    from sim.config.friendly import explain
    from sim.config.presets import conflicts

    register()
    args = list(overrides)
    if config_dir is not None:
        args.append(f"hydra.searchpath=[file://{Path(config_dir).resolve()}]")
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = hydra_compose(CONFIG_NAME, overrides=args, return_hydra_config=True)
            clash = conflicts(cfg, GlobalHydra.instance().config_loader())
    except Exception as exc:  # a composition error: the CLI's one-line message
        lines = explain(exc, args)
        if lines is None:
            raise
        raise ConfigError(*lines) from None
    if clash:
        raise ConfigError(*clash)
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return validate.check(cfg)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """``threads > 0``: torch uses that many CPU threads in the block (as a command line
    with ``threads=N`` does; the bits of some results depend on it), then what it had."""
    if threads <= 0:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run(
    overrides: Sequence[str] = (),
    out_dir: str | Path | None = None,
    figures: bool = False,
    progress: bool = False,
    config_dir: str | Path | None = None,
) -> Result:
    """Run one scenario; its summary and records (see the module doc)."""
    from sim.config.inputs import output_dir
    from sim.runs.session import execute

    flags = [f"progress={str(progress).lower()}", f"outputs.figures={str(figures).lower()}"]
    cfg = compose([*flags, *overrides], config_dir)
    label = " ".join(o for o in overrides if not o.startswith(("hydra.", "progress=")))
    where = None if out_dir is None else output_dir("out_dir", out_dir)
    with torch_threads(int(cfg.threads)):
        result = execute(cfg, where, label=label)
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)  # type: ignore[assignment]
    return replace(result, overrides=parse_overrides(overrides), resolved=resolved)
