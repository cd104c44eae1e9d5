"""The user's own GGUF files in the window (issue #12): File ▸ Open, drag and drop, and the
"On this machine" list.

A file is read (header only) and estimated on a worker thread
(:func:`llmcheck.session_files.answer_file`); its verdict, memory bars and command appear in the
details panel, titled "Your file". A file that gets no answer (another architecture, a corrupt
header) is one line in the status bar. The "On this machine" dialog scans the usual model stores
on a worker thread, bounded in time, and lists each LFM2 file with its verdict at the chosen
settings, the scan's notes below.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, Qt, QUrl, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from llmcheck.gui.widgets import verdict_style
from llmcheck.gui.workers import ComputeWorker
from llmcheck.session_files import (
    FileAnswer,
    ScanAnswers,
    UnansweredFileError,
    answer_file,
    is_gguf_path,
    scan_answers,
)
from llmcheck.units import clean_text, format_bytes, format_speed

if TYPE_CHECKING:
    from llmcheck.gui.main_window import MainWindow

GGUF_FILTER = "GGUF model (*.gguf);;All files (*)"


def gguf_paths(mime: QMimeData) -> tuple[Path, ...]:
    """The local ``.gguf`` files a drag carries (other URLs and files are ignored)."""
    if not mime.hasUrls():
        return ()
    urls: Sequence[QUrl] = mime.urls()
    return tuple(
        Path(u.toLocalFile()) for u in urls if u.isLocalFile() and is_gguf_path(u.toLocalFile())
    )


class LocalFiles:
    """The window's own-file questions: open, drop, and the "On this machine" dialog."""

    def __init__(self, window: MainWindow) -> None:
        # A weak reference: the window owns this helper, and a cycle would keep a closed and
        # deleted window's Python object alive.
        self._window_ref = weakref.ref(window)
        self.last_answer: FileAnswer | None = None
        self.dialog: OnThisMachineDialog | None = None

    # --- one file -------------------------------------------------------------------------

    @property
    def _window(self) -> MainWindow:
        window = self._window_ref()
        if window is None:
            raise RuntimeError("the window is gone")
        return window

    def ask_open(self) -> None:
        """File ▸ Open: choose a .gguf, then answer it."""
        name, _ = QFileDialog.getOpenFileName(
            self._window, "Open a GGUF model file", "", GGUF_FILTER
        )
        if name:
            self.open_file(Path(name))

    def open_file(self, path: Path) -> bool:
        """Read and estimate ``path`` off the GUI thread; False when there is no machine yet."""
        window = self._window
        snapshot = window.session.current_snapshot()
        if snapshot is None:
            window._show_error("Wait until this machine has been read, then open the file again.")
            return False
        if not is_gguf_path(path):
            window._show_error(f"{clean_text(path.name, limit=200)} is not a .gguf file.")
            return False
        config = window.session.config
        catalog = window.session.catalog()
        window.status.say(f"Reading {clean_text(path.name, limit=200)}…")

        def job() -> FileAnswer | str:
            try:
                return answer_file(path, config, snapshot, catalog)
            except UnansweredFileError as exc:
                return str(exc)

        window._run(ComputeWorker(job, str(path)), self._on_file_done, self._on_file_failed)
        return True

    def _on_file_done(self, _key: object, result: FileAnswer | str) -> None:
        window = self._window
        if isinstance(result, str):
            window._show_error(result)
            window.file_failed.emit(result)
            return
        self.last_answer = result
        fit = result.fit
        window.tabs.setCurrentWidget(window.details)
        window.details.show_fit(result.variant, fit, best_text="—", bandwidth_note="")
        window.details.title.setText(
            f"Your file: {clean_text(result.path.name, limit=120)} · "
            f"{window.details.title.text().split(' · ', 1)[-1]}"
        )
        from llmcheck.estimate.runtime import Runtime, runtime_command

        runtime = window.settings_panel.runtime()
        if runtime is not Runtime.LLAMA_SERVER and fit.llama_cpp_command:
            window.details.command_edit.setText(
                runtime_command(fit, result.variant, runtime, model_file=str(result.path))
            )
            window.details.command_edit.setCursorPosition(0)
        paired = (
            f", with {clean_text(result.projector_path.name, limit=120)}"
            if result.projector_path is not None
            else ""
        )
        window.last_error = None
        window.status.say(
            f"{clean_text(result.path.name, limit=200)}{paired}: "
            f"{verdict_style(fit.verdict).badge} ({clean_text(result.how, limit=200)})."
        )
        window.file_answered.emit()

    def _on_file_failed(self, _key: object, message: str) -> None:
        text = f"The file could not be estimated: {clean_text(message, limit=300)}"
        self._window._show_error(text)
        self._window.file_failed.emit(text)

    # --- On this machine ------------------------------------------------------------------

    def open_on_this_machine(self) -> None:
        """File ▸ Models on this machine…"""
        self.show_on_this_machine()

    def show_on_this_machine(
        self, *, home: Path | None = None, env: dict[str, str] | None = None
    ) -> OnThisMachineDialog:
        """Open the "On this machine" dialog and start its scan (``home``/``env``: tests)."""
        window = self._window
        dialog = OnThisMachineDialog(window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.show()
        snapshot = window.session.current_snapshot()
        if snapshot is None:
            dialog.show_message("Wait until this machine has been read, then look again.")
            return dialog
        config = window.session.config
        catalog = window.session.catalog()

        def job() -> ScanAnswers:
            return scan_answers(config, snapshot, catalog, home=home, env=env)

        window._run(ComputeWorker(job, "scan"), self._on_scan_done, self._on_scan_failed)
        return dialog

    def _on_scan_done(self, _key: object, answers: ScanAnswers) -> None:
        if self.dialog is not None:
            self.dialog.show_answers(answers)

    def _on_scan_failed(self, _key: object, message: str) -> None:
        if self.dialog is not None:
            self.dialog.show_message(f"The scan failed: {clean_text(message, limit=300)}")


class OnThisMachineDialog(QDialog):
    """The LFM2 models found on this machine, each with its verdict at the chosen settings."""

    filled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models on this machine")
        self.resize(820, 420)
        layout = QVBoxLayout(self)
        self.status = QLabel(
            "Looking in LM Studio's, llama.cpp's, Hugging Face's and Ollama's model folders…"
        )
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Model", "Found in", "Verdict", "Memory", "Speed"])
        self.table.setAccessibleName("LFM2 models on this machine")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.notes = QLabel("")
        self.notes.setTextFormat(Qt.TextFormat.PlainText)
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.notes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def show_message(self, text: str) -> None:
        """One line instead of the list."""
        self.status.setText(text)
        self.filled.emit()

    def show_answers(self, answers: ScanAnswers) -> None:
        """Fill the table and the notes."""
        self.table.setRowCount(len(answers.rows))
        for row, found in enumerate(answers.rows):
            fit = found.fit
            cells = [
                found.label,
                found.store,
                verdict_style(fit.verdict).badge
                if fit is not None
                else f"no answer: {found.problem}",
                format_bytes(fit.total_bytes) if fit is not None else "—",
                format_speed(fit.speed.low_tokens_per_second, fit.speed.high_tokens_per_second)
                if fit is not None and fit.speed is not None
                else "—",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(clean_text(found.path, limit=400) if column == 0 else text)
                self.table.setItem(row, column, item)
        count = len(answers.rows)
        self.status.setText(
            f"{count} LFM2 model file{'s' if count != 1 else ''} found in "
            f"{answers.elapsed_s:.1f} s."
            if count
            else f"No LFM2 model files found ({answers.elapsed_s:.1f} s)."
        )
        self.notes.setText("\n".join(f"• {n}" for n in answers.notes[:12]))
        self.filled.emit()
