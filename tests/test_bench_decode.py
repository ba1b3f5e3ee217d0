"""The decode benchmark runs and checks its own answers (tiny sizes; no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_decode_benchmark_prints_its_ratios() -> None:
    pytest.importorskip("sim.aggregators.geomed")
    p = subprocess.run(
        [sys.executable, "benchmarks/decode.py", "--d", "4000", "--repeats", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    last = p.stdout.strip().splitlines()[-6:]
    assert [line.split(":")[0] for line in last] == [
        "repetition decode / mean",
        "cyclic decode / mean (same messages)",
        "cyclic decode / mean of float32 messages",
        "geometric median / repetition decode",
        "geometric median / cyclic decode",
        "geometric median of float32 messages / cyclic decode",
    ]
