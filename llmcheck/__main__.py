"""``python -m llmcheck``: the command-line entry."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        # A frozen app (PyInstaller) must not re-run main() in the probe's child process.
        # Elsewhere freeze_support() does nothing, and importing multiprocessing costs ~40 ms.
        import multiprocessing

        multiprocessing.freeze_support()
    from llmcheck.cli import main

    sys.exit(main())
