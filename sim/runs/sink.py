"""Where each iteration's record goes: ``metrics.csv`` (streamed) and the run's memory.

A :class:`Sink` receives every :class:`~sim.runs.records.IterationRecord` as the PS
produces it. :class:`MetricsFile` appends it to ``metrics.csv`` and flushes, so a partial
run stays readable; :class:`Sink` alone keeps the records in memory (a Python API run
without a run dir).
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import IO, Any

from sim.config.errors import InputFileError
from sim.runs.records import IterationRecord


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` all at once: readers see the old or the new file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Sink:
    """Keeps every record of the run (the summary is computed from them)."""

    def __init__(self, rows: list[IterationRecord] | None = None) -> None:
        self.rows: list[IterationRecord] = list(rows or [])

    def write(self, rec: IterationRecord) -> None:
        self.rows.append(rec)

    def close(self) -> None:
        pass


class MetricsFile(Sink):
    """Appends one row per iteration to ``path`` and flushes it.

    With ``keep`` (resuming), the first ``keep`` rows already in the file are kept and
    read back, rows after them (written after the checkpoint) are dropped, and new rows
    are appended.
    """

    def __init__(self, path: Path, keep: int | None = None) -> None:
        self.path = path
        columns = IterationRecord.columns()
        if keep is None:
            super().__init__()
            self.file: IO[str] = path.open("w", newline="")
            self.writer = csv.DictWriter(self.file, fieldnames=columns)
            self.writer.writeheader()
        else:
            super().__init__(read_metrics(path, keep))
            self.file = path.open("a", newline="")
            self.writer = csv.DictWriter(self.file, fieldnames=columns)

    def write(self, rec: IterationRecord) -> None:
        self.writer.writerow({k: _fmt(v) for k, v in asdict(rec).items()})
        self.file.flush()
        super().write(rec)

    def close(self) -> None:
        self.file.close()


def read_metrics(path: Path, keep: int | None = None) -> list[IterationRecord]:
    """The rows of ``metrics.csv`` (the first ``keep``; then the file is cut to them)."""
    if not path.exists():
        raise InputFileError("resume", path, "missing: cannot continue its rows")
    with path.open(newline="") as f:  # keep the csv module's \r\n line ends as they are
        lines = f.read().splitlines(keepends=True)
    columns = IterationRecord.columns()
    header = next(csv.reader(lines[:1]), [])
    if header != columns:
        raise InputFileError(
            "resume", path, f"columns {header} differ from this version's {columns}", line=1
        )
    count = len(lines) - 1 if keep is None else keep
    if len(lines) - 1 < count:
        raise InputFileError(
            "resume", path, f"has {len(lines) - 1} rows but the checkpoint is after {keep}"
        )
    kinds = {f.name: f.type for f in fields(IterationRecord)}
    rows = []
    for n, row in enumerate(csv.reader(lines[1 : count + 1]), start=2):
        if len(row) != len(columns):
            raise InputFileError("resume", path, f"{len(row)} fields, expected {len(columns)}", n)
        values = {c: _parse(v, kinds[c]) for c, v in zip(columns, row, strict=True)}
        rows.append(IterationRecord(**values))
    if keep is not None:
        write_atomic(path, "".join(lines[: keep + 1]))
    return rows


def _parse(text: str, kind: Any) -> Any:
    if kind in ("float", float):
        if text == "":
            return math.nan
        return int(text) if text.lstrip("-").isdigit() else float(text)  # counts stay ints
    return int(text) if kind in ("int", int) else text


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(float(v))  # np.float64 would print as np.float64(...)
    return v
