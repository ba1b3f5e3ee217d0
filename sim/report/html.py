"""``report.html``: one self-contained page per run (figures embedded, opens from disk)."""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

from sim.runs.records import Status, Summary
from sim.runs.sink import write_atomic

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:3px 10px;text-align:left}
.ok{color:#1a7f37} .bad{color:#b42318;font-weight:600}
figure{margin:1em 0} img{max-width:100%;border:1px solid #eee}
pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.85em}
"""


def guarantees(summary: Summary) -> list[tuple[bool, str]]:
    """Plain-language statements about what held in this run, each true or false."""
    corrupted, failures = summary.corrupted_updates, summary.decode_failures
    iters = summary.iterations
    return [
        (
            corrupted == 0,
            "Every applied update equalled the adversary-free update over the same arrivals"
            if corrupted == 0
            else f"{corrupted} of {iters} applied updates differed from the adversary-free "
            "update (ground truth the PS cannot see)",
        ),
        (
            failures == 0,
            "The decoder never failed"
            if failures == 0
            else f"The decoder reported {failures} failures (groups or iterations it could "
            "not decode)",
        ),
        (
            summary.status is Status.completed,
            f"The run finished with status '{summary.status}'",
        ),
    ]


def _json(v: Any) -> str:
    return "null" if isinstance(v, float) and not math.isfinite(v) else json.dumps(v)


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    name = html.escape(path.stem.replace("_", " "))
    return (
        f'<figure><img alt="{name}" src="data:image/png;base64,{data}">'
        f"<figcaption>{name}</figcaption></figure>"
    )


def write_report(
    out_dir: Path, summary: Summary | None = None, title: str = "draco-sim run"
) -> Path:
    """Build ``report.html`` from the run's summary (default: the run dir's
    ``summary.json``), its resolved config and its PNG figures."""
    if summary is None:
        summary = Summary.load(out_dir)
        if summary is None:
            raise FileNotFoundError(f"{out_dir}: no readable summary.json")
    config = (out_dir / "config.yaml").read_text() if (out_dir / "config.yaml").exists() else ""
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_json(v))}</td></tr>"
        for k, v in summary.to_dict().items()
    )
    checks = "".join(
        f'<li class="{"ok" if ok else "bad"}">{"✓" if ok else "✗"} {html.escape(text)}</li>'
        for ok, text in guarantees(summary)
    )
    figures = "".join(_figure(p) for p in sorted(out_dir.glob("*.png")))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<h2>Guarantees</h2><ul>{checks}</ul>
<h2>Summary</h2><table id="summary">{rows}</table>
<h2>Figures</h2>{figures or "<p>No figures were written.</p>"}
<h2>Resolved configuration</h2><pre>{html.escape(config)}</pre>
</body></html>
"""
    path = out_dir / "report.html"
    write_atomic(path, page)
    return path
