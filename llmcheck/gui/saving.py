"""The window's exports (JSON, Markdown, PNG), each written atomically through llmcheck.atomic.

A failed export leaves the old file as it was; the status line says why and says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from llmcheck.atomic import AtomicWriteError, write_atomic
from llmcheck.gui.dialogs import SaveFileDialog
from llmcheck.gui.export import report_markdown
from llmcheck.units import clean_text

if TYPE_CHECKING:
    from llmcheck.gui.main_window import MainWindow


def export_json(window: MainWindow) -> Path | None:
    """Ask where, then write the report JSON there."""
    path = SaveFileDialog.ask(
        window, "Export report as JSON", "llmcheck-report.json", "JSON (*.json)"
    )
    if path is None:
        return None
    return _write(window, path, lambda: (json.dumps(window.report(), indent=2) + "\n").encode())


def export_markdown(window: MainWindow, *, title: str) -> Path | None:
    """Ask where, then write the report as Markdown there."""
    path = SaveFileDialog.ask(
        window, "Export report as Markdown", "llmcheck-report.md", "Markdown (*.md)"
    )
    if path is None:
        return None
    return _write(window, path, lambda: report_markdown(window.report(), title=title).encode())


def export_png(window: MainWindow) -> Path | None:
    """Ask where, then save a picture of the window there."""
    path = SaveFileDialog.ask(window, "Save window as PNG", "llmcheck.png", "PNG image (*.png)")
    if path is None:
        return None
    image = window.grab()

    def save(temporary: Path) -> None:
        if not image.save(str(temporary), "PNG"):
            raise OSError(f"Qt could not write a PNG to {temporary}")

    return _write(window, path, lambda: save)


def _write(
    window: MainWindow, path: Path, content: Callable[[], bytes | Callable[[Path], None]]
) -> Path | None:
    """Build the content, then write it atomically; say what happened in the status line."""
    try:
        data = content()
        write_atomic(path, data)
    except AtomicWriteError as exc:
        message = clean_text(exc, limit=400)  # "could not write X: why; the existing file ..."
        window.status.say(message[:1].upper() + message[1:], error=True)
        return None
    except (OSError, ValueError, UnicodeError) as exc:
        # Building the content failed (no machine yet, text that cannot be encoded): nothing
        # was written.
        window.status.say(
            f"Could not write {clean_text(path, limit=300)}: {clean_text(exc, limit=300)};"
            " nothing was changed",
            error=True,
        )
        return None
    window.status.say(f"Saved {clean_text(path, limit=300)}")
    return path
