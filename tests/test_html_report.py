"""report.html opens from disk in a real browser and shows its figures and table."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sim.report.html import write_report
from tests.conftest import Run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--allow-file-access-from-files", "--virtual-time-budget=5000",
]  # fmt: skip

HARNESS = """<!doctype html><html><body><iframe id="r" src="report.html" width="1200"
height="900"></iframe><p id="result">pending</p><script>
document.getElementById('r').addEventListener('load', () => {
  const doc = document.getElementById('r').contentDocument;
  const imgs = [...doc.querySelectorAll('figure img')];
  const decoded = imgs.filter(i => i.complete && i.naturalWidth > 100).length;
  const rows = doc.querySelectorAll('#summary tr').length;
  document.getElementById('result').textContent =
    `figures=${imgs.length} decoded=${decoded} rows=${rows}`;
});
</script></body></html>"""


def chromium(*args: str, user_dir: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={user_dir}", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_report_renders_figures_and_table_in_chromium(run: Run, tmp_path: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium: .ci/run installs Debian's package")
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    s = run("train.iterations=10")
    out: Path = s["_dir"]
    report = write_report(out)
    (out / "harness.html").write_text(HARNESS)
    dom = chromium("--dump-dom", (out / "harness.html").as_uri(), user_dir=tmp_path / "u1").stdout
    found = re.search(r"figures=(\d+) decoded=(\d+) rows=(\d+)", dom)
    assert found, dom[-2000:]
    figures, decoded, rows = map(int, found.groups())
    pngs = len(list(out.glob("*.png")))
    assert figures == decoded == pngs >= 1
    assert rows == len(s) - 1  # every summary key is a row ("_dir" is the test's own)
    shot = out / "report.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,2400", report.as_uri(),
             user_dir=tmp_path / "u2")  # fmt: skip
    assert shot.stat().st_size > 20_000  # a rendered page with figures, not a blank one


def test_report_says_what_ran_with_numbers_a_person_reads(tmp_path: Path) -> None:
    from sim.cli import cli

    out = tmp_path / "run"
    args = ["train.iterations=12", "progress=false", "data=synthetic", "data.samples=1000"]
    assert cli([*args, f"hydra.run.dir={out}"]) == 0
    page = (out / "report.html").read_text()
    command = re.search(r'<pre id="command">(.*?)</pre>', page)
    assert command and command.group(1).startswith("python -m sim ")
    assert all(a in command.group(1) for a in args)
    summary = json.loads((out / "summary.json").read_text())
    assert '<span class="status completed">completed</span>' in page
    assert repr(summary["final_accuracy"]) not in page  # 0.2689999938011169: raw JSON
    assert f"<td>{summary['final_accuracy']:.4g}</td>" in page
    assert "Every applied update equalled the adversary-free update" in page  # guarantees
    table = page.split('<table id="metrics">', 1)[1].split("</table>", 1)[0]
    firsts = re.findall(r'<tr><td class="n">(\d+)</td>', table)
    assert firsts == ["0", "1", "2", "3", "4", "7", "8", "9", "10", "11"]
    assert "2 more iterations" in table
    assert page.count("<figcaption>") == 2 and "Look for" in page
    assert "repetition code r=3, then mean · 15 workers" in page  # the scenario in words


def test_a_python_api_run_names_its_call(tmp_path: Path) -> None:
    import sim

    sim.run(["train.iterations=2", "data=synthetic", "data.samples=1000"], out_dir=tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "sim.run([&#x27;train.iterations=2&#x27;" in page
