"""This machine's RAM bandwidth, measured in the background after the first paint (issue #10).

This boot's cached measurement is reused at once; else one is taken on a worker thread
(:func:`llmcheck.session_files.with_cached_bandwidth`), and Machine ▸ Measure memory bandwidth
forces a new one. The answer goes through the session's ticket (a newer probe wins), the status
line and the window's ``bandwidth_measured``; a too-busy measurement says so and keeps the
table's range. The machine summary then says where the number came from and how old it is.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from llmcheck.gui.workers import ComputeWorker
from llmcheck.render import sentences
from llmcheck.session_files import BandwidthOutcome, with_cached_bandwidth
from llmcheck.snapshot import Source, SystemSnapshot

if TYPE_CHECKING:
    from llmcheck.gui.main_window import MainWindow
    from llmcheck.probe.bandwidth_measure import BandwidthMeasurement

# (snapshot, force) -> outcome; the window's seam for tests (a fake measurement, a tmp cache).
MeasureCached = Callable[..., BandwidthOutcome]


class BandwidthTask:
    """Runs the cached-or-new measurement for one window and shows where the number came from.

    Args:
        window: the window whose machine is measured.
        measure: the copier (None: the real one), passed to the cache.
        directory: the cache folder (None: the user's cache directory).
    """

    def __init__(
        self,
        window: MainWindow,
        *,
        measure: Callable[[], BandwidthMeasurement] | None = None,
        directory: Path | None = None,
    ) -> None:
        # A weak reference: the window owns this helper, and a cycle would keep a closed and
        # deleted window's Python object alive.
        self._window_ref = weakref.ref(window)
        self._measure = measure
        self._directory = directory
        self.source_text = ""  # "measured 13 min ago" once a measurement is in use
        self.started = False

    @property
    def _window(self) -> MainWindow:
        window = self._window_ref()
        if window is None:
            raise RuntimeError("the window is gone")
        return window

    def start(self, *, force: bool) -> bool:
        """Measure (or reuse this boot's measurement) off the GUI thread; False when not now."""
        window = self._window
        session = window.session
        snapshot = session.snapshot
        if snapshot is None or session.measuring or session.probing or not session.can_measure():
            return False
        self.started = True
        session.measuring = True
        key = ("bandwidth", session.generation)
        measure, directory = self._measure, self._directory
        window._sync_measure_action()
        window.status.busy(True)
        window.status.say(
            "Measuring this machine's RAM bandwidth (about a second of every core)…"
            if force
            else "Checking this machine's RAM bandwidth in the background…"
        )

        def job() -> BandwidthOutcome:
            return with_cached_bandwidth(
                snapshot, force=force, measure=measure, directory=directory
            )

        window._run(ComputeWorker(job, key), self._on_done, self._on_failed)
        return True

    def _end_measuring(self) -> None:
        window = self._window
        window.session.measuring = False
        window.status.busy(window.session.probing)
        window._sync_measure_action()

    def _on_failed(self, _key: object, message: str) -> None:
        window = self._window
        self._end_measuring()
        window._show_error(f"Measuring RAM bandwidth failed: {message}")
        window.bandwidth_measure_failed.emit(message)

    def _apply(self, key: object, snapshot: SystemSnapshot) -> None:
        """Take the measured machine (unless a newer probe answered) and say what changed."""
        window = self._window
        self._end_measuring()
        before = window.session.snapshot
        if before is None or not window.session.accept_measurement(key, snapshot):
            return  # a new probe answered meanwhile: its machine stands
        after = snapshot.memory
        if after.bandwidth_source is Source.MEASURED and after.bandwidth_gb_s is not None:
            window.last_error = None
            window.status.say(
                sentences.measured_words(
                    before.memory.bandwidth_gb_s,
                    before.memory.bandwidth_source,
                    after.bandwidth_gb_s,
                    self.source_text,
                )
            )
        else:
            failed = [p for p in snapshot.problems if p.code == sentences.MEASURE_FAILED_CODE]
            window._show_error(
                failed[-1].message if failed else "Measuring RAM bandwidth gave no answer."
            )
        window._announce_measure = True
        window._show_machine()  # bandwidth_measured follows once the grid is filled

    def _on_done(self, key: object, outcome: BandwidthOutcome) -> None:
        window = self._window
        measured = outcome.snapshot.memory.bandwidth_source is Source.MEASURED
        self.source_text = outcome.source_text if measured else ""
        self._apply(key, outcome.snapshot)
        if outcome.busy:
            window._show_error(
                f"{outcome.busy}. The table's bandwidth range is kept; measure again when the"
                " machine is idle (Machine ▸ Measure memory bandwidth)."
            )
        self.show_source()

    def show_source(self) -> None:
        """Add the bandwidth's source and age to the machine summary line."""
        if not self.source_text or self._window.session.machine_key != "this":
            return
        summary = self._window.machine_panel.summary
        text = summary.text()
        tail = f"RAM bandwidth {self.source_text}"
        if tail not in text:
            base = text.split(" · RAM bandwidth ", 1)[0]
            summary.setText(f"{base} · {tail}" if base else tail)
