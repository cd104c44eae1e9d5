"""RAM bandwidth in the window: measured in the background after the first paint (this boot's
cached value reused), forced from the menu, a too-busy result kept out; the source and age shown.

The copier is a fake below the real cache and apply_bandwidth; the cache lives in tmp_path (and
XDG_CACHE_HOME points there too: conftest's _private_cache).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from llmcheck.gui.main_window import MainWindow
from llmcheck.snapshot import Source
from tests.helpers import FakeCopier, table_bandwidth_laptop


def open_window(qtbot, settings: QSettings, copier: FakeCopier, cache: Path) -> MainWindow:
    window = MainWindow(
        probe=table_bandwidth_laptop,
        settings=settings,
        start_probe=False,
        measure_in_background=True,
        bandwidth_copier=copier,
        bandwidth_cache_dir=cache,
    )
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.bandwidth_measured, timeout=30_000):
        window.start_probe()
    return window


def test_background_measurement_updates_the_speeds_and_says_its_age(
    qtbot, settings: QSettings, tmp_path: Path
) -> None:
    copier = FakeCopier(41.0)
    window = open_window(qtbot, settings, copier, tmp_path)
    assert copier.on_main_thread == [False]
    memory = window.session.snapshot.memory  # type: ignore[union-attr]
    assert (memory.bandwidth_gb_s, memory.bandwidth_source) == (41.0, Source.MEASURED)
    fits = window.current_fits()
    speeds = [f.speed.bandwidth_gb_s for f in fits if f.speed is not None]
    assert speeds
    assert 41.0 in speeds
    assert "RAM bandwidth measured just now" in window.machine_panel.summary.text()
    assert (tmp_path / "bandwidth.json").is_file()
    window.close()
    # The next window this boot reuses it at once: the copier is not called again.
    second = FakeCopier(99.0)
    again = open_window(qtbot, settings, second, tmp_path)
    assert second.on_main_thread == []
    assert again.session.snapshot.memory.bandwidth_gb_s == 41.0  # type: ignore[union-attr]


def test_the_menu_forces_a_new_measurement(qtbot, settings: QSettings, tmp_path: Path) -> None:
    window = open_window(qtbot, settings, FakeCopier(41.0), tmp_path)
    forced = FakeCopier(47.5)
    window.bandwidth_task._measure = forced  # the constructor's seam, swapped for the second
    assert window.measure_action.isEnabled()
    with qtbot.waitSignal(window.bandwidth_measured, timeout=30_000):
        window.measure_action.trigger()
    assert forced.on_main_thread == [False]
    assert window.session.snapshot.memory.bandwidth_gb_s == 47.5  # type: ignore[union-attr]


def test_a_too_busy_measurement_says_so_and_keeps_the_range(
    qtbot, settings: QSettings, tmp_path: Path
) -> None:
    window = open_window(qtbot, settings, FakeCopier(9.8, busy=True), tmp_path)
    memory = window.session.snapshot.memory  # type: ignore[union-attr]
    assert (memory.bandwidth_gb_s, memory.bandwidth_low_gb_s, memory.bandwidth_high_gb_s) == (
        90.0,
        77.0,
        102.0,
    )
    assert memory.bandwidth_source is Source.TABLE
    text = window.status_label.text()
    assert "too busy" in text  # the measurement's own summary: "too busy: N of M rounds ..."
    assert "range is kept" in text
    assert "measured" not in window.machine_panel.summary.text()
    assert not (tmp_path / "bandwidth.json").exists()


def test_windows_on_recorded_machines_do_not_measure(make_window) -> None:
    window = make_window(table_bandwidth_laptop)
    assert not window.bandwidth_task.started
