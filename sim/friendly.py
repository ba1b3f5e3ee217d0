"""One clear line per problem for a command line that Hydra cannot compose or we reject.

Before Hydra starts a run (and creates its run dir), :func:`precheck` composes the same
config with Hydra's compose API and validates it. Hydra's multi-line composition errors
are condensed, e.g. ``cluster.wokers: no such key (did you mean cluster.workers?); valid
keys: workers``. Command lines with flags (``-m``, ``--cfg``, ``--help``, ...) or a sweep
are left to Hydra untouched; so is any error this module cannot condense.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.errors import (
    ConfigCompositionException,
    MissingConfigException,
    OverrideParseException,
)
from hydra.types import RunMode
from omegaconf import OmegaConf, open_dict
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, ValidationError

from sim.errors import ConfigError
from sim.validate import problems as config_problems


def _first(text: object) -> str:
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def _suggest(word: str, options: list[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {prefix}{close[0]}?)" if close else ""


def _override_for(key: str, argv: list[str]) -> str:
    """The user's own ``key=value`` text for ``key``, else just the key."""
    for arg in reversed(argv):  # the last one counts, as in Hydra
        if arg.lstrip("+~").split("=", 1)[0] == key:
            return arg
    return key


def _fields(node_type: Any) -> list[str]:
    if isinstance(node_type, type) and dataclasses.is_dataclass(node_type):
        return [f.name for f in dataclasses.fields(node_type) if not f.name.startswith("_")]
    return []


def _no_such_key(cause: ConfigAttributeError | ConfigKeyError) -> str:
    key = str(cause.full_key)
    parent, _, leaf = key.rpartition(".")
    valid = _fields(cause.object_type)
    line = f"{key}: no such key"
    if valid:
        line += _suggest(leaf, valid, f"{parent}." if parent else "")
        line += f"; valid keys: {', '.join(valid)}"
    return line


def _bad_value(cause: ValidationError, argv: list[str]) -> str:
    key = str(cause.full_key)
    msg = _first(cause.msg)
    said = _override_for(re.sub(r"\[\d+\]$", "", key), argv)
    enum = re.match(r"Invalid value '(.*)', expected one of \[(.*)\]", msg)
    if enum:
        options = [o.strip() for o in enum.group(2).split(",")]
        return f"{said}: valid values: {', '.join(options)}" + _suggest(enum.group(1), options)
    conv = re.match(r"Value '(.*)' of type '\w+' could not be converted to (\w+)", msg)
    if re.search(r"is not a valid bool", msg):
        return f"{said}: valid values: true, false"
    if conv:
        what = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}
        return f"{said}: {conv.group(1)!r} is not {what.get(conv.group(2), conv.group(2))}"
    return f"{said}: {msg}"


def explain(exc: BaseException, argv: list[str]) -> list[str] | None:
    """Condensed lines for a composition error, or None to leave it to Hydra."""
    cause = exc.__cause__
    if isinstance(exc, MissingConfigException) and exc.options:
        group, _, name = str(exc.missing_cfg_file).rpartition("/")
        options = [str(o) for o in exc.options]
        return [
            f"{group}={name}: no such option{_suggest(name, options)}; "
            f"valid options: {', '.join(options)}"
        ]
    if isinstance(exc, OverrideParseException):
        why = exc.message.splitlines()[1:2] or [""]
        return [f"cannot parse {exc.override!r}: {why[0].strip()} (write key=value)"]
    if isinstance(exc, ConfigCompositionException):
        if isinstance(cause, ConfigAttributeError | ConfigKeyError) and cause.full_key:
            return [_no_such_key(cause)]
        if isinstance(cause, ValidationError) and cause.full_key:
            return [_bad_value(cause, argv)]
        if "Ambiguous value" in str(exc):
            return [f"{_first(exc)}: add -m to sweep over it, or write key=[a,b] for a list"]
    return None


def _numbers_as_options(argv: list[str], config_dir: Path) -> list[str]:
    """Lines for ``group=nan``-style overrides: Hydra parses ``nan``, ``inf``, ``1e3``... as
    numbers before it looks for a group option, and fails with a bare ValueError."""
    lines = []
    for arg in argv:
        key, eq, value = arg.lstrip("+~").partition("=")
        group = config_dir / key
        if not eq or "." in key or not group.is_dir():
            continue
        try:
            float(value)
        except ValueError:
            continue
        options = sorted(f.stem for f in group.glob("*.yaml"))
        lines.append(
            f"{key}={value}: Hydra reads {value!r} as a number, not an option name"
            f"{_suggest(value, options)}; valid options: {', '.join(options)}"
        )
    return lines


def _left_to_hydra(argv: list[str]) -> bool:
    return any(a.startswith("-") or a.startswith("hydra.mode") for a in argv)


def precheck(argv: list[str], config_dir: Path) -> list[str]:
    """Problems with the command line ``argv`` (empty: valid, or Hydra will judge it)."""
    if _left_to_hydra(argv):
        return []
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
            cfg = compose("config", overrides=list(argv), return_hydra_config=True)
    except Exception as exc:  # composition failed: condense it, or let Hydra report it
        if isinstance(exc, ValueError) and "override must be a string" in str(exc):
            return _numbers_as_options(argv, config_dir) or []
        return explain(exc, argv) or []
    if OmegaConf.select(cfg, "hydra.mode") == RunMode.MULTIRUN:
        return []
    with open_dict(cfg):
        del cfg["hydra"]
    try:
        return config_problems(cfg)
    except ConfigError as err:
        return err.problems
    except Exception:  # e.g. an interpolation only a running Hydra job can resolve
        return []
