"""Which catalogued machines run the chosen model: one row per what-if machine."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from llmcheck.gui.grid_panel import BADGES, fit_columns
from llmcheck.gui.models import MachineAnswerModel
from llmcheck.gui.widgets import BadgeDelegate
from llmcheck.machines import MachineAnswer

# Rows of the what-if answers whose text sizes its columns (all 1,000 took 1.46 s).
ANSWER_SAMPLE_ROWS = 50


class ReversePanel(QWidget):
    """A title saying what is asked (plain text) and the answers, best verdict first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.title = QLabel("Choose a model in the grid.")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.model = MachineAnswerModel()
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setItemDelegateForColumn(
            MachineAnswerModel.VERDICT_COLUMN, BadgeDelegate(self.view)
        )
        self.view.setAccessibleName("Catalogued machines for the selected model")
        self.view.verticalHeader().setVisible(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        # Not ResizeToContents: with 1,000 what-if machines that asked the model for every cell
        # on the GUI thread at each reset (1.46 s). Sized from a sample instead, rows uniform.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        self.model.modelReset.connect(self._on_model_reset)
        layout.addWidget(self.view, 1)

    def show_answers(self, title: str, answers: Sequence[MachineAnswer]) -> None:
        """Show the answers under their question."""
        self.title.setText(title)
        self.model.set_answers(answers)

    def _on_model_reset(self) -> None:
        columns = range(1, self.model.columnCount())
        fit_columns(self.view, columns, also=BADGES, sample_rows=ANSWER_SAMPLE_ROWS)
