"""Every lesson of docs/course: its scenario runs (shrunk), its page shows its command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import SCENARIOS, make_cfg, simulate

COURSE = Path(__file__).resolve().parents[1] / "docs" / "course"
LESSONS = sorted(p.stem for p in (SCENARIOS / "experiment").glob("lesson_*.yaml"))
TINY = ["train.iterations=3", "train.eval_every=1", "data.samples=1000"]


def sweep_values(lesson: str) -> list[list[str]]:
    """One override list per value of each swept setting (not the whole product)."""
    text = (SCENARIOS / "experiment" / f"{lesson}.yaml").read_text()
    params = yaml.safe_load(text)["hydra"]["sweeper"]["params"]
    return [[f"{k}={v}"] for k, vals in params.items() for v in str(vals).split(",")]


def test_there_are_at_least_six_lessons() -> None:
    assert len(LESSONS) >= 6


@pytest.mark.parametrize("lesson", LESSONS)
def test_each_lesson_runs_every_swept_value(lesson: str, tmp_path: Path) -> None:
    for i, values in enumerate(sweep_values(lesson)):
        cfg = make_cfg(f"experiment={lesson}", *TINY, *values)
        summary = simulate(cfg, tmp_path / str(i))
        assert summary["status"] in {"completed", "diverged"}, (values, summary)
        assert (tmp_path / str(i) / "report.html").exists()


@pytest.mark.parametrize("lesson", LESSONS)
def test_each_lesson_page_gives_its_command_and_existing_figures(lesson: str) -> None:
    page = (COURSE / f"{lesson}.md").read_text()
    assert f"python -m sim -m experiment={lesson}" in page
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert figures, "a lesson shows the figure it produces"
    for fig in figures:
        assert (COURSE / fig).is_file(), fig
    assert page.count("\n1. ") >= 1 and "Exercises" in page
    assert f"({lesson}.md)" in (COURSE / "README.md").read_text()
