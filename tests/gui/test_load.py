"""The window stays responsive under load (issue #6), asserted without timing anything.

What cannot flake: the heavy work (1,000 what-if machines, the grid at each context step) is not
done on the GUI thread, and the event loop runs while it is in flight. ``benchmarks/gui_load.py``
measures the longest event-loop stall for the README. Also: garbage in the settings file.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer

from llmcheck.gui.machines import CatalogMachine, load_machines
from tests.gui.conftest import load_snapshot

GIB = 1 << 30


def many_machines(n: int = 1000) -> tuple[CatalogMachine, ...]:
    """``n`` what-if machines: the shipped ones, repeated with memory sizes spread out."""
    base = load_machines()
    out = []
    for i in range(n):
        m = base[i % len(base)]
        scale = 0.25 + (i % 17) / 8
        out.append(dataclasses.replace(
            m, id=f"{m.id}-{i}", name=f"{m.name} #{i}",
            device_memory_bytes=max(GIB, int(m.device_memory_bytes * scale)),
        ))
    return tuple(out)


@pytest.fixture
def main_thread_estimates(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of estimator entry points that ran on the GUI thread (a pass-through spy)."""
    import llmcheck.estimate as estimate_module

    seen: list[str] = []
    for name in ("estimate_all", "best_quant", "estimate"):
        real = getattr(estimate_module, name)

        def spy(*args: object, _real: Callable[..., object] = real, _name: str = name,
                **kwargs: object) -> object:
            if threading.current_thread() is threading.main_thread():
                seen.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(estimate_module, name, spy)
    return seen


def _heartbeat(window: object, busy: Callable[[], bool]) -> tuple[QTimer, list[bool]]:
    """A 0 ms timer recording, at each event-loop turn, whether the work was still in flight."""
    beats: list[bool] = []
    timer = QTimer(window)  # type: ignore[arg-type]
    timer.setInterval(0)
    timer.timeout.connect(lambda: beats.append(busy()))
    return timer, beats


def test_thousand_what_if_machines_are_evaluated_off_the_gui_thread(
    qtbot, settings: QSettings, main_thread_estimates: list[str]
) -> None:
    from llmcheck.gui.main_window import MainWindow

    snapshot = load_snapshot("two-gpus")
    window = MainWindow(probe=lambda: snapshot, settings=settings, machines=many_machines(),
                        start_probe=False)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.probe_finished, timeout=60_000):
        window.start_probe()
    main_thread_estimates.clear()
    window.grid_view.setCurrentIndex(window.grid_model.index(0, 0))
    timer, beats = _heartbeat(window, lambda: window.answer_model.rowCount() == 0)
    timer.start()
    with qtbot.waitSignal(window.answers_updated, timeout=300_000):
        window.tabs.setCurrentIndex(1)
        # The switch returned at once: nothing is computed yet, the title says so.
        assert window.answer_model.rowCount() == 0
        assert "Computing" in window.reverse_title.text()
    timer.stop()
    assert window.answer_model.rowCount() == 1000
    # The details panel may recommend a quant for the one selected cell on the GUI thread (a
    # few ms); 1,000 machines there would be 1,000 calls or more.
    assert main_thread_estimates.count("best_quant") < 10, "machines evaluated on the GUI thread"
    assert "estimate_all" not in main_thread_estimates
    assert any(beats), "the event loop never ran while the machines were being evaluated"


def test_dragging_the_context_across_its_range_computes_off_the_gui_thread(
    qtbot, settings: QSettings, main_thread_estimates: list[str]
) -> None:
    from llmcheck.gui.main_window import MainWindow

    snapshot = load_snapshot("two-gpus")
    window = MainWindow(probe=lambda: snapshot, settings=settings, start_probe=False)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.probe_finished, timeout=60_000):
        window.start_probe()
    main_thread_estimates.clear()
    slider = window.context_control.slider
    last = slider.maximum()
    with qtbot.waitSignal(window.grid_updated, timeout=300_000,
                          check_params_cb=lambda *a: window.run_config().context_tokens
                          == window.context_control.context_tokens() and slider.value() == last):
        for value in range(slider.minimum(), last + 1):
            slider.setValue(value)  # what a drag does: one valueChanged per step, back to back
    qtbot.waitUntil(lambda: window.grid_model.rowCount() > 0, timeout=300_000)
    assert "estimate_all" not in main_thread_estimates, "a grid was computed on the GUI thread"
    # At most the details panel's one recommendation per step shown.
    assert main_thread_estimates.count("best_quant") <= 2 * (last + 1)
    assert window.run_config().context_tokens == window.context_control.context_tokens()


GARBAGE_SETTINGS = {
    "context_tokens": ["banana", "-5", "9" * 5000, "1e9", "", "nan"],
    "kv_type": ["\x00", "q9_z", ""],
    "flash_attn": ["maybe", ""],
    "geometry": ["not-a-geometry", "\x01\x02"],
    "splitter": ["garbage"],
}


@pytest.mark.parametrize("index", range(6))
def test_garbage_settings_file_opens_with_defaults(qtbot, tmp_path: Path, index: int) -> None:
    path = tmp_path / "llmcheck.ini"
    lines = ["[General]"]
    for key, values in GARBAGE_SETTINGS.items():
        lines.append(f"{key}={values[index % len(values)]}")
    path.write_text("\n".join(lines) + "\n\x00\xff junk line without equals\n[broken section\n",
                    encoding="utf-8", errors="surrogateescape")
    store = QSettings(str(path), QSettings.Format.IniFormat)
    from llmcheck.gui.main_window import MainWindow

    snapshot = load_snapshot("cpu-laptop")
    window = MainWindow(probe=lambda: snapshot, settings=store, start_probe=False)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.probe_finished, timeout=60_000):
        window.start_probe()
    assert window.context_control.context_tokens() > 0
    assert window.run_config().kv_type in ("f16", "q8_0", "q4_0")
    assert window.grid_model.rowCount() > 0


# This found a real crash: PySide6 6.12.0 on CPython 3.11 drops one reference to None per
# QAbstractItemModel.data() call that returns None, and a busy window aborted with "Fatal Python
# error: none_dealloc". pyproject.toml now keeps Python 3.11 on PySide6 < 6.12
# (tests/gui/test_pyside_none_refcount.py pins that), so this must pass.
def test_sustained_repainting_keeps_none_alive(qtbot, settings: QSettings) -> None:
    """Painting the grid many times must not use up Python's references to None."""
    import sys

    from PySide6.QtGui import QImage

    from llmcheck.gui.main_window import MainWindow

    snapshot = load_snapshot("two-gpus")
    window = MainWindow(probe=lambda: snapshot, settings=settings, start_probe=False)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.probe_finished, timeout=60_000):
        window.start_probe()
    image = QImage(1600, 1200, QImage.Format.Format_ARGB32)
    window.grid_view.viewport().render(image)
    before = sys.getrefcount(None)
    for _ in range(20):
        window.grid_view.viewport().render(image)
    assert sys.getrefcount(None) >= before - 50, "None's reference count is draining"
