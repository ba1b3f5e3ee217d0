"""The package as a library: the README's Python API, the data set cache, the wheel."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from sim.training import cache

ROOT = Path(__file__).resolve().parents[1]


def _readme_api_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python API", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the README's Python API section has no python example"
    return found.group(1)


def test_readme_api_example_gives_the_cli_digest(tmp_path: Path) -> None:
    scope: dict[str, object] = {}
    exec(compile(_readme_api_example(), "README.md", "exec"), scope)  # noqa: S102
    result = scope["attacked"]
    overrides = ["code=repetition", "adversary=reverse", "train.iterations=20"]
    assert result.summary.iterations == 20  # type: ignore[attr-defined]
    assert len(result.records) == 20  # type: ignore[attr-defined]
    cli = subprocess.run(
        [sys.executable, "-m", "sim", *overrides, "progress=false",
         f"hydra.run.dir={tmp_path / 'cli'}"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert cli.returncode == 0
    summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert summary["model_digest"] == result.summary.model_digest  # type: ignore[attr-defined]
    loaded = __import__("sim").load_run(tmp_path / "cli")
    assert loaded.summary.model_digest == summary["model_digest"]
    assert [r.loss for r in loaded.records] == [r.loss for r in result.records]  # type: ignore[attr-defined]


def _make(calls: list[int]):  # a tiny "data set" whose making is counted
    @cache.cached("unit", lambda a: a, lambda a: a)
    def make(size: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
        calls.append(size)
        return {"x": np.random.default_rng(seed).standard_normal(size)}

    return make


def test_cache_is_hit_and_a_corrupted_file_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    calls: list[int] = []
    make = _make(calls)
    first = make(5)
    again = make(5)
    assert calls == [5]  # the second one was read from disk
    np.testing.assert_array_equal(first["x"], again["x"])
    (file,) = tmp_path.glob("unit-*.npz")
    raw = file.read_bytes()
    file.write_bytes(raw[: len(raw) // 2])  # truncated
    np.testing.assert_array_equal(make(5)["x"], first["x"])
    assert calls == [5, 5]
    blob = bytearray(file.read_bytes())  # same size, one byte of the data changed
    blob[-200] ^= 0xFF
    file.write_bytes(bytes(blob))
    np.testing.assert_array_equal(make(5)["x"], first["x"])
    assert len(calls) == 3
    make(6)  # another parameter set is another file
    assert len(list(tmp_path.glob("unit-*.npz"))) == 2


def test_cache_off_makes_it_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV, "off")
    calls: list[int] = []
    make = _make(calls)
    make(3), make(3)
    assert calls == [3, 3]


def test_second_run_reads_mnist1d_from_the_cache(tmp_path: Path) -> None:
    env = {**os.environ, cache.ENV: str(tmp_path / "cache")}
    code = (
        "import sim.training.datasets as d, sim.training.cache as c, hashlib;"
        "calls=[];orig=c.write;c.write=lambda *a: (calls.append(1), orig(*a));"
        "x=d.mnist1d(samples=500).x_train;"
        "print(len(calls), hashlib.sha256(x.numpy().tobytes()).hexdigest())"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                       text=True, check=True).stdout.split()
        for _ in range(2)
    ]  # fmt: skip
    assert runs[0][0] == "1" and runs[1][0] == "0"  # made and stored once, then read
    assert runs[0][1] == runs[1][1]


def test_two_processes_on_an_empty_cache_agree(tmp_path: Path) -> None:
    env = {**os.environ, cache.ENV: str(tmp_path / "cache")}
    code = (
        "import sim.training.datasets as d, hashlib;"
        "x=d.mnist1d(samples=800).x_train;"
        "print(hashlib.sha256(x.numpy().tobytes()).hexdigest())"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    outs = [p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert outs[0][0] == outs[1][0] and len(outs[0][0].strip()) == 64
    assert len(list((tmp_path / "cache").glob("mnist1d-*.npz"))) == 1
    assert not list((tmp_path / "cache").glob(".*tmp"))  # no temporary left behind


@pytest.mark.slow
def test_wheel_holds_the_configs_and_installs_without_the_checkout(tmp_path: Path) -> None:
    """Build a wheel, install it (not editable) in a fresh venv, run from an empty dir."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("draco_sim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "sim/scenarios/config.yaml" in names
    assert any(n.startswith("sim/scenarios/experiment/") for n in names)
    assert "hydra_plugins/draco_sim/checked_sweeper.py" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # the dependencies (torch, hydra, ...) come from this environment's site-packages, added
    # as a plain path: its own .pth files, the editable install of the checkout among
    # them, are not read
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    (Path(site) / "deps.pth").write_text(deps + "\n")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([py, "-c", "import sim; print(sim.__file__)"], cwd=empty, env=env,
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert str(venv) in where.stdout  # the installed copy, not the checkout
    run = subprocess.run(
        [py, "-m", "sim", "train.iterations=5", "progress=false", f"hydra.run.dir={empty / 'r'}"],
        cwd=empty, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads((empty / "r" / "summary.json").read_text())["status"] == "completed"
    helped = subprocess.run([venv / "bin" / "draco-sim", "--help"], cwd=empty, env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert helped.returncode == 0 and helped.stdout.startswith("draco-sim")
