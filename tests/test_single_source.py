"""Every default is declared once: in the signature of the option's class (or in the
dataclass of a section); schemas are generated from them, and no YAML file restates one.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from omegaconf import MISSING, DictConfig, OmegaConf  # noqa: F401

from sim.config.options import GROUPS, common_settings, locate, option_schema, settings
from sim.config.schema import SECTIONS
from tests.conftest import SCENARIOS, make_cfg

OPTIONS = [(g, n) for g, spec in GROUPS.items() for n in spec.options]


def schema_defaults(schema: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(schema):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


@pytest.mark.parametrize(("group", "name"), OPTIONS)
def test_an_options_schema_is_its_signature(group: str, name: str) -> None:
    """Keys, defaults and types of the schema are the constructor's (and the group's
    common settings), changed only by the option's preset."""
    option = GROUPS[group].options[name]
    target = locate(option.target)
    schema = option_schema(group, name)
    defaults = schema_defaults(schema)
    own = settings(target, skip=GROUPS[group].provides)
    expected = {s.name: s.default for s in [*common_settings(group), *own]}
    expected.update(option.preset)
    assert defaults.pop("_target_") == option.target
    assert defaults == expected
    hints = typing.get_type_hints(schema, include_extras=True)
    for s in own:
        assert hints[s.name] == s.kind, s.name  # the annotation, ranges included
    params = inspect.signature(target).parameters
    assert not set(GROUPS[group].provides) & set(defaults), "a provided argument is a key"
    assert set(defaults) - {s.name for s in common_settings(group)} <= set(params)


@pytest.mark.parametrize(("group", "name"), OPTIONS)
def test_a_preset_changes_what_it_names(group: str, name: str) -> None:
    """A preset value that equals the default it replaces would be a second declaration."""
    option = GROUPS[group].options[name]
    plain = {s.name: s.default for s in common_settings(group)}
    plain.update({s.name: s.default for s in settings(locate(option.target))})
    for key, value in option.preset.items():
        assert key in plain, f"{group}={name}: preset key {key} is no setting"
        assert plain[key] != value, f"{group}={name}: preset {key}={value} is the default"


def _leaves(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if not isinstance(node, dict):
        return [(prefix[:-1], node)]
    return [kv for k, v in node.items() for kv in _leaves(v, f"{prefix}{k}.")]


def _default_of(cfg: DictConfig, key: str) -> Any:
    """What ``key`` would be if no YAML set it: its section's or its option's default."""
    head, _, rest = key.partition(".")
    if head in GROUPS:
        node = OmegaConf.select(cfg, head)
        schema = type(OmegaConf.to_object(node))
        return schema_defaults(schema).get(rest, MISSING)
    if head in SECTIONS:
        return schema_defaults(SECTIONS[head]).get(rest, MISSING)
    return {f.name: f.default for f in dataclasses.fields(_config())}.get(head, MISSING)


def _config() -> Any:
    from sim.config.schema import Config

    return Config


YAMLS = sorted(p for p in SCENARIOS.rglob("*.yaml") if "hydra" not in p.parts)


@pytest.mark.parametrize("path", YAMLS, ids=[str(p.relative_to(SCENARIOS)) for p in YAMLS])
def test_no_yaml_restates_a_default(path: Path) -> None:
    data = yaml.safe_load(path.read_text()) or {}
    own = {k: v for k, v in data.items() if k not in ("defaults", "hydra")}
    if path.parent == SCENARIOS:  # config.yaml: only the defaults list and Hydra's settings
        assert own == {}
        return
    cfg = make_cfg(f"{path.parent.name}={path.stem}", small=False)
    for key, value in _leaves(own):
        assert value != _default_of(cfg, key), f"{path.name}: {key}: {value} is the default"


def test_the_whole_default_config_comes_from_the_declarations() -> None:
    """The composed default config equals what the declarations say, key for key."""
    cfg = make_cfg(small=False)
    for section, schema in SECTIONS.items():
        assert OmegaConf.to_container(cfg[section]) == OmegaConf.to_container(
            OmegaConf.structured(schema)
        )
    defaults = yaml.safe_load((SCENARIOS / "config.yaml").read_text())["defaults"]
    chosen = {k: v for d in defaults if isinstance(d, dict) for k, v in d.items()}
    for group in GROUPS:
        expected = OmegaConf.structured(option_schema(group, chosen[group]))
        assert OmegaConf.to_container(cfg[group]) == OmegaConf.to_container(expected)
