"""Frozen entry of the windowed ``llmcheck-gui`` executable (PyInstaller runs it as __main__)."""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    # First call: in a frozen app a child process (the isolated GPU probe, py-cpuinfo's CPUID
    # child) re-runs this file, and without freeze_support it would open a second window.
    multiprocessing.freeze_support()
    from llmcheck.gui.app import main

    sys.exit(main(sys.argv[1:]))
