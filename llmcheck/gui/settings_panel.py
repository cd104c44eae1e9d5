"""The settings row: context, KV cache type, flash attention, device, the runtime and the speed
"runs great" needs; kept in QSettings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from llmcheck.gui.widgets import ContextControl
from llmcheck.units import clean_text

if TYPE_CHECKING:
    from llmcheck.estimate import RunConfig
    from llmcheck.estimate.runtime import Runtime
    from llmcheck.snapshot import SystemSnapshot

KV_TYPES = (("f16", "F16"), ("q8_0", "Q8_0"), ("q4_0", "Q4_0"))
DEFAULT_CONTEXT_TOKENS = 4096
# llmcheck.estimate.runtime.Runtime values and their names in the window.
RUNTIMES = (
    ("llama-server", "llama-server"),
    ("llama-cpp-python", "llama-cpp-python"),
    ("ollama", "Ollama"),
    ("lm-studio", "LM Studio"),
)
DEFAULT_MIN_SPEED = 10.0  # RunConfig's DEFAULT_MIN_DECODE_TOKENS_PER_SECOND
MAX_MIN_SPEED = 1000.0


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
        self.runtime_combo = QComboBox()
        self.runtime_combo.setAccessibleName("Runtime")
        self.runtime_combo.setToolTip(
            "The program that runs the model: the memory is estimated as it runs it, and the"
            " command shown is its command"
        )
        for value, text in RUNTIMES:
            self.runtime_combo.addItem(text, value)
        runtime_label = QLabel("&Runtime:")
        runtime_label.setBuddy(self.runtime_combo)
        self.min_speed_spin = QDoubleSpinBox()
        self.min_speed_spin.setAccessibleName("Runs great needs at least this speed")
        self.min_speed_spin.setRange(0.0, MAX_MIN_SPEED)
        self.min_speed_spin.setDecimals(0)
        self.min_speed_spin.setSuffix(" tok/s")
        self.min_speed_spin.setValue(DEFAULT_MIN_SPEED)
        self.min_speed_spin.setKeyboardTracking(False)
        self.min_speed_spin.setToolTip(
            "“Runs great” needs at least this generation speed (the low end of the range) at"
            " the chosen context; a slower model that fits says “tight”. 0: memory only."
        )
        speed_label = QLabel("Runs great needs at &least:")
        speed_label.setBuddy(self.min_speed_spin)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(4)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        rows.addLayout(row)
        row.addWidget(self.context_control, 3)
        row.addSpacing(6)
        row.addWidget(kv_label)
        row.addWidget(self.kv_combo)
        row.addSpacing(6)
        row.addWidget(self.fa_check)
        row.addSpacing(6)
        row.addWidget(device_label)
        row.addWidget(self.device_combo)
        # The runtime and the speed threshold on a second, short row: the first stays as narrow
        # as it was (small screens).
        second = QHBoxLayout()
        second.setContentsMargins(0, 0, 0, 0)
        second.addWidget(runtime_label)
        second.addWidget(self.runtime_combo)
        second.addSpacing(12)
        second.addWidget(speed_label)
        second.addWidget(self.min_speed_spin)
        second.addStretch(1)
        rows.addLayout(second)
        self.context_control.context_changed.connect(self._on_control_changed)
        self.kv_combo.currentIndexChanged.connect(self._on_kv_combo_changed)
        self.fa_check.toggled.connect(self._on_control_changed)
        self.device_combo.currentIndexChanged.connect(self._on_control_changed)
        self.runtime_combo.currentIndexChanged.connect(self._on_control_changed)
        self.min_speed_spin.valueChanged.connect(self._on_control_changed)

    def run_config(self) -> RunConfig:
        """The settings chosen in the controls, as the chosen runtime runs them."""
        from llmcheck.estimate import KvType, RunConfig
        from llmcheck.estimate.runtime import runtime_config

        return runtime_config(
            RunConfig(
                context_tokens=self.context_control.context_tokens(),
                kv_type=KvType(self.kv_combo.currentData()),
                flash_attn=self.fa_check.isChecked(),
                device=str(self.device_combo.currentData() or "auto"),
                min_decode_tokens_per_second=float(self.min_speed_spin.value()),
            ),
            self.runtime(),
        )

    def runtime(self) -> Runtime:
        """The runtime chosen (llama-server unless another is)."""
        from llmcheck.estimate.runtime import Runtime

        return Runtime(str(self.runtime_combo.currentData() or "llama-server"))

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
        runtime_index = self.runtime_combo.findData(str(settings.value("runtime", "llama-server")))
        self.runtime_combo.setCurrentIndex(max(0, runtime_index))
        self.min_speed_spin.setValue(
            _float_setting(settings.value("min_speed_tok_s"), DEFAULT_MIN_SPEED, MAX_MIN_SPEED)
        )
        self.sync_flash_attention()

    def save(self, settings: QSettings) -> None:
        """Keep the context, KV type and flash attention for the next start."""
        settings.setValue("context_tokens", self.context_control.context_tokens())
        settings.setValue("kv_type", str(self.kv_combo.currentData()))
        settings.setValue("flash_attn", "true" if self.fa_check.isChecked() else "false")
        settings.setValue("runtime", str(self.runtime_combo.currentData()))
        settings.setValue("min_speed_tok_s", f"{self.min_speed_spin.value():g}")

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


def _float_setting(value: object, default: float, high: float) -> float:
    """A QSettings value as a number in 0..high, else default (garbage, nan, inf)."""
    if isinstance(value, int | float | str):
        try:
            number = float(value)
        except ValueError:
            return default
        return number if 0 <= number <= high else default  # False for nan
    return default
