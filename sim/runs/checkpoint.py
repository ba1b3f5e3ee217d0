"""Checkpoints: every piece of state that decides the rest of a run, in one file.

What is saved is found by walking the built objects (:func:`stateful`): every
``numpy.random.Generator`` and ``torch.Generator`` reachable from them, and every
object with ``state_dict()``/``load_state_dict()`` (the model, the data sampler, the
trace, and any stateful rule or latency model that defines them). So a component added
later is covered as soon as its random streams are attributes, or it defines
``state_dict``. The world adds its own scalars (iteration, simulated clock).

The file is written atomically (temp file + rename) and read with
``torch.load(weights_only=True)``: a checkpoint is data, never code.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sim.config.errors import InputFileError
from sim.config.inputs import read_bytes
from sim.runs.sink import write_atomic

FORMAT = 1
FILE = "checkpoint.pt"


def _children(obj: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield f"[{k!r}]", v
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield f"[{i}]", v
    elif type(obj).__module__.startswith("sim.") and hasattr(obj, "__dict__"):
        for k, v in vars(obj).items():
            yield f".{k}", v


def _holds_state(obj: Any) -> bool:
    if isinstance(obj, np.random.Generator | torch.Generator):
        return True
    return not isinstance(obj, type) and callable(getattr(obj, "state_dict", None))


def stateful(roots: dict[str, Any]) -> dict[str, Any]:
    """``{path: object}`` for every state holder reachable from ``roots``, in walk order.

    Each object appears once, under the first path that reaches it; the walk descends
    into ``sim.*`` objects, lists, tuples and dicts, and stops at state holders.
    """
    found: dict[str, Any] = {}
    seen: set[int] = set()

    def visit(path: str, obj: Any) -> None:
        if isinstance(obj, str | bytes | int | float | bool | torch.Tensor | np.ndarray):
            return
        if obj is None or id(obj) in seen:
            return
        seen.add(id(obj))
        if _holds_state(obj):
            found[path] = obj
            return
        for suffix, child in _children(obj):
            visit(path + suffix, child)

    for name, root in roots.items():
        visit(name, root)
    return found


def capture(obj: Any) -> Any:
    if isinstance(obj, np.random.Generator):
        return {"numpy_generator": obj.bit_generator.state}
    if isinstance(obj, torch.Generator):
        return {"torch_generator": obj.get_state()}
    return {"state_dict": obj.state_dict()}


def restore(obj: Any, state: dict[str, Any]) -> None:
    if isinstance(obj, np.random.Generator):
        obj.bit_generator.state = state["numpy_generator"]
    elif isinstance(obj, torch.Generator):
        obj.set_state(state["torch_generator"])
    else:
        obj.load_state_dict(state["state_dict"])


def _plain(x: Any) -> Any:
    """numpy values become torch/Python ones so that ``weights_only`` loading accepts them."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_plain(v) for v in x)
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x.copy())
    if isinstance(x, np.generic):
        return x.item()
    return x


def save(path: Path, world: dict[str, Any], holders: dict[str, Any]) -> None:
    """Write ``world`` scalars and the state of every holder to ``path`` atomically."""
    payload = {
        "format": FORMAT,
        "world": _plain(world),
        "state": {p: _plain(capture(o)) for p, o in holders.items()},
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    write_atomic(path, buf.getvalue())


def load(path: Path, key: str = "resume") -> dict[str, Any]:
    """The checkpoint at ``path``; an :class:`InputFileError` if it is missing or damaged."""
    if not path.exists():
        raise InputFileError(
            key,
            path.parent,
            f"no {FILE} in this run dir: resume needs the hydra.run.dir of a run "
            f"that wrote checkpoints (checkpoint.every=K) or was interrupted",
        )
    raw = read_bytes(key, path)
    try:
        payload = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file: say so, never unpickle code
        raise InputFileError(
            key, path, f"not a readable checkpoint ({type(exc).__name__})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputFileError(key, path, f"not a draco-sim checkpoint of format {FORMAT}")
    return payload


def apply(payload: dict[str, Any], holders: dict[str, Any], path: Path) -> None:
    """Load every saved state into the matching holder of a freshly built run."""
    saved = payload["state"]
    if set(saved) != set(holders):
        diff = sorted(set(saved) ^ set(holders))
        raise InputFileError(
            "resume",
            path,
            f"saved state does not match this build (differs in {', '.join(diff[:4])})",
        )
    for p, obj in holders.items():
        restore(obj, saved[p])
