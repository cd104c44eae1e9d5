"""``llmcheck-gui``: check for a display, then open the window.

Qt aborts the whole process when it finds no display, so :func:`display_problem` looks first
and :func:`main` says so in one line, pointing at ``llmcheck --json``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmcheck.gui.main_window import MainWindow

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_NO_DISPLAY = 2  # also bad usage and unreadable --snapshot files
SMOKE_TIMEOUT_S = 30.0

NO_DISPLAY_MESSAGE = (
    "llmcheck-gui: no display found (DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM are all"
    " unset). Run `llmcheck --json` for the same answers in a terminal."
)


def display_problem(environ: Mapping[str, str], platform: str) -> str | None:
    """Why Qt could not open a window here, or None when it can.

    Only X11/Wayland systems need a display variable: macOS and Windows always have a
    window server for a logged-in user.
    """
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    if any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return None
    return NO_DISPLAY_MESSAGE


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
    problem = display_problem(os.environ, sys.platform)
    if problem is not None:
        sys.stderr.write(problem + "\n")
        return EXIT_NO_DISPLAY
    probe = None
    if args.snapshot is not None:
        from llmcheck.render.units import clean_text
        from llmcheck.snapshot import SnapshotError, SystemSnapshot, read_snapshot_file

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
