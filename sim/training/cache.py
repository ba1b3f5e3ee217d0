"""Generated data sets, made once per parameter set and kept on disk.

A data set that is *made* (MNIST-1D, the synthetic ones) is deterministic in its
parameters, so the first run makes it and every later run reads it back. Files live in
the user's cache directory (``platformdirs.user_cache_dir("draco-sim")``, or
``$DRACO_SIM_CACHE``; ``DRACO_SIM_CACHE=off`` makes every data set afresh), one
``.npz`` per data set and parameters. A file is

- written atomically (a private temporary file, then a rename), so a reader sees a whole
  file or none, and several sweep processes starting at once each write the same bytes;
- verified on read: its name, parameters and a SHA-256 of every array must match, and
  anything else (a truncated, damaged or foreign file) is made again, never trusted.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 2  # bump when what is stored changes: old files are then made again
ENV = "DRACO_SIM_CACHE"
Arrays = dict[str, np.ndarray]
F = TypeVar("F", bound=Callable[..., Any])


def cache_dir() -> Path | None:
    """Where generated data sets are kept; None when caching is off."""
    value = os.environ.get(ENV)
    if value is not None:
        return None if value.strip().lower() in ("off", "0", "") else Path(value).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("draco-sim"))


def digest(arrays: Arrays) -> str:
    """SHA-256 over every array's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def path_for(name: str, params: dict[str, Any], root: Path) -> tuple[Path, str]:
    """The file of one data set and its parameters, and the label stored in it."""
    label = json.dumps({"name": name, "params": params, "format": FORMAT}, sort_keys=True)
    key = hashlib.sha256(label.encode()).hexdigest()[:20]
    return root / f"{name}-{key}.npz", label


def read(path: Path, label: str) -> Arrays | None:
    """The arrays in ``path`` if it is a whole, matching file; None otherwise."""
    try:
        with np.load(path, allow_pickle=False) as f:
            stored = {k: f[k] for k in f.files}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        log.warning("cached data set %s is unreadable (%s): making it again", path, exc)
        return None
    meta = stored.pop("__meta__", None)
    if meta is None or str(meta) != json.dumps({"label": label, "digest": digest(stored)}):
        log.warning("cached data set %s does not match its contents: making it again", path)
        return None
    return stored


def write(path: Path, label: str, arrays: Arrays) -> None:
    """Write ``arrays`` atomically; a failure to write only costs the next run time."""
    meta = json.dumps({"label": label, "digest": digest(arrays)})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                save: Any = np.savez  # its keywords are the arrays' names
                save(f, __meta__=np.array(meta), **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        log.warning("could not cache the data set in %s (%s)", path.parent, exc)


def cached(
    name: str, to_arrays: Callable[[Any], Arrays], from_arrays: Callable[[Arrays], Any]
) -> Callable[[F], F]:
    """Decorate a function that makes a data set: its result is kept on disk per
    parameter set (``to_arrays`` / ``from_arrays`` convert it)."""

    def wrap(make: F) -> F:
        sig = inspect.signature(make)

        @functools.wraps(make)
        def made(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            root = cache_dir()
            if root is None:
                return make(*args, **kwargs)
            path, label = path_for(name, dict(bound.arguments), root)
            stored = read(path, label)
            if stored is not None:
                return from_arrays(stored)
            result = make(*args, **kwargs)
            write(path, label, to_arrays(result))
            return result

        return made  # type: ignore[return-value]

    return wrap
