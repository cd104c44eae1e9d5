"""Run the probe off the GUI thread; its answer comes back to the GUI thread as a signal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, Signal, SignalInstance

from llmcheck.snapshot import SystemSnapshot

ProbeCallable = Callable[[], SystemSnapshot]


class ProbeSignals(QObject):
    """What a ProbeWorker reports: a snapshot, or a message in plain words.

    Each signal carries the run's ticket, so the window can ignore a late answer from a probe
    it has given up on.
    """

    finished = Signal(int, object)  # ticket, SystemSnapshot
    failed = Signal(int, str)  # ticket, message


class ProbeWorker(QRunnable):
    """Calls the probe once on a QThreadPool thread and reports by signal."""

    def __init__(self, probe: ProbeCallable, ticket: int) -> None:
        super().__init__()
        self.signals = ProbeSignals()
        self._probe = probe
        self._ticket = ticket
        # The pool deletes a finished runnable; the signals object lives on with the window.
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            # object, not SystemSnapshot: an injected probe may break its annotation.
            snapshot: object = self._probe()
        except Exception as exc:  # noqa: BLE001 - boundary: any probe fault becomes a message
            _report(self.signals.failed, self._ticket, describe_failure(exc))
            return
        if not isinstance(snapshot, SystemSnapshot):
            _report(
                self.signals.failed,
                self._ticket,
                f"The probe returned {type(snapshot).__name__}, not a machine.",
            )
            return
        _report(self.signals.finished, self._ticket, snapshot)


def _report(signal: SignalInstance, *args: object) -> None:
    """Emit, unless the window (and with it the signals object) is already gone.

    A worker can outlive its window: closing the app while a probe or a computation runs
    deletes the QObject, and emitting then raises RuntimeError on the pool thread. Nobody is
    left to tell, so the answer is dropped.
    """
    with contextlib.suppress(RuntimeError):
        signal.emit(*args)


def describe_failure(exc: BaseException) -> str:
    """One plain sentence for a probe that raised."""
    detail = str(exc).strip() or type(exc).__name__
    return f"Reading this machine failed: {detail}"


class ComputeSignals(QObject):
    """What a ComputeWorker reports, tagged with the key it computed."""

    done = Signal(object, object)  # key, result
    failed = Signal(object, str)  # key, message


class ComputeWorker(QRunnable):
    """Runs one computation (the estimator over the catalog, a bandwidth measurement) off the
    GUI thread.

    The estimator takes a noticeable fraction of a second for the whole grid on a small
    machine, so the window computes on a pool thread and keeps responding meanwhile.
    """

    def __init__(self, compute: Callable[[], object], key: object) -> None:
        super().__init__()
        self.signals = ComputeSignals()
        self._compute = compute
        self._key = key
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self._compute()
        except Exception as exc:  # noqa: BLE001 - boundary: an estimator fault becomes a message
            _report(self.signals.failed, self._key, str(exc).strip() or type(exc).__name__)
            return
        _report(self.signals.done, self._key, result)
