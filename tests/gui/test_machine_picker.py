"""Machine ▸ Choose a machine…: the catalog grouped by maker, filtered, host RAM per card."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox

from llmcheck.gui.machine_picker import MachinePickerDialog
from llmcheck.machines import GIB, grouped_machines, load_machines, machine_snapshot
from tests.helpers import recorded_machine as load_snapshot


def test_the_catalog_is_grouped_and_the_filter_narrows_it(qtbot) -> None:
    machines = load_machines()
    dialog = MachinePickerDialog(machines)
    qtbot.addWidget(dialog)
    assert dialog.groups() == tuple(g for g, _ in grouped_machines(machines))
    assert {"NVIDIA", "AMD", "Intel", "Apple", "CPU only"} <= set(dialog.groups())
    assert len(dialog.visible_ids()) == len(machines)
    with qtbot.waitSignal(dialog.refiltered):
        qtbot.keyClicks(dialog.filter_edit, "m4")
    assert set(dialog.visible_ids()) == {"apple-m4-16g", "apple-m4-pro-48g", "apple-m4-max-128g"}
    assert dialog.groups() == ("Apple",)
    dialog.filter_edit.setText("nothing like this")
    assert dialog.visible_ids() == ()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # nothing to choose


def test_host_ram_applies_to_a_card_and_not_to_a_mac(qtbot) -> None:
    dialog = MachinePickerDialog(load_machines())
    qtbot.addWidget(dialog)
    dialog.select("apple-m2-16g")
    assert not dialog.ram_spin.isEnabled()
    dialog.select("rtx-4060-8g")
    assert dialog.ram_spin.isEnabled()
    assert dialog.ram_spin.value() == 16
    dialog.ram_spin.setValue(64)
    dialog.accept()
    assert dialog.chosen is not None
    assert dialog.chosen.id == "rtx-4060-8g@ram64"
    assert dialog.chosen.host_ram_bytes == 64 * GIB


def test_the_window_shows_the_machine_chosen(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    dialog = window.choose_machine()
    dialog.select("rtx-4060-8g")
    dialog.ram_spin.setValue(48)
    with qtbot.waitSignal(window.grid_updated, timeout=20_000):
        dialog.accept()
    assert window.current_machine_key() == "rtx-4060-8g@ram48"
    shown = window.current_snapshot()
    assert shown is not None
    assert shown.memory.total_bytes == 48 * GIB
    assert "RTX 4060 8 GiB" in window.machine_combo.currentText()
    card = next(m for m in load_machines() if m.id == "rtx-4060-8g")
    assert shown.gpus == machine_snapshot(card).gpus
