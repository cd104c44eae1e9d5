"""Machine ▸ Choose a machine… and Machine ▸ Your own machine…: the dialogs' answers become
machines of the session, listed in the window's machine chooser and shown at once. The user's
own machine is kept in QSettings and listed again at the next start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog

from llmcheck.gui.custom_machine import CustomMachineDialog, load_spec, save_spec
from llmcheck.gui.machine_picker import MachinePickerDialog
from llmcheck.machines import CUSTOM_ID, CatalogMachine, custom_machine
from llmcheck.units import clean_text

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

    from llmcheck.gui.main_window import MainWindow


def machine_label(machine: CatalogMachine) -> str:
    """How the machine chooser names a machine."""
    if machine.id == CUSTOM_ID:
        return f"Your machine: {clean_text(machine.name)}"
    return f"What if: {clean_text(machine.name)}"


def use_machine(window: MainWindow, machine: CatalogMachine, *, show: bool = True) -> None:
    """Make ``machine`` one of the window's machines (replacing one of the same id) and, with
    ``show``, show it."""
    session = window.session
    combo = window.machine_combo
    if combo.count() <= 1:  # before the probe listed the catalog: list it now
        window.machine_panel.add_machines(session.machines())
    session.put_machine(machine)
    index = combo.findData(machine.id)
    if index < 0:
        combo.addItem(machine_label(machine), machine.id)
        index = combo.count() - 1
    else:
        combo.setItemText(index, machine_label(machine))
    if not show:
        return
    if combo.currentIndex() == index:
        window._show_machine()  # same id, new numbers
    else:
        combo.setCurrentIndex(index)


def choose_machine(window: MainWindow) -> MachinePickerDialog:
    """Open the grouped, searchable catalog; the machine chosen is shown."""
    machines = tuple(m for m in window.session.machines() if m.id != CUSTOM_ID and "@" not in m.id)
    dialog = MachinePickerDialog(machines, window)

    def done(result: int) -> None:
        if result == QDialog.DialogCode.Accepted and dialog.chosen is not None:
            use_machine(window, dialog.chosen)

    dialog.finished.connect(done)
    dialog.open()
    return dialog


def edit_custom_machine(window: MainWindow, settings: QSettings) -> CustomMachineDialog:
    """Open the form for the user's own machine; accepted, it is saved and shown."""
    dialog = CustomMachineDialog(load_spec(settings), window)

    def done(result: int) -> None:
        if result == QDialog.DialogCode.Accepted and dialog.machine and dialog.spec:
            save_spec(settings, dialog.spec)
            use_machine(window, dialog.machine)

    dialog.finished.connect(done)
    dialog.open()
    return dialog


def restore_custom_machine(window: MainWindow, settings: QSettings) -> bool:
    """List the saved custom machine (not shown); False when none was saved."""
    spec = load_spec(settings)
    if spec is None:
        return False
    use_machine(window, custom_machine(spec), show=False)
    return True
