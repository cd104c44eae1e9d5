"""Choose a what-if machine (issue #11): the catalog grouped by maker, a filter field, and the
host's RAM adjustable for a discrete card.

Groups and search are :func:`llmcheck.machines.grouped_machines`; a RAM other than the
catalog's makes a new machine (:func:`llmcheck.machines.with_host_ram`) with its own id.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from llmcheck.machines import (
    GIB,
    MAX_CUSTOM_MEMORY_GIB,
    CatalogMachine,
    grouped_machines,
    with_host_ram,
)
from llmcheck.units import clean_text, format_bandwidth, format_bytes

_ROLE = Qt.ItemDataRole.UserRole


class MachinePickerDialog(QDialog):
    """The catalog as a grouped, filtered tree; ``chosen`` is set when it is accepted."""

    refiltered = Signal()

    def __init__(self, machines: Sequence[CatalogMachine], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a machine")
        self.resize(620, 560)
        self._machines = tuple(machines)
        self.chosen: CatalogMachine | None = None
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: e.g. 4090, M3, 24 GiB, Apple")
        self.filter_edit.setAccessibleName("Filter the machines")
        self.filter_edit.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Machine", "Memory", "Bandwidth"])
        self.tree.setAccessibleName("What-if machines by maker")
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.ram_spin = QDoubleSpinBox()
        self.ram_spin.setRange(1.0, MAX_CUSTOM_MEMORY_GIB)
        self.ram_spin.setDecimals(0)
        self.ram_spin.setSuffix(" GiB")
        self.ram_spin.setAccessibleName("Host RAM next to the card")
        self.ram_label = QLabel("Host &RAM next to the card:")
        self.ram_label.setBuddy(self.ram_spin)
        ram_row = QHBoxLayout()
        ram_row.addWidget(self.ram_label)
        ram_row.addWidget(self.ram_spin)
        ram_row.addStretch(1)
        self.error_label = QLabel("")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree, 1)
        layout.addLayout(ram_row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.filter_edit.textChanged.connect(self.refilter)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        self.tree.itemDoubleClicked.connect(lambda *_: self.accept())
        self.refilter("")

    def refilter(self, query: str) -> None:
        """Show the groups and machines that match ``query``."""
        self.tree.clear()
        for group, members in grouped_machines(self._machines, query):
            head = QTreeWidgetItem([f"{group} ({len(members)})"])
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(head)
            for machine in members:
                item = QTreeWidgetItem(
                    [
                        clean_text(machine.name),
                        format_bytes(machine.device_memory_bytes)
                        + (" unified" if machine.kind == "unified" else ""),
                        format_bandwidth(machine.bandwidth_gb_s),
                    ]
                )
                item.setData(0, _ROLE, machine.id)
                item.setToolTip(0, clean_text(machine.source_note, limit=300))
                head.addChild(item)
            head.setExpanded(True)
        self._on_current_changed(None)
        self.refiltered.emit()

    def _items(self) -> list[QTreeWidgetItem]:
        items: list[QTreeWidgetItem] = []
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            if head is not None:
                items.extend(c for j in range(head.childCount()) if (c := head.child(j)))
        return items

    def visible_ids(self) -> tuple[str, ...]:
        """The ids listed now (for tests and the keyboard)."""
        return tuple(str(item.data(0, _ROLE)) for item in self._items())

    def groups(self) -> tuple[str, ...]:
        """The group headings listed now."""
        heads = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return tuple(h.text(0).rsplit(" (", 1)[0] for h in heads if h is not None)

    def select(self, machine_id: str) -> None:
        """Make ``machine_id`` the current item (it must be listed)."""
        for item in self._items():
            if item.data(0, _ROLE) == machine_id:
                self.tree.setCurrentItem(item)
                return
        raise KeyError(machine_id)

    def _current(self) -> CatalogMachine | None:
        item = self.tree.currentItem()
        ident = item.data(0, _ROLE) if item is not None else None
        return next((m for m in self._machines if m.id == ident), None)

    def _on_current_changed(self, *_args: object) -> None:
        machine = self._current()
        card = machine is not None and machine.kind == "gpu"
        self.ram_spin.setEnabled(card)
        self.ram_label.setEnabled(card)
        if card and machine is not None:
            self.ram_spin.setValue(machine.host_ram_bytes / GIB)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(machine is not None)

    def accept(self) -> None:
        """Take the current machine, in a host with the RAM chosen."""
        machine = self._current()
        if machine is None:
            return
        if machine.kind == "gpu" and int(self.ram_spin.value() * GIB) != machine.host_ram_bytes:
            try:
                machine = with_host_ram(machine, self.ram_spin.value())
            except ValueError as exc:
                self.error_label.setText(str(exc))
                self.error_label.show()
                return
        self.chosen = machine
        super().accept()
