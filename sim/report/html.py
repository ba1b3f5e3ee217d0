"""``report.html``: one self-contained page per run (figures embedded, opens from disk).

The page says what made the run (its command line), what it was (the scenario in one
line), which guarantees held, its summary with formatted numbers, its figures with what
to look at in each, the first and last rows of ``metrics.csv``, and the resolved config.
"""

from __future__ import annotations

import base64
import html
import math
import shlex
from pathlib import Path
from typing import Any

import yaml

from sim.report.scenario import describe
from sim.runs.records import IterationRecord, Status, Summary
from sim.runs.sink import read_metrics, write_atomic

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:3px 10px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums} tr.gap td{text-align:center;color:#777}
.ok{color:#1a7f37} .bad{color:#b42318;font-weight:600}
.status{padding:1px 8px;border-radius:8px;color:#fff;font-weight:600}
.completed{background:#1a7f37} .diverged,.failed{background:#b42318}
.interrupted{background:#b26b00}
figure{margin:1em 0} img{max-width:100%;border:1px solid #eee} figcaption{color:#444}
pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.85em} .note{color:#555}
#metrics{font-size:.85em}
"""

CAPTIONS = {
    "training.png": "Left: the training loss of each iteration's batch. Right: the test "
    "accuracy on [0, 1], with chance level dashed. Look for a curve that falls (loss) or "
    "rises (accuracy) steadily; red vertical lines mark iterations whose applied update "
    "was corrupted or could not be decoded, and a red cross marks where a diverged run "
    "stopped. The top axis is the simulated clock.",
    "timeline.png": "The first iterations on the simulated clock, one row per worker "
    "(receive the model, compute, send) under the PS's own row (wait, decode, aggregate, "
    "with their durations). Look for the red rows: adversaries. Hatched bars are work the "
    "PS stopped waiting for; the black triangle marks the message that ended each wait — "
    "the straggler that set the pace.",
}
HEAD, TAIL = 5, 5  # metrics rows shown at the start and at the end
COLUMNS = ("iteration", "sim_time_s", "loss", "test_loss", "accuracy", "adversaries",
           "received", "decode_failures", "corrupted_updates", "suspects")  # fmt: skip


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


def value(key: str, v: Any) -> str:
    """A summary value as a person reads it (HTML)."""
    if key == "status":
        return f'<span class="status {html.escape(str(v))}">{html.escape(str(v))}</span>'
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return "<br>".join(html.escape(str(x)) for x in v) or "none"
    if isinstance(v, float):
        if not math.isfinite(v):
            return html.escape(str(v))
        if key.endswith("_s"):
            return f"{v:.4g} s"
        if key == "epsilon":
            return f"{v:.2%}"
        return f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    if key == "model_digest":
        return f"<code>{html.escape(str(v))}</code>"
    return html.escape(str(v))


def _hydra(out_dir: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load((out_dir / ".hydra" / "hydra.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data.get("hydra", {}) if isinstance(data, dict) else {}


def command_line(out_dir: Path, label: str = "") -> tuple[str, str]:
    """(the command that made the run, a note on it) from Hydra's record of the run."""
    hydra = _hydra(out_dir)
    overrides = hydra.get("overrides", {})
    task = [str(o) for o in overrides.get("task", [])]
    if not hydra:
        if label:
            return f"sim.run({label.split()!r})", "from the Python API"
        return "", "no record of the command line (no .hydra/ folder)"
    if str(hydra.get("mode", "")).endswith("MULTIRUN"):
        words = ["python", "-m", "sim", *task]
        where = hydra.get("sweep", {}).get("dir", "")
        job = hydra.get("job", {}).get("num", "?")
        note = f"job {job} of a sweep into {where}: this command reruns this job on its own"
        return shlex.join(words), note
    mine = [str(o) for o in overrides.get("hydra", []) if not str(o).startswith("hydra.mode=")]
    return shlex.join(["python", "-m", "sim", *mine, *task]), ""


def _row(rec: IterationRecord) -> str:
    cells = []
    for c in COLUMNS:
        v = getattr(rec, c)
        if isinstance(v, float):
            text = "" if math.isnan(v) else f"{v:.4g}"
        else:
            text = html.escape(str(v))
        cells.append(f'<td class="n">{text}</td>')
    return f"<tr>{''.join(cells)}</tr>"


def metrics_table(out_dir: Path) -> str:
    """The first and last rows of ``metrics.csv`` (all of them when there are few)."""
    try:
        rows = read_metrics(out_dir / "metrics.csv")
    except (OSError, ValueError):
        rows = []
    if not rows:
        return "<p>No metrics were recorded.</p>"
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    if len(rows) <= HEAD + TAIL + 1:
        body = "".join(_row(r) for r in rows)
    else:
        hidden = len(rows) - HEAD - TAIL
        gap = f'<tr class="gap"><td colspan="{len(COLUMNS)}">… {hidden} more iterations …</td></tr>'
        body = "".join(_row(r) for r in rows[:HEAD]) + gap
        body += "".join(_row(r) for r in rows[-TAIL:])
    return (
        f'<p class="note">{len(rows)} iterations; the first {min(HEAD, len(rows))} and the '
        f"last ones. Test loss and accuracy are measured every <code>train.eval_every</code> "
        f'iterations. Every column of every row: <a href="metrics.csv">metrics.csv</a>.</p>'
        f'<table id="metrics"><tr>{head}</tr>{body}</table>'
    )


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    name = html.escape(path.stem.replace("_", " "))
    caption = html.escape(CAPTIONS.get(path.name, ""))
    return (
        f'<figure><img alt="{name}" src="data:image/png;base64,{data}">'
        f"<figcaption><b>{html.escape(path.name)}</b>. {caption}</figcaption></figure>"
    )


def write_report(
    out_dir: Path, summary: Summary | None = None, title: str = "", label: str = ""
) -> Path:
    """Build ``report.html`` from the run's summary (default: the run dir's
    ``summary.json``), its resolved config, its PNG figures and ``metrics.csv``.
    ``title``: the page's heading (default: the config's ``outputs.title``, or "draco-sim
    run"); ``label``: a Python API run's overrides (a command line leaves its record)."""
    if summary is None:
        summary = Summary.load(out_dir)
        if summary is None:
            raise FileNotFoundError(f"{out_dir}: no readable summary.json")
    config = (out_dir / "config.yaml").read_text() if (out_dir / "config.yaml").exists() else ""
    try:
        resolved = yaml.safe_load(config) or {}
    except yaml.YAMLError:
        resolved = {}
    scenario = describe(resolved) if isinstance(resolved, dict) else ""
    if not title:
        wanted = resolved.get("outputs", {}) if isinstance(resolved, dict) else {}
        title = str(wanted.get("title") or "draco-sim run")
    command, note = command_line(out_dir, label)
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{value(k, v)}</td></tr>"
        for k, v in summary.to_dict().items()
    )
    checks = "".join(
        f'<li class="{"ok" if ok else "bad"}">{"✓" if ok else "✗"} {html.escape(text)}</li>'
        for ok, text in guarantees(summary)
    )
    order = [*CAPTIONS, ""]  # the captioned figures first, in this order, then the others
    pngs = sorted(
        out_dir.glob("*.png"),
        key=lambda p: (order.index(p.name) if p.name in order else len(order), p.name),
    )
    figures = "".join(_figure(p) for p in pngs)
    made = f'<pre id="command">{html.escape(command)}</pre>' if command else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<h2>What ran</h2>{made}<p class="note">{html.escape(note)}</p>
<p>{html.escape(scenario)}</p>
<h2>Guarantees</h2><ul>{checks}</ul>
<h2>Summary</h2><table id="summary">{rows}</table>
<h2>Figures</h2>{figures or "<p>No figures were written.</p>"}
<h2>Metrics</h2>{metrics_table(out_dir)}
<h2>Resolved configuration</h2><pre>{html.escape(config)}</pre>
</body></html>
"""
    path = out_dir / "report.html"
    write_atomic(path, page)
    return path
