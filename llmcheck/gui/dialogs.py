"""Dialogs: the file chooser behind an ask() seam, and the About box."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from llmcheck import __version__ as llmcheck_version

if TYPE_CHECKING:
    from llmcheck.session import Session


class SaveFileDialog:
    """Where to save an export. Tests monkeypatch :meth:`ask` to answer without a dialog."""

    @classmethod
    def ask(
        cls, parent: QWidget | None, title: str, suggested_name: str, name_filter: str
    ) -> Path | None:
        """Ask the user for a file to write; None when they cancel."""
        path, _chosen_filter = QFileDialog.getSaveFileName(
            parent, title, str(Path.home() / suggested_name), name_filter
        )
        return Path(path) if path else None


def about_notes(session: Session) -> tuple[str, ...]:
    """What the About box says about the catalog: how many models and quantizations it knows."""
    try:
        catalog = session.catalog()
    except (OSError, ValueError) as exc:
        return (f"The model catalog could not be read: {exc}",)
    return (
        f"{len(catalog.variants)} LFM2 / LFM2.5 models and {len(catalog.quants)} quantizations",
    )


# Where the numbers come from, for a user (the data files' own notes, with their sources, are
# in the repository's docs/).
DATA_SOURCES = (
    "Model sizes and settings: Liquid AI's published GGUF files on Hugging Face and their"
    " model cards.",
    "Memory needed: llama.cpp's own rules for weights, KV cache and buffers, checked against"
    " llama.cpp's logs.",
    "This machine: read from its drivers and operating system (nothing is sent anywhere).",
    "What-if machines: the makers' published memory sizes and bandwidths.",
    "Speeds: estimated from memory bandwidth and checked against llama.cpp measurements.",
)


def about_text(catalog_notes: tuple[str, ...]) -> str:
    """The About box's rich text: what llmcheck is, its version and license, and where its
    data comes from."""
    sources = "".join(f"<li>{_escape(note)}</li>" for note in (*DATA_SOURCES, *catalog_notes))
    return (
        f"<h2>llmcheck {_escape(llmcheck_version)}</h2>"
        "<p>Which Liquid AI LFM2 / LFM2.5 models run on this computer with llama.cpp: at which"
        " GGUF quantization and context length, and about how fast.</p>"
        "<p>The answers are estimates, not measurements: llama.cpp's own log has the final"
        " word.</p>"
        "<p>Free software under the MIT License.</p>"
        f"<p><b>Where the numbers come from</b></p><ul>{sources}</ul>"
        f"<p><small>Qt {qVersion()} &middot; PySide6 {pyside_version} &middot; "
        f"Python {sys.version.split()[0]}</small></p>"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class AboutDialog(QDialog):
    """Versions of llmcheck, Qt and PySide6, and the catalog's source notes."""

    def __init__(self, catalog_notes: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About llmcheck")
        self.text = QLabel(about_text(catalog_notes))
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.text.setOpenExternalLinks(True)
        self.text.setAccessibleName("About llmcheck")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)
