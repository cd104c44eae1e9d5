"""`llmcheck --install-desktop-entry` and `--uninstall-desktop-entry`: menu files for this user."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmcheck.cli import EXIT_OK, EXIT_USAGE, main


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_install_then_uninstall_writes_and_removes_only_the_menu_files(
    data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--install-desktop-entry"]) == EXIT_OK
    written = _files(data_home)
    entry = data_home / "applications" / "llmcheck.desktop"
    assert entry in written
    assert all(p.parent.is_relative_to(data_home / "icons") for p in written - {entry})
    out = capsys.readouterr().out
    assert f"wrote {entry}" in out
    text = entry.read_text(encoding="utf-8")
    assert "Exec=" in text
    assert "llmcheck-gui" in text

    assert main(["--uninstall-desktop-entry"]) == EXIT_OK
    assert _files(data_home) == set()
    assert f"removed {entry}" in capsys.readouterr().out


def test_uninstall_with_nothing_installed_says_so(
    data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--uninstall-desktop-entry"]) == EXIT_OK
    assert "nothing to remove" in capsys.readouterr().out


def test_both_flags_at_once_is_a_usage_error(
    data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--install-desktop-entry", "--uninstall-desktop-entry"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert _files(data_home) == set()


def test_unwritable_data_dir_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert main(["--install-desktop-entry"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
