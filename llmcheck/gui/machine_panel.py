"""The machine panel: which machine (this one or a what-if one), its devices and its problems."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from llmcheck.gui.models import DeviceTableModel
from llmcheck.machines import CatalogMachine
from llmcheck.render.sentences import DeviceRow
from llmcheck.session import THIS_MACHINE
from llmcheck.units import clean_text

# A GPU server lists eight devices: past about four rows the table scrolls, so the machine panel
# never takes the grid's room on a small screen.
_MAX_DEVICE_TABLE_ROWS = 4


class MachinePanel(QGroupBox):
    """The machine chooser, a one-line summary, the device table and the probe's problems.

    Every text here came from the machine or a file: labels are plain text.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        # No title: "Show:" and the table say what it is, and a small screen needs the line.
        super().__init__("", parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(4)
        chooser = QHBoxLayout()
        self.combo = QComboBox()
        self.combo.setAccessibleName("Machine")
        self.combo.setToolTip(
            "This machine, or a catalogued GPU / unified-memory device to see what it would run"
        )
        self.combo.addItem("This machine", THIS_MACHINE)
        self.combo.setMinimumContentsLength(24)
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        label = QLabel("&Show:")
        label.setBuddy(self.combo)
        self.summary = QLabel("")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        chooser.addWidget(label)
        chooser.addWidget(self.combo, 3)
        chooser.addWidget(self.summary, 2)
        layout.addLayout(chooser)
        self.device_model = DeviceTableModel()
        self.device_view = QTableView()
        self.device_view.setModel(self.device_model)
        self.device_view.setAccessibleName("Devices of the machine")
        self.device_view.verticalHeader().setVisible(False)
        self.device_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.device_view.setAlternatingRowColors(True)
        header = self.device_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.device_view.setWordWrap(False)
        # Tab moves on to the next control: arrow keys move within the table.
        self.device_view.setTabKeyNavigation(False)
        layout.addWidget(self.device_view)
        self.fit_device_view()
        self.problems_label = QLabel("")
        self.problems_label.setTextFormat(Qt.TextFormat.PlainText)
        self.problems_label.setWordWrap(True)
        self.problems_label.setAccessibleName("Problems met by the probe")
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems_label.hide()
        layout.addWidget(self.problems_label)
        # Notes that need nothing from the user ("no NVIDIA library" where there is no NVIDIA
        # GPU): one quiet line, not a problem.
        self.info_label = QLabel("")
        self.info_label.setTextFormat(Qt.TextFormat.PlainText)
        self.info_label.setWordWrap(True)
        self.info_label.setAccessibleName("Notes about this machine")
        self.info_label.setEnabled(False)  # drawn in the palette's quieter text colour
        self.info_label.hide()
        layout.addWidget(self.info_label)

    def add_machines(self, machines: Sequence[CatalogMachine]) -> None:
        """List the what-if machines after "This machine" (once), without a change signal."""
        if self.combo.count() > 1:
            return
        self.combo.blockSignals(True)
        for machine in machines:
            self.combo.addItem(f"What if: {clean_text(machine.name)}", machine.id)
        self.combo.blockSignals(False)

    def machine_key(self) -> str:
        """ "this", or the id of the catalogued machine chosen."""
        return str(self.combo.currentData())

    def show_machine(
        self,
        rows: Sequence[DeviceRow],
        summary: str,
        problems: Sequence[str],
        notes: Sequence[str] = (),
    ) -> None:
        """Show a machine's devices, its summary line, its problems and its calm notes (all
        already in words)."""
        self.device_model.set_rows(rows)
        self.fit_device_view()
        self.summary.setText(summary)
        if problems:
            self.problems_label.setText(
                "Problems met while reading this machine:\n"
                + "\n".join(f"• {line}" for line in problems)
            )
            self.problems_label.show()
        else:
            self.problems_label.hide()
        self.info_label.setText("Note: " + " ".join(notes) if notes else "")
        self.info_label.setVisible(bool(notes))

    def clear(self) -> None:
        """No machine yet."""
        self.device_model.set_rows(())

    def fit_device_view(self) -> None:
        """As tall as its rows, up to four (a GPU server may list eight: then it scrolls)."""
        view = self.device_view
        view.resizeRowsToContents()
        heights = [view.rowHeight(r) for r in range(self.device_model.rowCount())]
        rows = sum(heights[:_MAX_DEVICE_TABLE_ROWS])
        if len(heights) > _MAX_DEVICE_TABLE_ROWS:
            rows += view.horizontalScrollBar().sizeHint().height() // 2
        height = view.horizontalHeader().height() + rows + 2 * view.frameWidth() + 2
        view.setFixedHeight(height)
