"""The answer at the top, and the grid: every variant (rows) by quantization (columns), each
cell its verdict's symbol, its speed (or how short it is) and its speed class."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QFocusEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from llmcheck.gui.models import WIDEST_CELL, FitGridModel
from llmcheck.gui.widgets import VERDICT_STYLES, BadgeDelegate
from llmcheck.render.sentences import PickLine, pick_lines
from llmcheck.units import clean_text

if TYPE_CHECKING:
    from llmcheck.catalog import ModelVariant
    from llmcheck.estimate import Fit

# Every badge a verdict cell can show: columns are wide enough for any of them.
BADGES = (*(style.badge for style in VERDICT_STYLES.values()), WIDEST_CELL)
_CURSOR_MOVES = {
    QAbstractItemView.CursorAction.MoveUp: (-1, 0),
    QAbstractItemView.CursorAction.MoveDown: (1, 0),
    QAbstractItemView.CursorAction.MoveLeft: (0, -1),
    QAbstractItemView.CursorAction.MoveRight: (0, 1),
}
# The picks shown as links; the task models go in the drop-down beside them.
MAIN_PURPOSES = frozenset({"Best", "Fastest", "Longest context", "Vision"})
# A visible focus frame: the grid says plainly when the keyboard is on it.
FOCUS_PEN_PX = 3


class AnswerBanner(QFrame):
    """The answer at the top: the recommendation sentence, then the picks for purposes (best,
    fastest, longest context, vision) as links and the task models (RAG, extraction, tool use
    ...) in a drop-down beside them; choosing one says ``pick_chosen(variant_id, quant)``.

    The words are ``llmcheck --json``'s (``recommendations.summary``), so the window and the
    command line give the same answer for the same machine.
    """

    pick_chosen = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        self.summary = QLabel("")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("What to run here")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)
        self.picks_label = QLabel("")
        self.picks_label.setTextFormat(Qt.TextFormat.RichText)
        self.picks_label.setWordWrap(True)
        self.picks_label.setAccessibleName("Picks for a purpose")
        self.picks_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.picks_label.linkActivated.connect(self._on_link_activated)
        self.task_combo = QComboBox()
        self.task_combo.setAccessibleName("The pick for a task")
        self.task_combo.setToolTip("Models tuned for one task: choose one to see its cell")
        self.task_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.task_combo.setMinimumContentsLength(14)
        self.task_combo.activated.connect(self._on_task_activated)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.picks_label, 1)
        row.addWidget(self.task_combo)
        layout.addWidget(self.summary)
        layout.addLayout(row)
        self.picks: tuple[PickLine, ...] = ()

    def show_answer(self, recommendations: Mapping[str, Any] | None) -> None:
        """Show ``recommendations`` (the report's), or say nothing is known yet."""
        if not recommendations:
            self.say("")
            return
        self.summary.setText(clean_text(recommendations.get("summary") or "", limit=600))
        self.picks = pick_lines(recommendations)
        links = " · ".join(
            f'{html.escape(p.purpose)}: <a href="pick:{i}">{html.escape(p.words)}</a>'
            for i, p in enumerate(self.picks)
            if p.purpose in MAIN_PURPOSES
        )
        self.picks_label.setText(links)
        self.picks_label.setVisible(bool(links))
        self.task_combo.clear()
        tasks = [(i, p) for i, p in enumerate(self.picks) if p.purpose not in MAIN_PURPOSES]
        if tasks:
            self.task_combo.addItem("Task models…", -1)
        for i, pick in tasks:
            self.task_combo.addItem(f"{pick.purpose}: {pick.words}", i)
        self.task_combo.setVisible(bool(tasks))

    def say(self, words: str) -> None:
        """A plain line instead of an answer (the machine is being read, or changed)."""
        self.picks = ()
        self.summary.setText(words)
        self.picks_label.clear()
        self.picks_label.hide()
        self.task_combo.clear()
        self.task_combo.hide()

    def choose(self, purpose: str) -> None:
        """Choose the pick for ``purpose`` ("Best", "Fastest", "Tool calling" ...), as a click
        on its link or its line of the drop-down does."""
        for index, pick in enumerate(self.picks):
            if pick.purpose == purpose:
                self._on_link_activated(f"pick:{index}")
                return
        raise KeyError(purpose)

    def _on_task_activated(self, row: int) -> None:
        number = self.task_combo.itemData(row)
        if isinstance(number, int) and number >= 0:
            self._on_link_activated(f"pick:{number}")

    def _on_link_activated(self, link: str) -> None:
        number = link.removeprefix("pick:")
        if number.isdigit() and int(number) < len(self.picks):
            pick = self.picks[int(number)]
            self.pick_chosen.emit(pick.variant_id, pick.quant)


class GridTable(QTableView):
    """The grid's view: arrow keys step over the empty "—" cells (a quant a model is not
    published in) and stop at the edge, so the current cell always has an answer."""

    def moveCursor(
        self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        step = _CURSOR_MOVES.get(action)
        model = self.model()
        current = self.currentIndex()
        if step is None or not isinstance(model, FitGridModel) or not current.isValid():
            return super().moveCursor(action, modifiers)
        row, column = current.row(), current.column()
        while True:
            row, column = row + step[0], column + step[1]
            if not (0 <= row < model.rowCount() and 0 <= column < model.columnCount()):
                return current  # the edge: stay on the answer shown
            if model.fit(row, column) is not None:
                return model.index(row, column)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.hasFocus():
            # A focus frame no style can leave out: a thick line round the cells.
            painter = QPainter(self.viewport())
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_PEN_PX))
            painter.drawRect(self.viewport().rect().adjusted(1, 1, -2, -2))
            painter.end()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.viewport().update()


# Room around a cell's or a header's text (the item delegate's and header's margins, and slack).
_CELL_PADDING_PX = 16
_HEADER_PADDING_PX = 20


def fit_columns(
    view: QTableView, columns: Sequence[int] | range, *, also: Sequence[str], sample_rows: int
) -> None:
    """Size columns to their header, the first ``sample_rows`` rows' text and ``also``, once.

    Used instead of ``QHeaderView.ResizeToContents``, which asks the model for every cell of
    every row on the GUI thread at each reset.
    """
    model = view.model()
    header = view.horizontalHeader()
    cell_metrics = view.fontMetrics()
    header_metrics = header.fontMetrics()
    rows = min(model.rowCount(), sample_rows)
    for column in columns:
        texts = [model.data(model.index(row, column)) for row in range(rows)]
        cell = max(
            (cell_metrics.horizontalAdvance(t) for t in [*also, *texts] if isinstance(t, str)),
            default=0,
        )
        title = model.headerData(column, Qt.Orientation.Horizontal)
        head = header_metrics.horizontalAdvance(title) if isinstance(title, str) else 0
        header.resizeSection(column, max(cell + _CELL_PADDING_PX, head + _HEADER_PADDING_PX))


class GridPanel(QWidget):
    """The legend, a one-line status and the verdict grid.

    ``current_changed`` carries the cell now chosen (also when only its fit changed).
    ``filled`` says the grid was reset with new rows or columns (its size may have changed).
    """

    current_changed = Signal(QModelIndex)
    filled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # Fixed text of our own (no data): rich text for the coloured swatches.
        legend = "   ".join(
            f'<span style="background:{s.fill}; color:#000;">&nbsp;{s.symbol}&nbsp;</span> '
            f"{s.words}"
            for s in VERDICT_STYLES.values()
        ) + (
            "   · numbers: tok/s generating; lighter ↓ under twice the minimum speed, ↓↓ under it"
            " · ✗ \u2212n\u00a0GiB: memory missing · * the model's own longest context"
        )
        self.legend_label = QLabel(legend)
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setAccessibleName("Legend of the verdicts")
        self.status = QLabel("")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setAccessibleName("Grid status")
        legend_row = QHBoxLayout()
        self.legend_label.setWordWrap(True)
        legend_row.addWidget(self.legend_label, 1)
        legend_row.addWidget(self.status)
        self.model = FitGridModel()
        self.view = GridTable()
        self.view.setModel(self.model)
        self._badge_delegate = BadgeDelegate(self.view)
        self.view.setItemDelegate(self._badge_delegate)
        self.view.setAccessibleName("Verdicts: models by quantization")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.setTabKeyNavigation(False)
        # Sized once per reset from the badges, not ResizeToContents: a content-sized header
        # re-reads every cell on the GUI thread at each change (docs/faults.md, GUI under load).
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        self.view.setWordWrap(False)
        self.model.modelReset.connect(self._on_model_reset)
        self.view.selectionModel().currentChanged.connect(self._on_view_current_changed)
        layout.addWidget(self.view, 1)
        layout.addLayout(legend_row)

    def show_fits(
        self, variants: Sequence[ModelVariant], quants: Sequence[str], fits: Sequence[Fit]
    ) -> None:
        """Show these answers, keeping the current cell where it was (or the nearest answer)."""
        current = self.view.currentIndex()
        where = (current.row(), current.column()) if current.isValid() else (0, 0)
        self.model.set_fits(variants, quants, fits if fits else ())
        self.status.setText("")
        model = self.model
        if not (fits and model.rowCount() and model.columnCount()):
            self.current_changed.emit(QModelIndex())
            return
        row = min(where[0], model.rowCount() - 1)
        column = min(where[1], model.columnCount() - 1)
        if model.fit(row, column) is None:
            # Land on a cell with an answer: the row's first published quantization.
            column = next(
                (c for c in range(model.columnCount()) if model.fit(row, c) is not None), column
            )
        target = model.index(row, column)
        if target == self.view.currentIndex():
            # The grid kept its shape (dataChanged, no reset), so Qt sends no currentChanged:
            # say that the current cell's fit changed ourselves.
            self.current_changed.emit(target)
        else:
            self.view.setCurrentIndex(target)

    def select(self, variant_id: str, quant: str) -> bool:
        """Make ``variant_id`` x ``quant`` the current cell; False when the grid lacks it."""
        target = self.model.find(variant_id, quant)
        if not target.isValid() or self.model.fit(target.row(), target.column()) is None:
            return False
        if target == self.view.currentIndex():
            self.current_changed.emit(target)
        else:
            self.view.setCurrentIndex(target)
        self.view.scrollTo(target)
        return True

    def mark_updating(self, words: str) -> None:
        """Another machine's answers are on their way: hide the old cells, say so."""
        self.model.mark_updating()
        self.status.setText(words)

    def selected_fit(self) -> Fit | None:
        """The fit of the current cell."""
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        return self.model.fit(index.row(), index.column())

    def needed_width(self) -> int:
        """The width that shows every column."""
        view = self.view
        header = view.horizontalHeader()
        return (
            view.verticalHeader().sizeHint().width()
            + sum(header.sectionSize(c) for c in range(header.count()))
            + view.verticalScrollBar().sizeHint().width()
            + 2 * view.frameWidth()
            + 4
        )

    def _on_model_reset(self) -> None:
        columns = range(self.model.columnCount())
        fit_columns(self.view, columns, also=BADGES, sample_rows=0)
        if columns:
            self.filled.emit()

    def _on_view_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and self.model.fit(current.row(), current.column()) is None:
            return  # an empty cell (a click on "—"): the details keep the last answer
        self.current_changed.emit(current)


def give_grid_room(splitter: QSplitter, grid: GridPanel, others_min_px: int) -> bool:
    """Widen the grid's side of ``splitter`` to show every column, once, when first filled.

    The other side wraps its text, so it gives way, down to ``others_min_px``. False while the
    splitter has no size yet (the window is not laid out).
    """
    sizes = splitter.sizes()
    total = sum(sizes)
    if total <= 0:
        return False
    width = min(grid.needed_width(), total - others_min_px)
    if width > sizes[0]:
        splitter.setSizes([width, total - width])
    return True
