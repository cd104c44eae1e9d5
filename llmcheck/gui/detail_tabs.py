"""The tabs beside the grid: the details of the chosen cell, and which machines run its model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, QThreadPool, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from llmcheck.gui.details_panel import DetailsPanel
from llmcheck.gui.grid_panel import GridPanel
from llmcheck.gui.reverse_panel import ReversePanel
from llmcheck.gui.workers import ComputeWorker
from llmcheck.render import sentences
from llmcheck.session import AnswerKey, Session

if TYPE_CHECKING:
    from llmcheck.machines import MachineAnswer
    from llmcheck.recommend import Alternative

REVERSE_TAB = 1


class DetailTabs(QTabWidget):
    """Shows the grid's current cell in words; asks every what-if machine about its model on
    ``pool`` (1,000 machines take seconds) and says ``answers_updated`` when they are shown."""

    answers_updated = Signal()
    alternative_chosen = Signal(object)  # a llmcheck.recommend.Alternative the user clicked

    def __init__(
        self, session: Session, grid: GridPanel, pool: QThreadPool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._grid = grid
        self._pool = pool
        self._signals: list[QObject] = []  # each worker's signals, alive until it reports
        self.closed = False  # the window closed: start no more work
        self.details = DetailsPanel()
        self.reverse = ReversePanel()
        self.setAccessibleName("Details")
        self.addTab(self.details, "D&etails")
        self.addTab(self.reverse, "&Which machines run it")
        self.currentChanged.connect(self._on_current_changed)
        self.details.alternative_chosen.connect(self._on_alternative_chosen)
        self.alternatives: tuple[Alternative, ...] = ()

    def show_cell(self, index: QModelIndex) -> None:
        """Show the cell ``index`` of the grid (invalid: none)."""
        self._show_details(index)
        if self.currentIndex() == REVERSE_TAB:
            self._show_reverse()

    def _on_current_changed(self, index: int) -> None:
        if index == REVERSE_TAB:
            self._show_reverse()

    def _show_details(self, index: QModelIndex) -> None:
        model = self._grid.model
        fit = model.fit(index.row(), index.column()) if index.isValid() else None
        if fit is None:
            self.details.clear()
            return
        variant = model.variant(index.row())
        session = self._session
        best_text, note = session.details_words(variant, fit, model.row_fits(index.row()))
        self.details.show_fit(variant, fit, best_text=best_text, bandwidth_note=note)
        self.alternatives = ()
        if str(fit.verdict) == "wont_fit":
            try:
                self.alternatives = session.alternatives(variant, fit)
            except Exception:  # noqa: BLE001 - boundary: the details stand without them
                self.alternatives = ()
            names = {v.id: v.name for v in session.catalog().variants}
            self.details.show_alternatives(
                tuple(
                    sentences.alternative_words(a, names.get(a.variant_id, a.variant_id))
                    for a in self.alternatives
                )
            )

    def _on_alternative_chosen(self, number: int) -> None:
        if 0 <= number < len(self.alternatives):
            self.alternative_chosen.emit(self.alternatives[number])

    def _show_reverse(self) -> None:
        index = self._grid.view.currentIndex()
        model = self._grid.model
        if not index.isValid() or not model.rowCount():
            self.reverse.model.set_answers(())
            return
        session = self._session
        variant = model.variant(index.row())
        key = (variant.id, session.config)
        title = (
            f"Which catalogued machines run {variant.name} with "
            f"{sentences.context_words(session.config.context_tokens)} (best quantization for"
            " each):"
        )
        if key in session.answer_cache:
            self.reverse.show_answers(title, session.answer_cache[key])
            self.answers_updated.emit()
        elif key in session.answer_failures:
            failure = session.answer_failures[key]
            self.reverse.show_answers(f"⚠ The estimator failed: {failure}", ())
            self.answers_updated.emit()
        elif session.answers_in_flight is None and not self.closed:
            self.reverse.title.setText(f"{title}\nComputing…")
            key, job = session.answers_job(variant)
            worker = ComputeWorker(job, key)
            worker.signals.done.connect(self._on_answers_worker_done)
            worker.signals.failed.connect(self._on_answers_worker_failed)
            self._signals.append(worker.signals)
            self._pool.start(worker)

    def _on_answers_worker_done(self, key: AnswerKey, answers: tuple[MachineAnswer, ...]) -> None:
        self._answered(key, answers, "")

    def _on_answers_worker_failed(self, key: AnswerKey, message: str) -> None:
        self._answered(key, None, message)

    def _answered(
        self, key: AnswerKey, answers: tuple[MachineAnswer, ...] | None, failure: str
    ) -> None:
        sender = self.sender()
        self._signals = [s for s in self._signals if s is not sender]
        self._session.answers_done(key, answers, failure)
        if self.currentIndex() == REVERSE_TAB:
            self._show_reverse()
