"""draco-sim: a discrete-event simulator of Byzantine training clusters.

``sim.run(overrides)`` runs a scenario from Python, ``sim.load_run(path)`` and
``sim.load_sweep(path)`` read finished runs back (see :mod:`sim.api`). Nothing heavy is
imported until one of them is called.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["compose", "load_run", "load_runs", "load_sweep", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
