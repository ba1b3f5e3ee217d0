"""The configuration reference (``docs/configuration.md``), made from the schemas.

Every key, its type, its valid range and its default come from where they are declared:
the top-level sections (:mod:`sim.config.schema`) and every option of every group
(:mod:`sim.config.options`: the constructor signatures, their ``Annotated`` ranges, the
groups' common settings). What a key means is the comment written after it in the source
(or, for an option, the first line of its docstring). A new option, or a new key of one,
appears here by running

    python -m sim.config.reference          # rewrites docs/configuration.md

and a test fails while the committed page is out of date.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import io
import re
import sys
import tokenize
import typing
from collections.abc import Iterable
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, get_args, get_origin

from omegaconf import MISSING

from sim.config.options import (
    GROUPS,
    Setting,
    common_settings,
    dataclass_settings,
    locate,
    settings,
)
from sim.config.ranges import range_of
from sim.config.schema import SECTIONS, Config

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def type_name(kind: Any) -> str:
    """``int``, ``float``, ``list of int``, ``fixed | random | ...`` for an annotation."""
    if get_origin(kind) is Annotated:
        return type_name(get_args(kind)[0])
    if inspect.isclass(kind) and issubclass(kind, enum.Enum):
        return " | ".join(f"`{m.value}`" for m in kind)
    origin = get_origin(kind)
    if origin in (typing.Union, UnionType):
        names = [type_name(a) for a in get_args(kind) if a is not type(None)]
        nullable = type(None) in get_args(kind)
        return " or ".join(names) + (" or null" if nullable else "")
    if origin in (list, tuple):
        args = get_args(kind)
        return f"list of {type_name(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if origin is typing.Literal:
        return " | ".join(f"`{a}`" for a in get_args(kind))
    if kind is Any:
        return "any"
    return getattr(kind, "__name__", str(kind))


def default_text(value: Any) -> str:
    if value is MISSING:
        return "required"
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str) and not value:
        return '`""`'
    return f"`{value}`"


def comments(obj: Any) -> dict[str, str]:
    """The comment after each ``name: type = default`` line in ``obj``'s source."""
    try:
        lines, _ = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        return {}
    out: dict[str, str] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("".join(lines)).readline))
    except (tokenize.TokenError, IndentationError):
        return {}
    first_name: dict[int, str] = {}
    for tok in tokens:
        if tok.type == tokenize.NAME and tok.start[0] not in first_name:
            first_name[tok.start[0]] = tok.string
        if tok.type == tokenize.COMMENT:
            text = tok.string.lstrip("#").strip()
            row = tok.start[0]
            name = first_name.get(row)
            code = lines[row - 1][: tok.start[1]]
            if name and ":" in code and not text.startswith(("noqa", "type:", "fmt:")):
                out.setdefault(name, text.split("  # noqa")[0])
    return out


def first_line(obj: Any) -> str:
    """The first paragraph of ``obj``'s own docstring (a dataclass's generated one and an
    inherited one do not count), else of its module's."""
    doc = inspect.cleandoc(obj.__doc__ or "")
    if not doc or doc.startswith(f"{getattr(obj, '__name__', '')}("):
        doc = inspect.cleandoc(getattr(inspect.getmodule(obj), "__doc__", None) or "")
    return " ".join(doc.split("\n\n", 1)[0].split()).rstrip(".")


def documented(obj: Any) -> dict[str, str]:
    """``name: meaning`` from the docstrings' ````name``: meaning;```` phrases."""
    fn = obj.__init__ if inspect.isclass(obj) else obj
    text = " ".join(inspect.cleandoc(d or "").replace("\n", " ") for d in (fn.__doc__, obj.__doc__))
    return {m[1]: m[2].strip() for m in re.finditer(r"``(\w+)``: ([^;]+?)(?=;|$|\. )", text)}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rows(keys: Iterable[Setting], prefix: str, notes: dict[str, str]) -> list[str]:
    out = []
    for s in keys:
        found = range_of(s.kind)
        valid = found.text if found is not None else ""
        kind = type_name(s.kind) + (f" ({valid})" if valid else "")
        note = _cell(notes.get(s.name, ""))
        out.append(f"| `{prefix}{s.name}` | {_cell(kind)} | {default_text(s.default)} | {note} |")
    return out


HEAD = "| key | type (valid values) | default | meaning |\n|---|---|---|---|"


def top_level() -> list[str]:
    """The settings that belong to no option: plain keys, then one table per section."""
    notes = comments(Config)
    top = dataclass_settings(Config)
    plain = [s for s in top if s.name not in SECTIONS and s.name not in GROUPS]
    out = ["## Top-level settings\n", HEAD, *rows(plain, "", notes), ""]
    for name, cls in SECTIONS.items():
        doc = first_line(cls)
        out += [f"### `{name}`\n"] + ([doc + ".", ""] if doc else [])
        out += [HEAD, *rows(dataclass_settings(cls), f"{name}.", comments(cls)), ""]
    return out


def group_section(group: str) -> list[str]:
    spec = GROUPS[group]
    out = [f"## `{group}`: {spec.doc}\n"]
    out.append("Options: " + ", ".join(f"[`{n}`](#{group}{n})" for n in spec.options) + ".\n")
    common = common_settings(group)
    if common and spec.common:
        cls = locate(spec.common)
        out += [
            f"Every `{group}` option also has these settings. {first_line(cls)}.\n",
            HEAD,
            *rows(common, f"{group}.", comments(cls)),
            "",
        ]
    for name, opt in spec.options.items():
        target = locate(opt.target)
        out.append(f'### <a id="{group}{name}"></a>`{group}={name}`\n')
        out.append(f"{opt.doc or first_line(target)}. (`{opt.target}`)\n")
        own = settings(target, skip=spec.provides)
        own = [dataclasses.replace(s, default=opt.preset.get(s.name, s.default)) for s in own]
        changed = {k: v for k, v in opt.preset.items() if k not in {s.name for s in own}}
        if changed:
            shown = ", ".join(f"`{group}.{k}={v}`" for k, v in changed.items())
            out.append(f"Sets {shown}.\n")
        if own:
            init = target.__init__ if inspect.isclass(target) else target
            notes = documented(target) | comments(init)
            out += [HEAD, *rows(own, f"{group}.", notes), ""]
        else:
            out.append("No settings of its own.\n")
    return out


def render() -> str:
    lines = [
        "<!-- Generated by `python -m sim.config.reference` from sim/config/schema.py and "
        "sim/config/options.py: do not edit by hand. -->",
        "",
        "# Configuration reference",
        "",
        "Every setting of a run, with its type, valid values and default, as the code "
        "declares them. Set one on the command line as `KEY=VALUE` (`train.iterations=50`),"
        " pick an option of a group as `GROUP=OPTION` (`aggregator=krum`), and see the "
        "composed result with `python -m sim GROUP=OPTION --cfg job`. A misspelt key or a "
        "value of the wrong type fails while the config is composed; a value out of its "
        "range fails before the run starts. Named scenarios (`experiment=...`) and the "
        "`defense=...` presets are YAML files in `sim/scenarios/`.",
        "",
        "Groups: " + ", ".join(f"[`{g}`](#{g}-{_anchor(GROUPS[g].doc)})" for g in GROUPS) + ".",
        "",
        *top_level(),
    ]
    for group in GROUPS:
        lines += group_section(group)
    return "\n".join(lines).rstrip() + "\n"


def _anchor(doc: str) -> str:
    """GitHub's anchor of a heading's text after the group name."""
    keep = "".join(c for c in doc.lower() if c.isalnum() or c in " -_")
    return keep.strip().replace(" ", "-")


def main() -> int:
    PAGE.write_text(render())
    print(f"wrote {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
