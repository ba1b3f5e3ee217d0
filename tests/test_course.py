"""Every lesson of docs/course: its scenario runs (shrunk), its page shows its command and
its answers, its notebook runs top to bottom (slow tier), page and notebook come from one
source, and an exercise writes next to its lesson, not over it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.cli import cli
from tests.conftest import SCENARIOS, load_script, make_cfg, simulate

COURSE = Path(__file__).resolve().parents[1] / "docs" / "course"
build = load_script(COURSE / "build.py", "course_build")
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


def test_pages_notebooks_and_index_are_built_from_the_sources() -> None:
    lessons = build.load_lessons()
    assert [x.name for x in lessons] == LESSONS
    assert build.stale() == [], "run `python docs/course/build.py`"


@pytest.mark.parametrize("lesson", build.load_lessons(), ids=lambda x: x.name)
def test_every_exercise_has_a_command_and_an_answer(lesson: Any) -> None:
    assert len(lesson.exercises) >= 3
    page = (COURSE / lesson.page).read_text()
    cells = json.loads((COURSE / lesson.notebook).read_text())["cells"]
    notebook = "".join("".join(c["source"]) for c in cells)
    for ex in lesson.exercises:
        assert ex.run.startswith(("python -m sim -m experiment=", "python -m sim.report"))
        assert len(ex.answer.split()) >= 15 and "ANSWER" not in ex.answer
        first = ex.answer.strip().splitlines()[0]
        assert first in page and first in notebook and ex.run in page and ex.run in notebook
    for text in (page, notebook):
        assert text.count("<summary>Answer</summary>") == len(lesson.exercises)


def test_an_exercise_writes_next_to_its_lesson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shrink = ["train.iterations=2", "outputs.figures=false"]  # the first names the folders
    assert cli(["-m", "experiment=lesson_1_one_liar", *shrink]) == 0
    lesson = tmp_path / "outputs" / "course" / "lesson_1-train.iterations=2"
    before = {p: p.stat().st_mtime_ns for p in lesson.rglob("summary.json")}
    assert len(before) == 2
    assert cli(["-m", "experiment=lesson_1_one_liar", "adversary.scale=2", *shrink]) == 0
    exercise = lesson.with_name("lesson_1-adversary.scale=2,train.iterations=2")
    assert sorted(p.parent.name for p in exercise.glob("*/summary.json")) == ["0", "1"]
    assert {p: p.stat().st_mtime_ns for p in lesson.rglob("summary.json")} == before
    assert not (lesson / ".stash").exists()


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_each_notebook_runs_top_to_bottom(lesson: str, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(COURSE / "notebooks" / f"{lesson}.ipynb", as_version=4)
    nbformat.validate(nb)
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})  # fmt: skip
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "a figure, inline"
    assert any(o.output_type == "stream" and o.text.strip() for o in outputs), "numbers"
    assert list((tmp_path / "outputs" / "notebooks").rglob("*.png"))
