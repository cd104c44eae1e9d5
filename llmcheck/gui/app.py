"""``llmcheck-gui``: check for a display, then open the window.

Qt aborts the whole process when its display does not answer, so :func:`main` asks
:func:`llmcheck.display.check_display` first (the same check ``llmcheck`` makes) and says why in
one line, pointing at ``llmcheck --json``. Process-wide settings are made here, not in the
window: the GIL switch interval, the Qt platform plugin that answered.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from llmcheck.display import check_display

if TYPE_CHECKING:
    from llmcheck.gui.main_window import MainWindow

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_NO_DISPLAY = 2  # also bad usage and unreadable --snapshot files
SMOKE_TIMEOUT_S = 30.0
# How long a busy worker thread may keep the GIL from the GUI thread (CPython's default: 5 ms).
GIL_SWITCH_INTERVAL_S = 0.001


def display_message(problem: str) -> str:
    """The one line ``llmcheck-gui`` prints when no window can open."""
    return (
        f"llmcheck-gui: cannot open a window: {problem}. Run `llmcheck --json` for the same"
        " answers in a terminal."
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmcheck-gui",
        description="Which Liquid AI LFM2 / LFM2.5 models run on this machine, and how fast.",
    )
    parser.add_argument(
        "--snapshot",
        metavar="FILE",
        type=Path,
        help="open a machine recorded with `llmcheck --json > FILE` instead of probing this one",
    )
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="open the window and exit 0 after its first paint (for packaging checks)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its usage message
        return EXIT_OK if exc.code == 0 else EXIT_NO_DISPLAY
    found = check_display(os.environ)
    if found.problem is not None:
        sys.stderr.write(display_message(found.problem) + "\n")
        return EXIT_NO_DISPLAY
    if found.platform is not None:
        # The plugin that answered, so Qt does not try one that would abort the process.
        os.environ["QT_QPA_PLATFORM"] = found.platform
    # The estimator's workers are Python threads. With CPython's default 5 ms switch interval
    # each call from Qt into Python while one computes (a cell's data(), the badge delegate)
    # can wait 5 ms for the GIL (the "convoy effect", https://bugs.python.org/issue7946), so
    # one repaint of the grid stalled the window for 100-300 ms during a slider drag.
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
    probe = None
    if args.snapshot is not None:
        from llmcheck.snapshot import SnapshotError, SystemSnapshot, read_snapshot_file
        from llmcheck.units import clean_text

        try:
            recorded = read_snapshot_file(args.snapshot, stdin=getattr(sys.stdin, "buffer", None))
        except SnapshotError as exc:
            sys.stderr.write(f"llmcheck-gui: {clean_text(exc, limit=400)}\n")
            return EXIT_NO_DISPLAY

        def probe() -> SystemSnapshot:
            return recorded

    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from llmcheck.gui.main_window import MainWindow
    from llmcheck.resources import resource_path

    app = QApplication.instance() or QApplication(["llmcheck-gui"])
    assert isinstance(app, QApplication)
    app.setApplicationName("llmcheck")
    app.setOrganizationName("llmcheck")
    app.setApplicationDisplayName("llmcheck")
    app.setDesktopFileName("llmcheck")
    icon_path = resource_path("icons", "llmcheck.svg")
    if icon_path.is_file():
        app.setWindowIcon(QIcon(str(icon_path)))
    window = MainWindow(probe=probe)
    if args.smoke_test:
        return _smoke_test(window)
    window.show()
    return EXIT_OK if app.exec() == 0 else EXIT_ERROR


def _smoke_test(window: MainWindow) -> int:
    """Show the window, wait for its first paint (at most SMOKE_TIMEOUT_S), close it."""
    from PySide6.QtCore import QEventLoop, QTimer

    painted: list[bool] = []
    loop = QEventLoop()

    def on_first_painted() -> None:
        painted.append(True)
        loop.quit()

    window.first_painted.connect(on_first_painted)
    # A local loop, not app.exec()/quit(): quitting the application would also end every
    # event loop started after it in this process (pytest-qt's waits among them).
    QTimer.singleShot(int(SMOKE_TIMEOUT_S * 1000), loop.quit)
    window.show()
    if not painted:
        loop.exec()
    window.close()
    if not painted:
        sys.stderr.write(f"llmcheck-gui: the window did not paint within {SMOKE_TIMEOUT_S:.0f} s\n")
        return EXIT_ERROR
    return EXIT_OK


def entry() -> None:
    """The ``llmcheck-gui`` script: freeze_support() first, for the frozen app's probe child."""
    multiprocessing.freeze_support()
    sys.exit(main())
