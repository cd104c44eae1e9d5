"""Frozen entry of the console ``llmcheck`` executable (PyInstaller runs this file as __main__)."""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    # First call: in a frozen app a child process (the isolated GPU probe, py-cpuinfo's CPUID
    # child) re-runs this file, and without freeze_support it would run main() again.
    multiprocessing.freeze_support()
    from llmcheck.cli import main

    sys.exit(main())
