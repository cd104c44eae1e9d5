"""The settings row: context, KV cache type, flash attention, device; kept in QSettings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QWidget

from llmcheck.gui.widgets import ContextControl
from llmcheck.render.units import clean_text

if TYPE_CHECKING:
    from llmcheck.estimate import RunConfig
    from llmcheck.snapshot import SystemSnapshot

KV_TYPES = (("f16", "F16"), ("q8_0", "Q8_0"), ("q4_0", "Q4_0"))
DEFAULT_CONTEXT_TOKENS = 4096


class SettingsPanel(QWidget):
    """The controls that make a :class:`~llmcheck.estimate.RunConfig`.

    ``changed`` says the settings moved (not emitted while the device list is refilled).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context_control = ContextControl()
        self.kv_combo = QComboBox()
        self.kv_combo.setAccessibleName("KV cache type")
        self.kv_combo.setToolTip("llama.cpp --cache-type-k / --cache-type-v")
        for value, text in KV_TYPES:
            self.kv_combo.addItem(text, value)
        kv_label = QLabel("&KV cache:")
        kv_label.setBuddy(self.kv_combo)
        self.fa_check = QCheckBox("&Flash attention")
        self.fa_check.setChecked(True)
        self.fa_check.setAccessibleName("Flash attention")
        self.fa_check.setToolTip("llama.cpp --flash-attn")
        self.device_combo = QComboBox()
        self.device_combo.setAccessibleName("Device")
        self.device_combo.addItem("Auto", "auto")
        self.device_combo.setMinimumContentsLength(8)
        self.device_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        device_label = QLabel("&Device:")
        device_label.setBuddy(self.device_combo)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.context_control, 3)
        row.addSpacing(6)
        row.addWidget(kv_label)
        row.addWidget(self.kv_combo)
        row.addSpacing(6)
        row.addWidget(self.fa_check)
        row.addSpacing(6)
        row.addWidget(device_label)
        row.addWidget(self.device_combo)
        self.context_control.context_changed.connect(self._on_control_changed)
        self.kv_combo.currentIndexChanged.connect(self._on_kv_combo_changed)
        self.fa_check.toggled.connect(self._on_control_changed)
        self.device_combo.currentIndexChanged.connect(self._on_control_changed)

    def run_config(self) -> RunConfig:
        """The settings chosen in the controls."""
        from llmcheck.estimate import KvType, RunConfig

        return RunConfig(
            context_tokens=self.context_control.context_tokens(),
            kv_type=KvType(self.kv_combo.currentData()),
            flash_attn=self.fa_check.isChecked(),
            device=str(self.device_combo.currentData() or "auto"),
        )

    def fill_devices(self, snapshot: SystemSnapshot) -> None:
        """Offer Auto, CPU only and each GPU of ``snapshot``; keep the choice where it exists."""
        wanted = self.device_combo.currentData() or "auto"
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        self.device_combo.addItem("Auto", "auto")
        self.device_combo.addItem("CPU only", "cpu")
        for gpu in snapshot.gpus:
            name = clean_text(gpu.name) if gpu.name else "unnamed"
            self.device_combo.addItem(f"GPU {gpu.index}: {name}", f"gpu:{gpu.index}")
        found = self.device_combo.findData(wanted)
        self.device_combo.setCurrentIndex(max(0, found))
        self.device_combo.blockSignals(False)

    def restore(self, settings: QSettings) -> None:
        """Take the saved context, KV type and flash attention; garbage gives the defaults."""
        self.context_control.set_context(
            _int_setting(settings.value("context_tokens"), DEFAULT_CONTEXT_TOKENS)
        )
        kv_index = self.kv_combo.findData(str(settings.value("kv_type", "f16")))
        self.kv_combo.setCurrentIndex(max(0, kv_index))
        self.fa_check.setChecked(str(settings.value("flash_attn", "true")).lower() == "true")
        self.sync_flash_attention()

    def save(self, settings: QSettings) -> None:
        """Keep the context, KV type and flash attention for the next start."""
        settings.setValue("context_tokens", self.context_control.context_tokens())
        settings.setValue("kv_type", str(self.kv_combo.currentData()))
        settings.setValue("flash_attn", "true" if self.fa_check.isChecked() else "false")

    def sync_flash_attention(self) -> None:
        """Whether this KV type works without flash attention is RunConfig's rule: ask it."""
        from llmcheck.estimate import KvType, RunConfig

        try:
            RunConfig(kv_type=KvType(self.kv_combo.currentData()), flash_attn=False)
        except ValueError as exc:
            self.fa_check.blockSignals(True)
            self.fa_check.setChecked(True)
            self.fa_check.blockSignals(False)
            self.fa_check.setEnabled(False)
            self.fa_check.setToolTip(f"Needed: {exc}")
        else:
            self.fa_check.setEnabled(True)
            self.fa_check.setToolTip("llama.cpp --flash-attn")

    def _on_control_changed(self, *_args: object) -> None:
        self.changed.emit()

    def _on_kv_combo_changed(self, _index: int) -> None:
        self.sync_flash_attention()
        self.changed.emit()


def _int_setting(value: object, default: int) -> int:
    """A QSettings value as a positive int (an INI file gives str, a registry int), else default."""
    if isinstance(value, int | str):
        try:
            number = int(value)
        except ValueError:  # not a number, or more digits than int() takes
            return default
        return number if number > 0 else default
    return default
