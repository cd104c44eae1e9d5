"""Machine ▸ Your own machine…: the form, its one clear message, QSettings, the grid."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from llmcheck.gui.custom_machine import CustomMachineDialog, load_spec, save_spec
from llmcheck.gui.main_window import MainWindow
from llmcheck.machines import CUSTOM_ID, GIB, CustomMachineSpec
from tests.helpers import recorded_machine as load_snapshot


def test_a_wrong_value_gets_one_message_and_the_form_stays(qtbot) -> None:
    dialog = CustomMachineDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.ram_spin.setValue(0)
    dialog.accept()
    assert dialog.isVisible()
    assert dialog.machine is None
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == "RAM must be between 1 and 4,096 GiB."


def test_apple_means_one_pool(qtbot) -> None:
    dialog = CustomMachineDialog()
    qtbot.addWidget(dialog)
    dialog.vendor_combo.setCurrentIndex(dialog.vendor_combo.findData("apple"))
    assert dialog.unified_check.isChecked()
    assert not dialog.vram_spin.isEnabled()
    dialog.ram_spin.setValue(36)
    dialog.bandwidth_spin.setValue(300)
    dialog.accept()
    assert dialog.machine is not None
    assert (dialog.machine.kind, dialog.machine.device_memory_bytes) == ("unified", 36 * GIB)


def test_settings_keep_the_machine_and_garbage_gives_none(settings: QSettings) -> None:
    assert load_spec(settings) is None
    spec = CustomMachineSpec(
        name="Lab box",
        vendor="amd",
        gpu_memory_gib=16,
        ram_gib=64,
        bandwidth_gb_s=640,
        ram_bandwidth_gb_s=83.2,
    )
    save_spec(settings, spec)
    assert load_spec(settings) == spec
    settings.setValue("custom_machine/ram_gib", "lots")
    assert load_spec(settings) == CustomMachineSpec(
        name="Lab box", vendor="amd", gpu_memory_gib=16, bandwidth_gb_s=640, ram_bandwidth_gb_s=83.2
    )  # the default RAM
    settings.setValue("custom_machine/vendor", "3dfx")
    assert load_spec(settings) is None


def test_the_window_shows_your_machine_and_lists_it_again_next_time(
    make_window, qtbot, settings: QSettings
) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    dialog = window.edit_custom_machine()
    dialog.name_edit.setText("My RTX 3070")
    dialog.vram_spin.setValue(8)
    dialog.ram_spin.setValue(16)
    dialog.bandwidth_spin.setValue(448)
    with qtbot.waitSignal(window.grid_updated, timeout=20_000):
        dialog.accept()
    assert window.current_machine_key() == CUSTOM_ID
    assert window.machine_combo.currentText() == "Your machine: My RTX 3070"
    shown = window.current_snapshot()
    assert shown is not None
    (gpu,) = shown.gpus
    assert (gpu.total_bytes, gpu.bandwidth_gb_s) == (8 * GIB, 448)
    fits = window.current_fits()
    assert fits
    # The laptop has no GPU; the machine entered has one, and the models go on it.
    assert any(d.device.startswith("gpu") for f in fits for d in f.devices)
    window.close()
    again = MainWindow(
        probe=lambda: load_snapshot("cpu-laptop"), settings=settings, start_probe=False
    )
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.probe_finished, timeout=20_000):
        again.start_probe()
    assert again.machine_combo.findData(CUSTOM_ID) > 0
    assert again.current_machine_key() == "this"  # listed, not forced on the user
