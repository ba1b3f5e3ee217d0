"""docs/assignments/epsilon.md is what its script makes, and what enumeration finds."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import ModuleType

import pytest
import torch

from sim.adversaries.distorting import count
from sim.codes.assignment import AssignmentCode, Scheme
from tests.conftest import load_script

SCRIPT = Path(__file__).parents[1] / "docs" / "assignments" / "make_table.py"


def script() -> ModuleType:
    return load_script(SCRIPT, "make_table")


def test_the_smallest_section_is_checked_in_and_matches_enumeration() -> None:
    make = script()
    lines = make.section(15, 3, (Scheme.frc, Scheme.mols, Scheme.ramanujan))
    assert "\n".join(lines) in make.OUT.read_text()  # the file is this section's output
    mols = AssignmentCode(15, torch.Generator(), Scheme.mols, 3)
    for q in range(1, 8):
        best = max(count(mols.groups(), c) for c in itertools.combinations(range(15), q))
        row = lines[3 + q].split(" | ")
        assert row[1].startswith(f"{min(q // 2, 5) / 5:.3f} ")  # FRC: floor(q / ((r+1)/2))
        assert row[2] == f"{best / 25:.3f} ({best}/25)"  # MOLS: the exact optimum


@pytest.mark.slow
def test_the_whole_table_is_up_to_date() -> None:
    make = script()
    assert make.OUT.read_text() == make.table()
