"""Input files named by settings: each problem names the setting, the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config.errors import ConfigError, InputFileError
from sim.config.inputs import output_dir, read_csv

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


# ---------------------------------------------------------------- output folders


def test_an_output_dir_that_cannot_be_written_is_refused_and_nothing_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only place (here: the write probe refused, as on a read-only file system or
    a folder without write permission; root may write anywhere, so the refusal is made)."""
    import tempfile

    def refuse(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(InputFileError, match=r"hydra.run.dir=.*: cannot write there: Permission"):
        output_dir("hydra.run.dir", tmp_path / "a" / "b")
    assert not (tmp_path / "a").exists()  # the folders it made are gone again


def test_an_output_dir_is_checked_by_writing_and_left_as_it_was(tmp_path: Path) -> None:
    assert output_dir("out_dir", tmp_path / "new" / "run") == tmp_path / "new" / "run"
    assert not (tmp_path / "new").exists()  # made for the check, removed again
    (tmp_path / "old").mkdir()
    assert output_dir("out_dir", tmp_path / "old") == tmp_path / "old"
    assert list((tmp_path / "old").iterdir()) == []  # no probe left behind
    with pytest.raises(ConfigError, match="is empty"):
        output_dir("out_dir", " ")
