"""Your own files: File ▸ Open and drag-and-drop of a .gguf, and the "On this machine" list."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from llmcheck.catalog import load_catalog
from llmcheck.estimate import estimate
from llmcheck.estimate.runtime import Runtime
from llmcheck.gui.local_files import gguf_paths
from tests.gguf import _make as m
from tests.gguf._make import catalog_file
from tests.helpers import recorded_machine as load_snapshot


def test_open_shows_the_files_verdict_bars_and_command(
    make_window, qtbot, tmp_path: Path, monkeypatch
) -> None:
    window = make_window(lambda: load_snapshot("one-nvidia"))
    path = catalog_file(tmp_path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a: (str(path), "")))
    with qtbot.waitSignal(window.file_answered, timeout=20_000):
        window.local_files.ask_open()
    want = estimate(
        load_catalog().variant("lfm2-1.2b"),
        "Q4_K_M",
        window.run_config(),
        load_snapshot("one-nvidia"),
    )
    assert window.details.title.text().startswith(f"Your file: {path.name} · ")
    assert window.details.labels["verdict"].text() == "✓ Runs great"
    assert str(want.verdict) == "runs_great"
    assert window.details.command_edit.text().startswith("llama-server")
    assert f"-m {path}" in window.details.command_edit.text()
    assert len(window.details.bars) == len(want.devices)
    assert path.name in window.status_label.text()
    assert window.last_error is None


def test_a_file_of_another_architecture_is_one_line_in_the_status(
    make_window, qtbot, tmp_path: Path
) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    other = m.write_other(tmp_path / "qwen3-Q4_K_M.gguf")
    with qtbot.waitSignal(window.file_failed, timeout=20_000) as caught:
        window.local_files.open_file(other)
    (message,) = caught.args
    assert "qwen3" in message
    assert "LFM2" in message
    assert "\n" not in window.status_label.text()
    assert "Traceback" not in window.status_label.text()
    corrupt = tmp_path / "broken.gguf"
    corrupt.write_bytes(b"GGUF\x03\x00\x00\x00garbage")
    with qtbot.waitSignal(window.file_failed, timeout=20_000):
        window.local_files.open_file(corrupt)
    assert "broken.gguf" in window.status_label.text()


def test_dropping_a_gguf_opens_it_and_other_drops_are_ignored(
    make_window, qtbot, tmp_path: Path
) -> None:
    window = make_window(lambda: load_snapshot("one-nvidia"))
    (path,) = m.write_lfm2(tmp_path / "tiny-Q4_K_M.gguf")
    text = QMimeData()
    text.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    assert gguf_paths(text) == ()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    assert gguf_paths(mime) == (path,)
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    refused = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, text, buttons, keys)
    refused.setAccepted(False)
    window.dragEnterEvent(refused)
    assert not refused.isAccepted()
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, buttons, keys)
    enter.setAccepted(False)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, buttons, keys)
    with qtbot.waitSignal(window.file_answered, timeout=20_000):
        window.dropEvent(drop)
    assert window.details.title.text().startswith("Your file: tiny-Q4_K_M.gguf")


def test_the_runtime_chosen_gives_its_command_for_the_file(
    make_window, qtbot, tmp_path: Path
) -> None:
    window = make_window(lambda: load_snapshot("one-nvidia"))
    with qtbot.waitSignal(window.grid_updated, timeout=20_000):
        window.settings_panel.runtime_combo.setCurrentIndex(
            window.settings_panel.runtime_combo.findData(str(Runtime.LM_STUDIO))
        )
    (path,) = m.write_lfm2(tmp_path / "tiny-Q4_K_M.gguf")
    with qtbot.waitSignal(window.file_answered, timeout=20_000):
        window.local_files.open_file(path)
    assert window.details.command_edit.text().startswith(f"lms load {path}")


def test_on_this_machine_lists_each_lfm2_file_with_its_verdict_and_the_notes(
    make_window, qtbot, tmp_path: Path
) -> None:
    window = make_window(lambda: load_snapshot("one-nvidia"))
    home = tmp_path / "home"
    store = home / ".lmstudio" / "models" / "LiquidAI" / "LFM2-1.2B-GGUF"
    store.mkdir(parents=True)
    catalog_file(store)
    m.write_other(store / "qwen3-Q4_K_M.gguf")
    dialog = window.local_files.show_on_this_machine(home=home, env={})
    qtbot.addWidget(dialog)
    qtbot.waitSignal(dialog.filled, timeout=30_000).wait()
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 0).text().endswith("LFM2-1.2B-Q4_K_M.gguf")
    assert dialog.table.item(0, 1).text() == "lm-studio"
    assert dialog.table.item(0, 2).text() == "✓ Runs great"
    assert "1 LFM2 model file found" in dialog.status.text()
    assert "other architectures" in dialog.notes.text()
