"""``python -m llmcheck``: the command-line entry."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    try:
        if getattr(sys, "frozen", False):
            # A frozen app (PyInstaller) must not re-run main() in the probe's child process.
            # Elsewhere freeze_support() does nothing, and importing multiprocessing costs ~40 ms.
            import multiprocessing

            multiprocessing.freeze_support()
        from llmcheck.cli import main

        code = main()
    except KeyboardInterrupt:
        # Ctrl-C while the modules load, before main() can answer it: one line and 130
        # (llmcheck.cli.EXIT_INTERRUPTED), never a traceback.
        if sys.stderr is not None:
            sys.stderr.write("llmcheck: error: interrupted\n")
        code = 130
    sys.exit(code)
