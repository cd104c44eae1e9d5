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
from llmcheck.machines import data_source_notes

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
    """What the About box lists under "Data sources": the catalog's size and each data file's
    own note on where its numbers come from."""
    notes: list[str] = []
    try:
        catalog = session.catalog()
        notes.append(
            f"{len(catalog.variants)} LFM2 / LFM2.5 variants and {len(catalog.quants)}"
            " quantizations in llmcheck's catalog"
        )
    except (OSError, ValueError) as exc:
        notes.append(f"The model catalog could not be read: {exc}")
    notes.extend(data_source_notes())
    return tuple(notes)


def about_text(catalog_notes: tuple[str, ...]) -> str:
    """The About box's rich text: versions and where the data came from."""
    notes = "".join(f"<li>{_escape(note)}</li>" for note in catalog_notes) or "<li>none</li>"
    return (
        f"<h2>llmcheck {llmcheck_version}</h2>"
        "<p>Will a Liquid AI LFM2 / LFM2.5 model run on this machine, at which GGUF "
        "quantization and context, and how fast (llama.cpp)?</p>"
        "<p>Estimates, not measurements: check them against llama.cpp's own log.</p>"
        f"<p>Qt {qVersion()} &middot; PySide6 {pyside_version} &middot; "
        f"Python {sys.version.split()[0]}</p>"
        f"<p><b>Data sources</b></p><ul>{notes}</ul>"
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
