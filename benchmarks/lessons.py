"""How long a student waits for each lesson of the course: its own command, end to end.

Every lesson's command (the one its page gives, read from the course's sources) runs from
an empty directory, as a student's first run in a fresh checkout would, after one warm-up
run that makes the data set cache. The time is the whole command: start-up, every job of
the sweep, every figure and table (CPU seconds beside it: on a machine others share, the
wall time stretches with their load, the CPU time much less). The table lists each
lesson; the last line says whether every lesson stayed within the limit.

    python benchmarks/lessons.py [--limit 60] [--only lesson_3 ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_lessons() -> list:  # type: ignore[type-arg]
    """The lessons as docs/course/build.py reads them from their sources."""
    spec = importlib.util.spec_from_file_location("course_build", ROOT / "docs/course/build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["course_build"] = module
    spec.loader.exec_module(module)
    return list(module.load_lessons())


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds of the command and the children it waited for, exit
    status, the end of its stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, p.returncode, p.stderr[-1500:]


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per lesson")
    parser.add_argument("--only", nargs="*", default=[], help="lessons whose name starts so")
    args = parser.parse_args()
    lessons = [x for x in load_lessons() if not args.only or x.name.startswith(tuple(args.only))]
    print(f"load before: {load()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm"
        warm.mkdir()
        timed([sys.executable, "-m", "sim", "train.iterations=1", "progress=false"], warm)
        for lesson in lessons:
            cwd = Path(tmp) / lesson.name
            cwd.mkdir()
            words = shlex.split(lesson.command)
            assert words[:3] == ["python", "-m", "sim"], lesson.command
            seconds, cpu, rc, err = timed([sys.executable, *words[1:]], cwd)
            runs = len(list((cwd / "outputs").rglob("summary.json")))
            rows.append((lesson.name, seconds, cpu, runs, rc))
            if rc != 0:
                print(f"{lesson.name} failed (exit {rc}):\n{err}", file=sys.stderr)
    print(f"load after:  {load()}")
    print(f"\n| lesson | runs | seconds | CPU seconds | within {args.limit:g} s |")
    print("|---|---|---|---|---|")
    for name, seconds, cpu, runs, rc in rows:
        ok = rc == 0 and seconds <= args.limit
        print(f"| {name} | {runs} | {seconds:.1f} | {cpu:.1f} | {'yes' if ok else 'NO'} |")
    slowest = max((s for _, s, _, _, _ in rows), default=0.0)
    passed = all(rc == 0 and s <= args.limit for _, s, _, _, rc in rows)
    verdict = "PASS" if passed else "FAIL"
    print(f"\n{verdict}: {len(rows)} lessons, slowest {slowest:.1f} s (limit {args.limit:g} s)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
