"""write_atomic: the old file survives every failure, and a success replaces it whole."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from llmcheck.atomic import AtomicWriteError, write_atomic, write_text_atomic


def test_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o640)
    write_text_atomic(target, "new content")
    assert target.read_text(encoding="utf-8") == "new content"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_lone_surrogate_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(AtomicWriteError, match="existing file is unchanged"):
        write_text_atomic(target, "name \ud800")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_writer_failure_keeps_the_old_file_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "window.png"
    target.write_bytes(b"old png")

    def fail(temp: Path) -> None:
        temp.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(AtomicWriteError, match="No space left on device"):
        write_atomic(target, fail)
    assert target.read_bytes() == b"old png"
    assert [p.name for p in tmp_path.iterdir()] == ["window.png"]


def test_missing_folder_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(AtomicWriteError, match="could not write"):
        write_atomic(tmp_path / "no" / "such" / "x.json", b"{}")


def test_full_disk_during_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that hits ENOSPC (simulated at os.fsync, the moment data must reach disk)."""
    target = tmp_path / "r.json"
    target.write_text('{"old": true}', encoding="utf-8")

    def no_space(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(AtomicWriteError, match="No space left"):
        write_text_atomic(target, '{"new": true}')
    assert target.read_text(encoding="utf-8") == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
