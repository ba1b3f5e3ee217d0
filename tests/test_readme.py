"""The README for a newcomer: short, every command in it runs, every page it links exists.

Each command of the README's ``bash`` and ``text`` blocks is run here: the first run in
full (its printed result must be the one the README shows), the others shrunk to a few
iterations into a temporary folder. A command this file does not know how to run fails
the test, so a new README example cannot go unexecuted. The Python API example is run by
``tests/test_library.py``; the error example's exact lines by ``tests/test_bad_inputs.py``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHRINK = ["train.iterations=2", "progress=false"]


def blocks(text: str, kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", text, re.S)


def readme_commands() -> list[tuple[str, list[str]]]:
    """(command, the lines printed after it) of every README example, in order."""
    text = README.read_text()
    found: list[tuple[str, list[str]]] = []
    for block in blocks(text, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                found.append((shlex.join(words) if words[0] != "eval" else line, []))
    for block in blocks(text, "text"):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:].strip(), []))
            elif found and line.strip():
                found[-1][1].append(line)
    return found


def run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)  # fmt: skip


def sim(words: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    """``python -m sim ...`` as written, shrunk, its outputs under ``tmp``."""
    args = words[3:]
    flags = {"--help", "--cfg", "-c", "-sc", "--shell-completion"}
    if not flags & set(args):
        where = "hydra.sweep.dir" if "-m" in args else "hydra.run.dir"
        args = [*args, *SHRINK, f"{where}={tmp}"]
    return run([sys.executable, "-m", "sim", *args], tmp)


def test_the_readme_is_short() -> None:
    assert len(README.read_text().splitlines()) <= 220


def test_the_readme_shows_a_picture_that_exists() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", README.read_text())
    assert pictures and all((ROOT / p).is_file() for p in pictures)


def test_every_readme_command_runs(tmp_path: Path) -> None:
    commands = readme_commands()
    assert len(commands) >= 8
    for i, (command, printed) in enumerate(commands):
        out = tmp_path / str(i)
        out.mkdir()
        words = shlex.split(command)
        if command == "make run":
            continue  # test_the_first_run_prints_what_the_readme_shows
        if command == "make test":  # running the suite from inside itself: its recipe
            dry = run(["make", "-n", "-o", ".venv/.installed", "test"], ROOT)
            assert dry.returncode == 0, dry.stderr
            for tool in ("ruff check", "ruff format --check", "mypy", "-m pytest"):
                assert tool in dry.stdout, (tool, dry.stdout)
            continue
        if words[0] == "eval":  # tab completion: the script it installs
            inner = re.search(r'"\$\((.*)\)"', command)
            assert inner, command
            cmd = shlex.split(inner.group(1))
            assert cmd[0] == "draco-sim", cmd
            p = run([sys.executable, "-m", "sim", *cmd[1:]], out)
            assert p.returncode == 0 and "complete" in p.stdout, p.stderr[-2000:]
            continue
        assert words[:3] == ["python", "-m", "sim"], f"README command not covered: {command}"
        p = sim(words, out)
        expected = 2 if printed and printed[0].startswith("error:") else 0
        assert p.returncode == expected, (command, p.stderr[-2000:])
        if printed and expected == 2:
            assert p.stderr.splitlines() == printed
        if "--help" in words:
            assert "Config groups" in p.stdout
        if "--cfg" in words:
            assert "adversary:" in p.stdout and not list(out.glob("*/summary.json"))


def test_the_first_run_prints_what_the_readme_shows(tmp_path: Path) -> None:
    """``make run`` in full: its result line is the README's, but for the run dir."""
    shown = dict(readme_commands())["make run"]
    assert len(shown) == 2 and shown[0] == ".venv/bin/python -m sim"
    p = run(["make", "-o", ".venv/.installed", "run", f"PY={sys.executable}",
             f"ARGS=hydra.run.dir={tmp_path}"], ROOT)  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [x for x in p.stdout.splitlines() if not x.startswith("make")]
    assert lines[0].endswith(f"-m sim hydra.run.dir={tmp_path}"), lines  # the recipe
    assert lines[-1].split(": ", 1)[1] == shown[1].split(": ", 1)[1]


def _links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in t]


@pytest.mark.parametrize(
    "page",
    [README, *sorted((ROOT / "docs").rglob("*.md"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_linked_page_exists(page: Path) -> None:
    for target in _links(page):
        path = target.split("#", 1)[0]
        if path:
            assert (page.parent / path).exists(), f"{page.name} links to {target}"
