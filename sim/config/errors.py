"""Errors a user can fix by changing the configuration or an input file.

A :class:`ConfigError` carries one or more problems, each one line that names the key
(or the file and line) and says what would be valid. ``python -m sim`` prints every
problem on its own line as ``error: ...`` and exits with status 2, without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class ConfigError(ValueError):
    """An impossible or invalid setting; the message names the key and what would be valid."""

    def __init__(self, *problems: str) -> None:
        self.problems = [p for p in problems if p] or ["invalid configuration"]
        super().__init__("\n".join(self.problems))


class InputFileError(ConfigError):
    """A file named by a setting is missing, unreadable or malformed.

    The message reads ``key=path: line N: what is wrong`` (``line`` only when known), so
    the user sees which setting pointed at the file and where in it to look.
    """

    def __init__(self, key: str, path: str | Path, problem: str, line: int | None = None) -> None:
        self.key, self.path, self.line = key, str(path), line
        where = f"{key}={path}: " + (f"line {line}: " if line is not None else "")
        super().__init__(where + problem)


class SimulationError(ConfigError):
    """Settings that the simulation finds impossible only while it runs (a compute time
    that overflows the simulated clock). The run stops with ``status: failed``, the
    reason in its summary, and the command line prints it as one ``error:`` line."""
