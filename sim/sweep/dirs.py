"""Where a sweep writes: one directory per command line, the same for all its jobs.

A shipped scenario can name its sweep dir after what the command line added to it,
``outputs/course/lesson_1${sim.suffix:${hydra.job.override_dirname}}``: the lesson
itself writes to ``outputs/course/lesson_1``, and ``... adversary.scale=2`` (an exercise)
to ``outputs/course/lesson_1-adversary.scale=2``, next to it instead of over it.
``hydra.job.override_dirname`` lists the command line's own overrides; Hydra recomputes
it for every job, the job's swept values included, so :func:`pin` fixes the sweep dir
once, as the whole command line resolves it, before the first job is composed.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf, open_dict

SUFFIX = "sim.suffix"


def suffix(overrides: str) -> str:
    """``""`` for no overrides, else ``-`` and the overrides (``key=value,...``)."""
    return f"-{overrides}" if overrides else ""


def register_resolvers() -> None:
    if not OmegaConf.has_resolver(SUFFIX):
        OmegaConf.register_new_resolver(SUFFIX, suffix)


def pin(config: DictConfig) -> None:
    """Make every job of this sweep write under the sweep dir the command line names."""
    where = OmegaConf.select(config, "hydra.sweep.dir", default=None)
    if where is None:
        return
    quoted = str(where).replace("\\", "\\\\").replace("'", "\\'")
    with open_dict(config.hydra):
        config.hydra.sweep.dir = str(where)
        config.hydra.overrides.hydra.append(f"hydra.sweep.dir='{quoted}'")
