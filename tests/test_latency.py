"""Compute-time models: their distributions, their parameters, and trace files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim.config.errors import ConfigError
from sim.latency import Bimodal, Constant, LogNormal, Pareto, ShiftedExp, TraceFile
from tests.conftest import problems, said

N = 200_000


def draws(model: object, n: int = N, seed: int = 0) -> np.ndarray:
    return model.draw(np.random.default_rng(seed), n, 0)  # type: ignore[attr-defined]


def test_constant() -> None:
    assert np.array_equal(draws(Constant(0.2), 5), np.full(5, 0.2))


def test_shifted_exponential_mean_and_support() -> None:
    x = draws(ShiftedExp(shift_s=0.05, scale_s=0.02))
    assert x.min() >= 0.05
    assert x.mean() == pytest.approx(0.07, rel=0.01)
    assert np.std(x) == pytest.approx(0.02, rel=0.02)  # the exponential's sd is its mean


def test_pareto_is_type_one() -> None:
    x = draws(Pareto(xm_s=0.1, alpha=3.0))
    assert x.min() >= 0.1  # Pareto I starts at xm, numpy's Lomax would start at 0
    assert x.mean() == pytest.approx(3.0 * 0.1 / 2.0, rel=0.02)
    assert np.mean(x > 0.2) == pytest.approx(2.0**-3, abs=0.005)  # P(X > 2 xm) = 2^-alpha


def test_lognormal_median_and_spread() -> None:
    x = draws(LogNormal(median_s=0.05, sigma=0.5))
    assert np.median(x) == pytest.approx(0.05, rel=0.01)
    assert np.std(np.log(x)) == pytest.approx(0.5, rel=0.01)


def test_bimodal_has_two_values_with_the_given_odds() -> None:
    x = draws(Bimodal(seconds=0.05, p_slow=0.1, slow_factor=10.0))
    assert set(np.unique(x)) == {0.05, 0.5}
    assert np.mean(x == 0.5) == pytest.approx(0.1, abs=0.003)


def test_same_stream_same_draws() -> None:
    a = draws(ShiftedExp(), 10, seed=3)
    assert np.array_equal(a, draws(ShiftedExp(), 10, seed=3))
    assert not np.array_equal(a, draws(ShiftedExp(), 10, seed=4))


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("constant", "latency.seconds=-1.0"),
        ("shifted_exp", "latency.shift_s=nan"),
        ("shifted_exp", "latency.scale_s=-0.1"),
        ("pareto", "latency.alpha=0.0"),
        ("pareto", "latency.xm_s=0.0"),
        ("lognormal", "latency.median_s=inf"),
        ("bimodal", "latency.p_slow=1.5"),
        ("bimodal", "latency.slow_factor=0.0"),
        ("constant", "latency.speed_factors=[1.0,0.0]"),
    ],
)
def test_bad_parameters_name_the_key(model: str, key: str) -> None:
    found = problems("cluster.workers=2", "code=none", f"latency={model}", key)
    assert said(key.split("=")[0].replace(".", r"\."), found), found


def test_speed_factors_need_one_per_worker() -> None:
    found = problems("cluster.workers=2", "code=none", "latency.speed_factors=[1,2,3]")
    assert said("3 entries, cluster.workers=2", found)


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "times.csv"
    path.write_text(text)
    return str(path)


def test_trace_rows_per_iteration_and_per_worker_wrap_around(tmp_path: Path) -> None:
    path = _file(tmp_path, "# measured on our cluster\nw0,w1,w2\n0.1\n\n0.1,0.2,0.3\n")
    model = TraceFile(path)
    assert model.invalid(3) is None
    rng = np.random.default_rng(0)
    assert model.draw(rng, 3, 0).tolist() == [0.1, 0.1, 0.1]
    assert model.draw(rng, 3, 1).tolist() == [0.1, 0.2, 0.3]
    assert model.draw(rng, 3, 2).tolist() == [0.1, 0.1, 0.1]  # wraps around


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.1\n0.2,abc\n", "line 2: column 2: 'abc' is not a number"),
        ("0.1\n\n0.2,-1\n", "line 3: times must be finite numbers >= 0"),
        ("0.1\nnan\n", "line 2: times must be finite numbers >= 0"),
        ("# nothing\n", "no rows of times"),
        ("0.1,0.2\n", "line 1: 2 values, but a row needs 1 .* or cluster.workers=3"),
    ],
)
def test_malformed_trace_files_fail_with_the_line(tmp_path: Path, text: str, message: str) -> None:
    try:
        why = TraceFile(_file(tmp_path, text)).invalid(3)
    except ConfigError as err:
        why = str(err)
    assert why is not None and re.search(message, why), why


def test_missing_trace_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"latency.path=.*nope.csv: no such file"):
        TraceFile(str(tmp_path / "nope.csv"))
    assert said("latency.path: no value given", problems("latency=trace"))
