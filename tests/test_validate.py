"""Range and cross-field rules, including the ones implied by a key's unit."""

from __future__ import annotations

from omegaconf import OmegaConf

from sim.validate import problems
from tests.conftest import make_cfg


def test_the_shipped_default_is_valid() -> None:
    assert problems(make_cfg(small=False)) == []


def test_units_in_key_names_check_options_added_later() -> None:
    cfg = OmegaConf.create(OmegaConf.to_container(make_cfg()))  # untyped: new keys allowed
    cfg.latency.shift_s = -0.5
    cfg.latency.p_slow = 1.5
    cfg.network.uplink_bps = 0.0
    cfg.latency.slow_factor = float("nan")
    assert problems(cfg) == [
        "latency.shift_s=-0.5: must be a finite number >= 0",
        "latency.p_slow=1.5: must be a probability in [0, 1]",
        "latency.slow_factor=nan: NaN is not a valid setting",
        "network.uplink_bps=0.0: must be a positive finite number",
    ]


def test_cross_field_rules_run_once_single_values_are_valid() -> None:
    assert problems(make_cfg("adversary.count=99", "cluster.workers=0")) == [
        "cluster.workers=0: must be >= 1"
    ]
    assert problems(make_cfg("adversary.count=99")) == [
        "adversary.count=99 must be between 0 and cluster.workers=15"
    ]
