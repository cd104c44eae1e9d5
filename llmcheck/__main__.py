"""``python -m llmcheck``: the command-line entry."""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    # First call: a frozen app (PyInstaller) must not re-run main() in the probe's child process.
    multiprocessing.freeze_support()
    from llmcheck.cli import main

    sys.exit(main())
