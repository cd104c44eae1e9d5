"""The grid: every variant (rows) by quantization (columns), a verdict badge in each cell."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from llmcheck.gui.models import FitGridModel
from llmcheck.gui.widgets import VERDICT_STYLES, BadgeDelegate

if TYPE_CHECKING:
    from llmcheck.catalog import ModelVariant
    from llmcheck.estimate import Fit

# Every badge a verdict cell can show: columns are wide enough for any of them.
BADGES = tuple(style.badge for style in VERDICT_STYLES.values())
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
        )
        self.legend_label = QLabel(legend)
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setAccessibleName("Legend of the verdicts")
        self.status = QLabel("")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setAccessibleName("Grid status")
        legend_row = QHBoxLayout()
        legend_row.addWidget(self.legend_label)
        legend_row.addStretch(1)
        legend_row.addWidget(self.status)
        layout.addLayout(legend_row)
        self.model = FitGridModel()
        self.view = QTableView()
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
