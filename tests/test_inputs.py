"""Input files named by settings: each problem names the setting, the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config.errors import ConfigError, InputFileError
from sim.config.inputs import read_csv

COLUMNS = {"worker": int, "seconds": float}
GOOD = "worker,seconds,note\n0,0.5,a\n\n1,0.25,b\n"


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "trace.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def test_a_good_file_reads_by_column(tmp_path: Path) -> None:
    out = read_csv("latency.file", write(tmp_path, GOOD), COLUMNS)
    assert out == {"worker": [0, 1], "seconds": [0.5, 0.25]}


BAD = {
    "empty": ("", "line 1: empty file: expected a header line"),
    "missing column": (
        "worker,secs\n0,1\n",
        "line 1: missing column(s) seconds; the header has worker, secs and must have "
        "worker, seconds",
    ),
    "not a number": (
        "worker,seconds\n0,0.5\n1,fast\n",
        "line 3: column seconds: 'fast' is not a number",
    ),
    "not an integer": ("worker,seconds\n0.5,1\n", "line 2: column worker: '0.5' is not an integer"),
    "not finite": ("worker,seconds\n0,nan\n", "line 2: column seconds: 'nan' is not finite"),
    "ragged row": ("worker,seconds\n0,1,2\n", "line 2: 3 fields where the header has 2"),
    "header only": ("worker,seconds\n", "0 data rows; need at least 1"),
    "binary": (b"\xff\xfe\x00garbage", "is a binary file, not text"),
    "not UTF-8": (
        b"worker,seconds\n0,caf\xe9\n",
        "not a UTF-8 text file (invalid continuation byte)",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_malformed_files_say_where(tmp_path: Path, case: str) -> None:
    content, says = BAD[case]
    path = write(tmp_path, content)
    with pytest.raises(InputFileError) as err:
        read_csv("latency.file", path, COLUMNS)
    assert str(err.value) == f"latency.file={path}: {says}"
    assert isinstance(err.value, ConfigError) and "\n" not in str(err.value)


def test_a_missing_file_or_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"latency.file=.*nope.csv: no such file$"):
        read_csv("latency.file", tmp_path / "nope.csv", COLUMNS)
    with pytest.raises(InputFileError, match="is a directory, not a file"):
        read_csv("latency.file", tmp_path, COLUMNS)
