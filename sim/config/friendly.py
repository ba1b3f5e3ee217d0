"""One clear line per problem for a command line that Hydra cannot compose.

Hydra's multi-line composition errors are condensed, e.g. ``cluster.wokers: no such key
(did you mean cluster.workers?); valid keys: workers``. An error this module cannot
condense is left to Hydra (``explain`` returns None).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from typing import Any

from hydra.errors import (
    ConfigCompositionException,
    MissingConfigException,
    OverrideParseException,
)
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, ValidationError

from sim.config.options import GROUPS
from sim.config.validate import no_such_key


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
    valid = _fields(cause.object_type)
    node = getattr(cause, "parent_node", None)
    if not valid and node is not None and hasattr(node, "keys"):  # a user's YAML option
        valid = [str(k) for k in node if not str(k).startswith("_")]
    return no_such_key(key, valid) if valid else f"{key}: no such key"


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


def _config_file(exc: BaseException) -> str | None:
    """The YAML file Hydra was reading when ``exc`` was raised (None: not a file's fault)."""
    tb = exc.__traceback__
    found = None
    while tb is not None:
        local = tb.tb_frame.f_locals
        if tb.tb_frame.f_code.co_name == "load_config" and "full_path" in local:
            found = str(local["full_path"])
        tb = tb.tb_next
    return found


def _unreadable_config(exc: BaseException) -> list[str] | None:
    """A config file that is not UTF-8 YAML: its path and why, in one short line."""
    import yaml

    for err in (exc, exc.__cause__, exc.__context__):
        if not isinstance(err, yaml.YAMLError | UnicodeDecodeError):
            continue
        path = _config_file(err) or _config_file(exc) or "a config file"
        if isinstance(err, UnicodeDecodeError):
            why = "not UTF-8 text (a binary file?)"
        else:
            problem = getattr(err, "problem", None) or _first(err)
            mark = getattr(err, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            why = f"not valid YAML: {str(problem)[:80]}{where}"
        return [f"{path}: {why}"]
    return None


def explain(exc: BaseException, argv: list[str]) -> list[str] | None:
    """Condensed lines for a composition error, or None to leave it to Hydra."""
    unreadable = _unreadable_config(exc)
    if unreadable is not None:
        return unreadable
    if isinstance(exc, ValueError) and "override must be a string" in str(exc):
        return numbers_as_options(argv) or None
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
        preset = _preset_setting(str(exc), argv)
        if preset is not None:
            return [preset]
        if isinstance(cause, ConfigAttributeError | ConfigKeyError) and cause.full_key:
            return [_no_such_key(cause)]
        if isinstance(cause, ValidationError) and cause.full_key:
            return [_bad_value(cause, argv)]
        if "Ambiguous value" in str(exc):
            return [f"{_first(exc)}: add -m to sweep over it, or write key=[a,b] for a list"]
    return None


_PRESET_KEY = re.compile(
    r"In '(?P<group>[^/']+)/(?P<name>[^']+)': Config(?:Key|Attribute)Error raised while "
    r"composing config:\n.*\n\s*full_key: (?P<key>\S+)"
)


def _preset_setting(message: str, argv: list[str]) -> str | None:
    """A preset (``defense=``, ``experiment=``) sets a key of a group option that the
    command line replaced by one without it (``code=cyclic defense=draco5``)."""
    found = _PRESET_KEY.search(message)
    if found is None:
        return None
    group, name, key = found["group"], found["name"], found["key"]
    owner = key.split(".")[0]
    chosen = _override_for(owner, argv)
    chosen = chosen if "=" in chosen else f"{owner} option chosen"
    if group == "defense":
        why = "keep one of them (a defense names a code and a rule together)"
    else:
        why = (
            f"{group}={name} is built on its own {owner} option: change that option's "
            f"settings, not the option, or leave out {group}="
        )
    return f"{group}={name} sets {key}, which {chosen} does not have: {why}"


def numbers_as_options(argv: list[str]) -> list[str]:
    """Lines for ``group=nan``-style overrides: Hydra parses ``nan``, ``inf``, ``1e3``... as
    numbers before it looks for a group option, and fails with a bare ValueError."""
    lines = []
    for arg in argv:
        key, eq, value = arg.lstrip("+~").partition("=")
        if not eq or key not in GROUPS:
            continue
        for word in value.split(","):
            try:
                float(word)
            except ValueError:
                continue
            options = sorted(GROUPS[key].options)
            lines.append(
                f"{key}={word}: Hydra reads {word!r} as a number, not an option name"
                f"{_suggest(word, options)}; valid options: {', '.join(options)}"
            )
    return lines
