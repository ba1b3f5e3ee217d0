"""The benchmarks run end to end and end with their ratios (slow tier: real model)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_overhead_benchmark_prints_the_ratios_last() -> None:
    cmd = [sys.executable, "benchmarks/overhead.py", "--iterations", "2", "--rounds", "1"]
    cmd += ["--naive-iterations", "1", "--threads", "1"]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    last = out.strip().splitlines()[-5:]
    assert last[0].startswith("(b)/(a) = ") and float(last[0].split("= ")[1]) > 0
    assert last[1].startswith("(c)")
    assert last[2].startswith("naive (d)/(a) = ")
    assert last[3].startswith("LeNet DRACO r=3 (f)/(e) = ")
    assert last[4].startswith("LeNet median over 45 parts (g)/(e) = ")
    assert float(last[4].split("= ")[1].split()[0]) > 0
