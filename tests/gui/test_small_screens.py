"""Small screens and 2x (issue #11): the window fits the screen's available area, shows the
command and Copy at 1366x768, keeps the top panels small at 1024x700, and works at 2x."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect

from llmcheck.gui import main_window
from tests.helpers import recorded_machine as load_snapshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def screen(monkeypatch):
    """Pretend the screen's available area is ``set(width, height)``."""

    class Screen:
        def set(self, width: int, height: int) -> None:
            monkeypatch.setattr(
                main_window, "available_geometry", lambda _widget: QRect(0, 0, width, height)
            )

    return Screen()


def fully_shown(widget, window) -> bool:
    """``widget`` is visible and wholly inside the window and its scroll areas."""
    if not widget.isVisible():
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    inside = window.rect().contains(QRect(top_left, widget.size()))
    return inside and widget.visibleRegion().boundingRect().size() == widget.size()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1024, 700), (800, 600)])
def test_the_window_is_never_larger_than_the_screen(make_window, screen, width, height) -> None:
    screen.set(width, height)
    window = make_window(lambda: load_snapshot("one-nvidia"))
    assert window.width() <= width
    assert window.height() <= height - 24
    assert window.minimumSizeHint().width() <= max(width, 1024)


def test_a_large_screen_gets_the_default_size(make_window, screen) -> None:
    screen.set(2560, 1440)
    window = make_window(lambda: load_snapshot("one-nvidia"))
    assert (window.width(), window.height()) == (
        main_window.DEFAULT_SIZE.width(),
        main_window.DEFAULT_SIZE.height(),
    )


def test_a_restored_size_is_clamped_to_a_smaller_screen(make_window, screen, settings) -> None:
    screen.set(2560, 1440)
    big = make_window(lambda: load_snapshot("one-nvidia"))
    big.resize(2400, 1300)
    big.close()
    screen.set(1366, 768)
    window = make_window(lambda: load_snapshot("one-nvidia"), store=settings)
    assert window.width() <= 1366
    assert window.height() <= 768


def test_1366_by_768_shows_the_command_and_copy(make_window, screen, qtbot) -> None:
    screen.set(1366, 768)
    window = make_window(lambda: load_snapshot("one-nvidia"))
    qtbot.waitUntil(lambda: window.details.command_edit.text() != "", timeout=5_000)
    assert fully_shown(window.details.command_edit, window)
    assert fully_shown(window.details.copy_button, window)
    assert window.details.copy_button.isEnabled()
    # Every quant column is in view beside the details.
    header = window.grid_view.horizontalHeader()
    last = header.count() - 1
    assert header.sectionViewportPosition(last) + header.sectionSize(last) <= (
        window.grid_view.viewport().width()
    )


def test_1024_by_700_keeps_the_top_small_and_scrolls_the_columns(
    make_window, screen, qtbot
) -> None:
    screen.set(1024, 700)
    window = make_window(lambda: load_snapshot("two-gpus"))  # three device rows
    central = window.centralWidget()
    top = window.splitter.mapTo(central, QPoint(0, 0)).y()
    assert top / central.height() < 0.4, (top, central.height())
    header = window.grid_view.horizontalHeader()
    last = header.count() - 1
    all_shown = header.sectionViewportPosition(last) + header.sectionSize(last) <= (
        window.grid_view.viewport().width()
    )
    assert all_shown or window.grid_view.horizontalScrollBar().maximum() > 0
    assert fully_shown(window.details.copy_button, window)


_TWO_X = """
import json, sys
from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication
sys.path.insert(0, "tests/gui")
from conftest import load_snapshot
from llmcheck.gui.main_window import MainWindow
app = QApplication(["llmcheck"])
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
w = MainWindow(probe=lambda: load_snapshot("one-nvidia"), settings=settings, start_probe=False)
w.show()
loop = QEventLoop(); w.probe_finished.connect(loop.quit); QTimer.singleShot(30000, loop.quit)
w.start_probe(); loop.exec()
for _ in range(20):
    app.processEvents()
area = app.primaryScreen().availableGeometry()
copy = w.details.copy_button
print(json.dumps({"ratio": w.devicePixelRatio(), "area": [area.width(), area.height()],
                  "frame": [w.frameGeometry().width(), w.frameGeometry().height()],
                  "copy": copy.isVisible() and not copy.visibleRegion().isEmpty()}))
w.close()
"""


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb (xvfb-run)")
def test_twice_the_scale_on_a_small_screen_fits(tmp_path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "QT_SCALE_FACTOR": "2"}
    result = subprocess.run(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 2732x1536x24",
            sys.executable,
            "-c",
            _TWO_X,
            str(tmp_path / "s.ini"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["ratio"] == 2
    assert shown["area"] == [1366, 768]
    assert shown["frame"][0] <= 1366
    assert shown["frame"][1] <= 768
    assert shown["copy"]
