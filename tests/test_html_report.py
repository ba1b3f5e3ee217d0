"""report.html opens from disk in a real browser and shows its figures and table."""

from __future__ import annotations

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
