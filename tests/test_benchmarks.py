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


@pytest.mark.slow
def test_lessons_benchmark_times_the_lesson_command_and_ends_with_a_verdict() -> None:
    cmd = [sys.executable, "benchmarks/lessons.py", "--only", "lesson_3"]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    lines = p.stdout.strip().splitlines()
    row = next(x for x in lines if x.startswith("| lesson_3_majority_vote |"))
    runs, seconds = row.split("|")[2:4]
    assert int(runs) == 3 and float(seconds) > 0
    verdict = lines[-1]
    assert verdict.startswith(("PASS: 1 lessons", "FAIL: 1 lessons")), verdict
    assert p.returncode == (0 if verdict.startswith("PASS") else 1)
