"""Typed records of a run, written as ``metrics.csv`` (streamed) and ``trace.json``.

``trace.json`` uses the Chrome trace event format (chrome://tracing, Perfetto):
complete events ``ph: "X"`` with ``ts``/``dur`` in microseconds, ``pid`` = node,
``tid`` = lane, and metadata events naming every process and lane.
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any, get_type_hints

from sim.errors import InputFileError

ROUNDING_US = 1e-6  # far below any simulated duration; far above float rounding of seconds*1e6
LANES = {"downlink": 0, "compute": 1, "uplink": 2, "wait": 0, "decode": 1, "aggregate": 2}


@dataclass
class IterationRecord:
    iteration: int
    sim_time_s: float  # simulated clock at the end of this iteration
    iteration_time_s: float
    loss: float  # training loss on this iteration's global batch, before the update
    test_loss: float  # NaN when not evaluated this iteration
    accuracy: float  # test accuracy; NaN when not evaluated this iteration
    adversaries: int
    adversary_ranks: str  # ";"-separated ranks
    received: int  # messages the PS used
    decode_failures: int
    corrupted_updates: int  # ground truth: 1 if the applied update differs from honest
    suspects: str  # ranks the decoder located as lying
    decode_s: float
    aggregate_s: float
    rejected: int = 0  # messages refused at the PS (wrong shape, dtype or type): erasures
    influence: float = math.nan  # adversarial candidates the rule kept (sim/aggregators/base.py)
    geomed_iterations: float = math.nan  # Weiszfeld steps taken; NaN for other rules
    attack: str = ""  # active adversary groups: name(ranks=...,effective parameters)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` all at once: readers see the old or the new file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class MetricsWriter:
    """Appends one row per iteration and flushes it, so a partial run stays readable.

    With ``keep`` (resuming), the first ``keep`` rows already in the file are kept and
    read back, rows after them (written after the checkpoint) are dropped, and new rows
    are appended.
    """

    def __init__(self, path: Path, keep: int | None = None) -> None:
        self.path = path
        self.columns = [f.name for f in fields(IterationRecord)]
        self.rows: list[IterationRecord] = []
        if keep is None:
            self.file: IO[str] = path.open("w", newline="")
            self.writer = csv.DictWriter(self.file, fieldnames=self.columns)
            self.writer.writeheader()
        else:
            self.rows = read_metrics(path, keep, self.columns)
            self.file = path.open("a", newline="")
            self.writer = csv.DictWriter(self.file, fieldnames=self.columns)

    def write(self, rec: IterationRecord) -> None:
        row = {k: _fmt(v) for k, v in asdict(rec).items()}
        self.writer.writerow(row)
        self.file.flush()
        self.rows.append(rec)

    def close(self) -> None:
        self.file.close()


def read_metrics(path: Path, keep: int, columns: list[str]) -> list[IterationRecord]:
    """The first ``keep`` rows of ``path``; the file is cut to them (atomically)."""
    if not path.exists():
        raise InputFileError("resume", path, "missing: cannot continue its rows")
    with path.open(newline="") as f:  # keep the csv module's \r\n line ends as they are
        lines = f.read().splitlines(keepends=True)
    header = next(csv.reader(lines[:1]), [])
    if header != columns:
        raise InputFileError(
            "resume", path, f"columns {header} differ from this version's {columns}", line=1
        )
    if len(lines) - 1 < keep:
        raise InputFileError(
            "resume", path, f"has {len(lines) - 1} rows but the checkpoint is after {keep}"
        )
    types = get_type_hints(IterationRecord)
    rows = []
    for n, row in enumerate(csv.reader(lines[1 : keep + 1]), start=2):
        if len(row) != len(columns):
            raise InputFileError("resume", path, f"{len(row)} fields, expected {len(columns)}", n)
        values = {c: _parse(v, types[c]) for c, v in zip(columns, row, strict=True)}
        rows.append(IterationRecord(**values))
    write_atomic(path, "".join(lines[: keep + 1]))
    return rows


def _parse(text: str, kind: type) -> Any:
    if kind is float:
        return math.nan if text == "" else float(text)
    return kind(text)


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(float(v))  # np.float64 would print as np.float64(...)
    return v


class Trace:
    """Chrome trace events; spans are recorded only for the first ``limit`` iterations."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.enabled = limit > 0
        self.events: list[dict[str, Any]] = []
        self.pids: dict[str, int] = {}
        self.tids: dict[tuple[int, str], int] = {}

    def pid(self, node: str) -> int:
        if node not in self.pids:
            self.pids[node] = len(self.pids)
        return self.pids[node]

    def span(
        self, node: str, lane: str, name: str, start_s: float, end_s: float, **args: Any
    ) -> None:
        if not self.enabled:
            return
        pid = self.pid(node)
        tid = self.tids.setdefault((pid, lane), LANES.get(lane, len(LANES) + len(self.tids)))
        ev = {
            "ph": "X",
            "name": name,
            "pid": pid,
            "tid": tid,
            "ts": start_s * 1e6,
            "dur": max(0.0, (end_s - start_s) * 1e6),
        }
        if args:
            ev["args"] = args
        self.events.append(ev)

    def untangle(self) -> None:
        """Make spans that touch on one lane touch exactly: ``ts + dur`` of one span and the
        ``ts`` of the next can differ by a rounding error after the conversion to µs."""
        last: dict[tuple[int, int], dict[str, Any]] = {}
        for ev in sorted(self.events, key=lambda e: (e["pid"], e["tid"], e["ts"])):
            key = (ev["pid"], ev["tid"])
            prev = last.get(key)
            if prev is not None:
                end = prev["ts"] + prev["dur"]
                if 0 < end - ev["ts"] <= ROUNDING_US:
                    ev["dur"] = max(0.0, ev["ts"] + ev["dur"] - end)
                    ev["ts"] = end
            last[key] = ev

    def to_json(self) -> str:
        self.untangle()
        meta: list[dict[str, Any]] = []
        for node, pid in self.pids.items():
            meta.append(
                {
                    "ph": "M",
                    "name": "process_name",
                    "pid": pid,
                    "tid": 0,
                    "ts": 0,
                    "args": {"name": node},
                }
            )
            meta.append(
                {
                    "ph": "M",
                    "name": "process_sort_index",
                    "pid": pid,
                    "tid": 0,
                    "ts": 0,
                    "args": {"sort_index": pid},
                }
            )
        for (pid, lane), tid in self.tids.items():
            meta.append(
                {
                    "ph": "M",
                    "name": "thread_name",
                    "pid": pid,
                    "tid": tid,
                    "ts": 0,
                    "args": {"name": lane},
                }
            )
        return json.dumps({"traceEvents": meta + self.events, "displayTimeUnit": "ms"})

    def state_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "pids": self.pids,
            "tids": [[pid, lane, tid] for (pid, lane), tid in self.tids.items()],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.events = list(state["events"])
        self.pids = dict(state["pids"])
        self.tids = {(pid, lane): tid for pid, lane, tid in state["tids"]}
