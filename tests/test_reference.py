"""docs/configuration.md is what ``python -m sim.config.reference`` makes from the code,
and it names every option of every group and every key of a composed config."""

from __future__ import annotations

from omegaconf import OmegaConf

from sim.config.options import GROUPS
from sim.config.reference import PAGE, render
from tests.conftest import make_cfg


def test_the_committed_reference_is_up_to_date() -> None:
    assert PAGE.read_text() == render(), "run `python -m sim.config.reference`"


def test_every_option_and_every_key_of_a_composed_config_is_listed() -> None:
    text = render()
    for group, spec in GROUPS.items():
        for name in spec.options:
            assert f"`{group}={name}`" in text
    for overrides in ([], ["code=cyclic", "adversary=alie", "aggregator=krum", "latency=pareto"]):
        plain = OmegaConf.to_container(make_cfg(*overrides, small=False), resolve=True)
        assert isinstance(plain, dict)
        for key, value in plain.items():
            if isinstance(value, dict):
                for sub in value:
                    if sub != "_target_":
                        assert f"`{key}.{sub}`" in text, f"{key}.{sub}"
            else:
                assert f"`{key}`" in text, key
