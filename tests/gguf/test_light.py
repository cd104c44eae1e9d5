"""The runtime reads GGUF files without numpy or gguf-py (the --json path stays light)."""

from __future__ import annotations

import subprocess
import sys


def test_reader_scan_and_names_import_neither_numpy_nor_gguf_py() -> None:
    code = (
        "import sys, llmcheck.gguf.describe, llmcheck.scan, llmcheck.names\n"
        "heavy = sorted(m for m in ('numpy', 'gguf') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
