"""``trace.json``: what happened on the simulated clock, as Chrome trace events.

It uses the Chrome trace event format (chrome://tracing, Perfetto):
complete events ``ph: "X"`` with ``ts``/``dur`` in microseconds, ``pid`` = node,
``tid`` = lane, and metadata events naming every process and lane.
"""

from __future__ import annotations

import json
from typing import Any

ROUNDING_US = 1e-6  # far below any simulated duration; far above float rounding of seconds*1e6
LANES = {"downlink": 0, "compute": 1, "uplink": 2, "wait": 0, "decode": 1, "aggregate": 2}


class Trace:
    """Chrome trace events; spans are recorded only for the first ``limit`` iterations
    and the first ``workers`` of the ``total`` workers (the PS's spans always)."""

    def __init__(self, limit: int, workers: int = 0, total: int = 0) -> None:
        self.limit = limit
        self.workers, self.total = workers, total
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
        scope = {"traced_iterations": self.limit, "traced_workers": self.workers}
        scope["workers"] = self.total
        return json.dumps(
            {"traceEvents": meta + self.events, "displayTimeUnit": "ms", "otherData": scope}
        )

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
