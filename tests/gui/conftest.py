"""GUI test fixtures: recorded machines, a throw-away settings file, a window factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThreadPool

from llmcheck.snapshot import SystemSnapshot
from tests.helpers import recorded_machine

# The recorded machines, shared with the other tests (tests/helpers.py).
load_snapshot = recorded_machine  # the name the window tests use


@pytest.fixture(autouse=True)
def _workers_finish_within_their_test() -> Iterator[None]:
    """Wait for the pool's workers (a grid prefetch, a measurement) before the next test.

    A worker left running would compute, and emit, during the next test: that test's checks
    (None's reference count, a signal it waits on) would see another test's work.
    """
    yield
    from PySide6.QtWidgets import QApplication

    from llmcheck.gui.main_window import MainWindow

    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            widget.pool.waitForDone(60_000)  # each window owns its pool
    QThreadPool.globalInstance().waitForDone(60_000)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[QSettings]:
    """Settings in a temporary INI file, never the user's."""
    store = QSettings(str(tmp_path / "llmcheck-test.ini"), QSettings.Format.IniFormat)
    yield store
    store.sync()


@pytest.fixture
def make_window(qtbot, settings: QSettings) -> Callable[..., object]:
    """Open a MainWindow on an injected probe and wait for its first answer."""
    from llmcheck.gui.main_window import MainWindow

    def make(
        probe: Callable[[], SystemSnapshot],
        *,
        wait: str = "probe_finished",
        store: QSettings | None = None,
    ) -> MainWindow:
        window = MainWindow(probe=probe, settings=store or settings, start_probe=False)
        qtbot.addWidget(window)
        window.show()
        with qtbot.waitSignal(getattr(window, wait), timeout=10_000):
            window.start_probe()
        return window

    return make


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bandwidth cache (and any other cache) in a temporary folder, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "localappdata"))
