"""The keyboard (issue #11): no focus trap, a visible focus frame on the grid, arrow keys that
step over the empty cells and never clear the details."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from llmcheck.gui.details_panel import NO_CELL
from tests.helpers import recorded_machine as load_snapshot


def focus_on(qtbot, widget) -> None:
    widget.window().activateWindow()
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=5_000)


def test_tab_leaves_the_device_table(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("two-gpus"))
    table = window.machine_panel.device_view
    assert window.device_model.rowCount() >= 3
    focus_on(qtbot, table)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert not table.hasFocus()


def test_tab_goes_round_the_window_through_the_grid(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("two-gpus"))
    focus_on(qtbot, window.machine_combo)
    seen = []
    for _ in range(60):
        widget = QApplication.focusWidget()
        seen.append(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
        if QApplication.focusWidget() is window.machine_combo:
            break
    names = [type(w).__name__ + ":" + (w.accessibleName() or w.objectName()) for w in seen]
    assert QApplication.focusWidget() is window.machine_combo, names
    assert window.grid_view in seen
    assert window.details.copy_button in seen
    # No widget keeps the focus for more than one press (a label of links steps through its
    # links, one press each).
    controls = [w for w in seen if not isinstance(w, QLabel)]
    assert len(controls) == len(set(controls)), names


def test_the_grid_shows_a_focus_frame(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("one-nvidia"))
    view = window.grid_view
    focus_on(qtbot, window.machine_combo)
    viewport = view.viewport()
    without = viewport.grab().toImage()
    focus_on(qtbot, view)
    with_focus = viewport.grab().toImage()
    # The frame is drawn round the cells: the first column of pixels changes all the way down.
    edge = [(without.pixel(2, y), with_focus.pixel(2, y)) for y in range(5, viewport.height() - 5)]
    assert sum(a != b for a, b in edge) > len(edge) * 0.9


def test_arrow_keys_step_over_empty_cells(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    model = window.grid_model
    view = window.grid_view
    # A row with answers on both sides of an empty cell (a vision model: no Q6_K, Q5_K_M ...).
    row, left, right = next(
        (r, c, next(d for d in range(c + 2, model.columnCount()) if model.fit(r, d)))
        for r in range(model.rowCount())
        for c in range(model.columnCount() - 2)
        if model.fit(r, c)
        and model.fit(r, c + 1) is None
        and any(model.fit(r, d) for d in range(c + 2, model.columnCount()))
    )
    view.setCurrentIndex(model.index(row, left))
    focus_on(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert (view.currentIndex().row(), view.currentIndex().column()) == (row, right)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert (view.currentIndex().row(), view.currentIndex().column()) == (row, left)
    assert window.details.title.text() != NO_CELL


def test_arrow_keys_stop_at_the_edge_and_keep_the_details(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    model = window.grid_model
    view = window.grid_view
    # The first answer of a row whose first column is empty (LFM2 has no BF16 GGUF).
    row = next(r for r in range(model.rowCount()) if model.fit(r, 0) is None)
    first = next(c for c in range(model.columnCount()) if model.fit(row, c))
    view.setCurrentIndex(model.index(row, first))
    focus_on(qtbot, view)
    title = window.details.title.text()
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.currentIndex().column() == first
    assert window.details.title.text() == title
    # Down and up through every row: the current cell always has an answer.
    for key in (Qt.Key.Key_Down,) * model.rowCount() + (Qt.Key.Key_Up,) * model.rowCount():
        qtbot.keyClick(view, key)
        index = view.currentIndex()
        assert model.fit(index.row(), index.column()) is not None
        assert window.details.title.text() != NO_CELL


def test_a_click_on_an_empty_cell_keeps_the_details(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    model = window.grid_model
    view = window.grid_view
    row = next(r for r in range(model.rowCount()) if model.fit(r, 0) is None)
    title = window.details.title.text()
    rect = view.visualRect(model.index(row, 0))
    view.scrollTo(model.index(row, 0))
    rect = view.visualRect(model.index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.details.title.text() == title
    assert window.selected_fit() is None or window.details.title.text() != NO_CELL
