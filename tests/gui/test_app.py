"""The GUI entry point: no display, bad --snapshot files, and the smoke test.

The display check itself (llmcheck.display, shared with the CLI) is tested in tests/test_display.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmcheck.gui import app
from tests.helpers import SNAPSHOT_DIR


def test_main_without_display_says_so_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(app.sys, "platform", "linux")
    assert app.main([]) == 2
    err = capsys.readouterr().err
    assert "cannot open a window: no display found" in err
    assert "llmcheck --json" in err
    assert len(err.strip().splitlines()) == 1


def test_main_with_a_bad_snapshot_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"machine": {"os": {}}}', encoding="utf-8")
    assert app.main(["--snapshot", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.json: machine.cpu: expected an object" in err
    assert "machine.cpu" in err
    assert "Traceback" not in err


def test_main_with_a_missing_snapshot_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert app.main(["--snapshot", str(tmp_path / "nope.json")]) == 2
    assert "nope.json" in capsys.readouterr().err


def test_bad_option_exits_2() -> None:
    assert app.main(["--no-such-option"]) == 2


def test_smoke_test_opens_the_window_and_exits_0(qapp, settings, monkeypatch) -> None:
    """--smoke-test returns 0 after the first paint, with a recorded machine."""
    from llmcheck.gui import main_window

    # The real window would store settings in the user's QSettings: point it at the temp file.
    original = main_window.MainWindow.__init__

    def init(self, *args, **kwargs):
        kwargs.setdefault("settings", settings)
        original(self, *args, **kwargs)

    monkeypatch.setattr(main_window.MainWindow, "__init__", init)
    snapshot = SNAPSHOT_DIR / "one-nvidia.json"
    assert app.main(["--smoke-test", "--snapshot", str(snapshot)]) == 0


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("digits.json", '{"schema_version": ' + "9" * 5000 + "}", "number too long"),
        ("big.json", " " * ((16 << 20) + 10), "larger than 16 MiB"),
    ],
    ids=["deep", "5000-digits", "over-the-cap"],
)
def test_gui_snapshot_has_the_cli_guards(
    name: str,
    content: str,
    words: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`llmcheck-gui --snapshot` reads through the CLI's reader: one line, exit 2, no traceback."""
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    assert app.main(["--snapshot", str(bad)]) == 2
    err = capsys.readouterr().err
    assert words in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
