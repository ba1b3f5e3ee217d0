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
from typing import IO, Any

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


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class MetricsWriter:
    """Appends one row per iteration and flushes it, so a partial run stays readable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[str] = path.open("w", newline="")
        self.columns = [f.name for f in fields(IterationRecord)]
        self.writer = csv.DictWriter(self.file, fieldnames=self.columns)
        self.writer.writeheader()
        self.rows: list[IterationRecord] = []

    def write(self, rec: IterationRecord) -> None:
        row = {k: _fmt(v) for k, v in asdict(rec).items()}
        self.writer.writerow(row)
        self.file.flush()
        self.rows.append(rec)

    def close(self) -> None:
        self.file.close()


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
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
