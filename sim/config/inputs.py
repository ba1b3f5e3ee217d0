"""The one reader of files that a setting names (trace files, graph files, data sets, ...).

Every problem becomes an :class:`~sim.config.errors.InputFileError` naming the setting,
the path and, where it applies, the line: a missing file, a directory, a binary file
where text is expected, an empty file, a missing column, a value that is not a number.
A message never quotes more than a few characters of the file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import tempfile
from pathlib import Path

from sim.config.errors import ConfigError, InputFileError


def checked(key: str, path: str | Path) -> Path:
    """``path`` as a readable regular file, or an error saying what it is instead."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise InputFileError(key, path, "is a directory, not a file")
    if not p.exists():
        raise InputFileError(key, path, "no such file")
    return p


def output_dir(key: str, path: str | Path) -> Path:
    """``path`` as a directory this process can write into, or an error saying why not.

    Checked by writing: the directory (and its missing parents) is made, a probe file is
    created and removed, and what did not exist before is removed again, so a refused
    run leaves nothing behind.
    """
    if not str(path).strip():
        raise ConfigError(f"{key} is empty: give a directory for the run's outputs")
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise InputFileError(key, path, "is a file, not a directory")
    made = [q for q in (p, *p.parents) if not q.exists()]
    above = next((q for q in p.parents if q.exists()), None)
    if above is not None and not above.is_dir():
        raise InputFileError(key, path, f"cannot be made: {above} is a file, not a directory")
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=p, prefix=".write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(p) else ""
        raise InputFileError(key, path, f"cannot write there: {why}{where}") from None
    finally:
        for q in made:  # innermost first
            with contextlib.suppress(OSError):
                q.rmdir()
    return p


def read_bytes(key: str, path: str | Path) -> bytes:
    """The file's bytes, or an error saying why it cannot be read."""
    p = checked(key, path)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputFileError(key, path, f"cannot be read ({exc.strerror})") from None


def read_text(key: str, path: str | Path) -> str:
    """The file's text (UTF-8), or an error saying why it cannot be read as text."""
    raw = read_bytes(key, path)
    if b"\x00" in raw[:8192]:
        raise InputFileError(key, path, "is a binary file, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(key, path, f"not a UTF-8 text file ({exc.reason})") from None


def read_csv(
    key: str,
    path: str | Path,
    columns: dict[str, type],
    finite: bool = True,
    min_rows: int = 1,
) -> dict[str, list]:
    """Columns of a CSV file with a header line, converted to the given types.

    ``columns`` maps every required column to ``int``, ``float`` or ``str``; other columns
    are ignored. Line numbers in errors count the header as line 1. With ``finite``,
    NaN and infinite numbers are errors too.
    """
    text = read_text(key, path)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise InputFileError(key, path, "empty file: expected a header line", line=1)
    names = [h.strip() for h in header]
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputFileError(
            key,
            path,
            f"missing column(s) {', '.join(missing)}; the header has {', '.join(names)} "
            f"and must have {', '.join(columns)}",
            line=1,
        )
    where = {c: names.index(c) for c in columns}
    out: dict[str, list] = {c: [] for c in columns}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank lines are allowed
        if len(row) != len(names):
            raise InputFileError(
                key, path, f"{len(row)} fields where the header has {len(names)}", line=line
            )
        for c, kind in columns.items():
            out[c].append(_convert(key, path, line, c, row[where[c]].strip(), kind, finite))
    rows = len(next(iter(out.values()), []))
    if rows < min_rows:
        raise InputFileError(key, path, f"{rows} data rows; need at least {min_rows}")
    return out


def _convert(
    key: str, path: str | Path, line: int, column: str, cell: str, kind: type, finite: bool
) -> int | float | str:
    if kind is str:
        return cell
    try:
        value = kind(cell)
    except ValueError:
        name = "an integer" if kind is int else "a number"
        what = f"column {column}: {cell[:40]!r} is not {name}"
        raise InputFileError(key, path, what, line) from None
    if finite and isinstance(value, float) and not math.isfinite(value):
        raise InputFileError(key, path, f"column {column}: {cell!r} is not finite", line)
    return value
