"""Range and cross-field rules, including the ones implied by a key's unit."""

from __future__ import annotations

from omegaconf import OmegaConf

from sim.config.validate import problems
from tests.conftest import make_cfg


def test_the_shipped_default_is_valid() -> None:
    assert problems(make_cfg(small=False)) == []


class NewLatency:
    """An option added later, whose parameters state no range (plain ``float``)."""

    def __init__(self, shift_s: float = 0.0, p_slow: float = 0.0, slow_factor: float = 1.0):
        pass


def new_network(workers: int, uplink_bps: float = 1e9) -> None:
    pass


def test_units_in_key_names_check_options_added_later() -> None:
    cfg = OmegaConf.create(OmegaConf.to_container(make_cfg()))  # untyped: new options allowed
    cfg.latency = {"_target_": f"{__name__}.NewLatency", "shift_s": -0.5, "p_slow": 1.5}
    cfg.network = {"_target_": f"{__name__}.new_network", "uplink_bps": 0.0}
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
