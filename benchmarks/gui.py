"""Time to first paint, time to a filled grid, and peak RSS of the llmcheck window.

Each run is a fresh Python process (imports included), so the numbers are what a user waits.
Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui.py [--runs 5] [--snapshot FILE]

Without --snapshot the real probe runs (on a worker thread, as in the app). Settings go to a
temporary file, never the user's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import time
T0 = time.perf_counter()
import json, resource, sys
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication(["llmcheck-bench"])
from llmcheck.gui.main_window import MainWindow
marks = {}
probe = None
if sys.argv[2]:
    from llmcheck.snapshot import snapshot_from_dict
    with open(sys.argv[2], encoding="utf-8") as f:
        recorded = snapshot_from_dict(json.load(f))
    probe = lambda: recorded
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
window = MainWindow(probe=probe, settings=settings)
def mark(name):
    marks.setdefault(name, time.perf_counter() - T0)
    if "first_paint_s" in marks and "grid_s" in marks:
        app.quit()
def filled():
    mark("grid_s")
def failed(message):
    marks["error"] = message
    app.quit()
window.first_painted.connect(lambda: mark("first_paint_s"))
window.probe_finished.connect(filled)
window.probe_failed.connect(failed)
window.show()
app.exec()
# A new context: how long the GUI thread is busy (the computation runs on a pool thread),
# and how long until the grid shows the new answers.
from PySide6.QtCore import QEventLoop
loop = QEventLoop()
window.grid_updated.connect(loop.quit)
t = time.perf_counter()
window.context_control.set_context(65536 if window.run_config().context_tokens != 65536 else 2048)
marks["context_gui_thread_ms"] = (time.perf_counter() - t) * 1000
loop.exec()
marks["context_grid_s"] = time.perf_counter() - t
marks["grid_cells"] = window.grid_model.rowCount() * window.grid_model.columnCount()
marks["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(marks))
"""


def main() -> int:
    """Run the child a few times and print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--snapshot", type=Path, default=None)
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    str(Path(tmp) / f"s{len(results)}.ini"),
                    str(args.snapshot or ""),
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )
            wall = time.perf_counter() - start
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
            if done.returncode != 0 or not lines:
                print(f"run failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
                return 1
            result = json.loads(lines[-1])
            if "error" in result:
                print(f"probe failed: {result['error']}")
                return 1
            result["process_wall_s"] = wall
            results.append(result)
    print(
        f"llmcheck GUI, {args.runs} runs, QT_QPA_PLATFORM={env['QT_QPA_PLATFORM']}, "
        f"probe: {args.snapshot or 'real probe_system()'}"
    )
    for key, unit in (
        ("first_paint_s", "s"),
        ("grid_s", "s"),
        ("context_gui_thread_ms", "ms"),
        ("context_grid_s", "s"),
        ("peak_rss_mib", "MiB"),
        ("process_wall_s", "s"),
    ):
        values = [r[key] for r in results]
        print(
            f"  {key:<22} median {statistics.median(values):8.3f} {unit}"
            f"   (min {min(values):.3f}, max {max(values):.3f})"
        )
    print(f"  grid cells             {results[0]['grid_cells']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
