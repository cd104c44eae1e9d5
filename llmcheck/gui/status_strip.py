"""The status strip: what the probe is doing, the way to run it again, and faults in one line."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

# A vermillion frame (Okabe-Ito) besides the ⚠ sign, so a fault is seen at a glance.
_ERROR_FRAME = "QFrame#probeStatus { border: 2px solid #D55E00; border-radius: 3px; }"


class StatusStrip(QFrame):
    """A busy indicator, one line of plain text (messages carry paths and exception text), and
    the "Probe again" button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probeStatus")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Probe progress")
        self.label = QLabel("Reading this machine…")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Status")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.probe_button = QPushButton("&Probe again")
        self.probe_button.setAccessibleName("Probe again")
        self.probe_button.setToolTip("Read this machine's memory and GPUs again")
        layout.addWidget(self.progress)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.probe_button)

    def say(self, text: str, *, error: bool = False) -> None:
        """Show one message; a fault gets a ⚠ and a coloured frame."""
        self.label.setText(f"⚠ {text}" if error else text)
        self.mark(error=error)

    def mark(self, *, error: bool) -> None:
        """Frame the strip as a fault, or not."""
        self.setStyleSheet(_ERROR_FRAME if error else "")

    def busy(self, busy: bool) -> None:
        """Show the busy indicator; "Probe again" waits until the work ends."""
        self.progress.setVisible(busy)
        self.probe_button.setEnabled(not busy)
