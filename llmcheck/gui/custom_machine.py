"""Your own machine (issue #11): GPU maker and name, VRAM, RAM, bandwidths, unified memory.

The form makes a :class:`~llmcheck.machines.CustomMachineSpec`; :func:`llmcheck.machines.
custom_machine` checks it (one sentence for the first wrong value, shown under the form) and
turns it into a machine the window shows like a catalogued one. QSettings keeps the form for
the next start (``custom_machine/...`` keys; garbage gives the defaults).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from llmcheck.machines import (
    MAX_CUSTOM_BANDWIDTH_GB_S,
    MAX_CUSTOM_MEMORY_GIB,
    CatalogMachine,
    CustomMachineSpec,
    custom_machine,
)

VENDORS = (
    ("nvidia", "NVIDIA"),
    ("amd", "AMD"),
    ("intel", "Intel"),
    ("apple", "Apple"),
    ("cpu", "No GPU (CPU only)"),
)
_KEY = "custom_machine/"
_FIELDS = ("gpu_memory_gib", "ram_gib", "bandwidth_gb_s", "ram_bandwidth_gb_s")


def load_spec(settings: QSettings) -> CustomMachineSpec | None:
    """The saved custom machine, or None when none was saved (or it was garbage)."""
    if settings.value(_KEY + "vendor") is None:
        return None
    default = CustomMachineSpec()
    numbers: dict[str, float] = {}
    for field in _FIELDS:
        try:
            numbers[field] = float(str(settings.value(_KEY + field, getattr(default, field))))
        except ValueError:
            numbers[field] = getattr(default, field)
    spec = CustomMachineSpec(
        name=str(settings.value(_KEY + "name", "")),
        vendor=str(settings.value(_KEY + "vendor", default.vendor)),
        unified=str(settings.value(_KEY + "unified", "false")).lower() == "true",
        **numbers,
    )
    try:
        custom_machine(spec)
    except ValueError:
        return None
    return spec


def save_spec(settings: QSettings, spec: CustomMachineSpec) -> None:
    """Keep the custom machine for the next start."""
    settings.setValue(_KEY + "name", spec.name)
    settings.setValue(_KEY + "vendor", spec.vendor)
    settings.setValue(_KEY + "unified", "true" if spec.unified else "false")
    for field in _FIELDS:
        settings.setValue(_KEY + field, f"{getattr(spec, field):g}")


class CustomMachineDialog(QDialog):
    """The form for the user's own machine; ``machine`` is set when it is accepted."""

    def __init__(
        self, spec: CustomMachineSpec | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Your own machine")
        self.machine: CatalogMachine | None = None
        self.spec: CustomMachineSpec | None = None
        spec = spec or CustomMachineSpec()
        form = QFormLayout()
        self.name_edit = QLineEdit(spec.name)
        self.name_edit.setPlaceholderText("e.g. RTX 3070 laptop (optional)")
        self.name_edit.setMaxLength(80)
        self.vendor_combo = QComboBox()
        for value, text in VENDORS:
            self.vendor_combo.addItem(text, value)
        self.vendor_combo.setCurrentIndex(max(0, self.vendor_combo.findData(spec.vendor)))
        self.unified_check = QCheckBox("One memory pool shared by CPU and GPU (unified)")
        self.unified_check.setChecked(spec.unified)
        self.vram_spin = _spin(spec.gpu_memory_gib, " GiB", MAX_CUSTOM_MEMORY_GIB)
        self.ram_spin = _spin(spec.ram_gib, " GiB", MAX_CUSTOM_MEMORY_GIB)
        self.bandwidth_spin = _spin(spec.bandwidth_gb_s, " GB/s", MAX_CUSTOM_BANDWIDTH_GB_S)
        self.ram_bandwidth_spin = _spin(spec.ram_bandwidth_gb_s, " GB/s", MAX_CUSTOM_BANDWIDTH_GB_S)
        form.addRow("&Name:", self.name_edit)
        form.addRow("GPU &maker:", self.vendor_combo)
        form.addRow("", self.unified_check)
        form.addRow("GPU memory (&VRAM):", self.vram_spin)
        form.addRow("&RAM (the pool, when unified):", self.ram_spin)
        form.addRow("GPU &bandwidth (the pool's, or RAM's without a GPU):", self.bandwidth_spin)
        form.addRow("RAM b&andwidth (next to a GPU):", self.ram_bandwidth_spin)
        self.error_label = QLabel("")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setAccessibleName("What is wrong with the machine entered")
        self.error_label.hide()
        hint = QLabel(
            "Memory in GiB: a card sold as “8 GB” has 8 GiB. Bandwidth in GB/s as the"
            " maker states it."
        )
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.vendor_combo.currentIndexChanged.connect(self._sync)
        self.unified_check.toggled.connect(self._sync)
        self._sync()

    def current_spec(self) -> CustomMachineSpec:
        """What the form says now."""
        return CustomMachineSpec(
            name=self.name_edit.text(),
            vendor=str(self.vendor_combo.currentData()),
            gpu_memory_gib=self.vram_spin.value(),
            ram_gib=self.ram_spin.value(),
            bandwidth_gb_s=self.bandwidth_spin.value(),
            ram_bandwidth_gb_s=self.ram_bandwidth_spin.value(),
            unified=self.unified_check.isChecked(),
        )

    def accept(self) -> None:
        """Check the form: one clear message under it, or the machine and close."""
        spec = self.current_spec()
        try:
            machine = custom_machine(spec)
        except ValueError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return
        self.spec, self.machine = spec, machine
        super().accept()

    def _sync(self, *_args: object) -> None:
        vendor = str(self.vendor_combo.currentData())
        apple, cpu = vendor == "apple", vendor == "cpu"
        if apple:
            self.unified_check.setChecked(True)
        self.unified_check.setEnabled(not apple and not cpu)
        separate = not cpu and not self.unified_check.isChecked()
        self.vram_spin.setEnabled(separate)
        self.ram_bandwidth_spin.setEnabled(separate)


def _spin(value: float, suffix: str, high: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    # The range is wider than what custom_machine accepts, so a wrong value reaches its check
    # and gets its sentence rather than being clamped silently.
    spin.setRange(0.0, high * 10)
    spin.setDecimals(1)
    spin.setSuffix(suffix)
    spin.setValue(value)
    return spin
