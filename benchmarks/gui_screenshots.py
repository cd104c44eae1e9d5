"""Save screenshots of the window's main states to screenshots/ (git-ignored), for a person.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_screenshots.py
    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python \
        benchmarks/gui_screenshots.py --suffix=-xcb

Uses recorded machines from tests/data/snapshots, with RAM bandwidth filled as today's probe
fills it (llmcheck.probe.bandwidth's CPU class table, where the recording has none), and a
temporary settings file. The window is 1280x800 unless --size says otherwise.

``--docs`` takes the pictures in docs/screenshots/ instead, under Xvfb with the real xcb
platform, the window sized by itself to the screen as a user's would be (run from the root)::

    .venv/bin/python benchmarks/gui_screenshots.py --docs

It starts one Xvfb per picture: the first screen on a 1366x768 screen, a won't-fit case, and
the first screen at QT_SCALE_FACTOR=2 on a 2732x1536 screen (1366x768 at 2x).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "data" / "snapshots"


def main() -> int:
    """Open the window in each state and save a PNG of it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--suffix", default="")
    parser.add_argument("--real-probe", action="store_true", help="also shoot this machine")
    parser.add_argument("--dark", action="store_true", help="a dark system palette (Fusion)")
    parser.add_argument("--size", default="1280x800", help="window size, WIDTHxHEIGHT")
    parser.add_argument(
        "--docs",
        action="store_true",
        help="the pictures of docs/screenshots/, each under its own Xvfb",
    )
    parser.add_argument("--docs-shot", help=argparse.SUPPRESS)  # one picture, run by --docs
    args = parser.parse_args()
    if args.docs:
        return _docs_pictures()
    if args.docs_shot:
        return _docs_shot(args.docs_shot)
    width, height = (int(n) for n in args.size.lower().split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QEventLoop, QSettings, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from llmcheck.gui.main_window import MainWindow
    from llmcheck.probe.bandwidth import apply_bandwidth
    from llmcheck.snapshot import Source, SystemSnapshot, snapshot_from_dict

    app = QApplication(["llmcheck-screenshots"])
    if args.dark:
        from PySide6.QtGui import QColor, QPalette

        app.setStyle("Fusion")
        dark = QPalette()
        for role, colour in (
            (QPalette.ColorRole.Window, "#2b2b2b"),
            (QPalette.ColorRole.WindowText, "#e6e6e6"),
            (QPalette.ColorRole.Base, "#1e1e1e"),
            (QPalette.ColorRole.AlternateBase, "#333333"),
            (QPalette.ColorRole.Text, "#e6e6e6"),
            (QPalette.ColorRole.Button, "#3a3a3a"),
            (QPalette.ColorRole.ButtonText, "#e6e6e6"),
            (QPalette.ColorRole.Highlight, "#56B4E9"),
            (QPalette.ColorRole.HighlightedText, "#000000"),
        ):
            dark.setColor(role, QColor(colour))
        app.setPalette(dark)
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.TemporaryDirectory()
    settings = QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat)

    def load(name: str) -> SystemSnapshot:
        snap = snapshot_from_dict(json.loads((SNAPSHOTS / f"{name}.json").read_text("utf-8")))
        # system=None: the class table only, never this machine's own DIMMs.
        memory, issues = apply_bandwidth(snap.memory, snap.cpu, system=None)
        return replace(snap, memory=memory, problems=snap.problems + issues)

    def live(name: str) -> SystemSnapshot:
        """A recording posing as this machine read live (so it can be measured)."""
        return replace(load(name), source=Source.MEASURED)

    def settle(signal: object | None = None) -> None:
        loop = QEventLoop()
        if signal is not None:
            signal.connect(loop.quit)  # type: ignore[attr-defined]
            QTimer.singleShot(20_000, loop.quit)
            loop.exec()
        for _ in range(5):
            app.processEvents()

    def settle_grid(window: MainWindow) -> None:
        # The grid for new settings is computed on a worker thread: wait for it (and any
        # prefetch of the neighbouring steps), so the picture shows the settings' own answers.
        deadline = time.monotonic() + 30
        while window.session.grid_in_flight is not None and time.monotonic() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)
        settle()

    def shoot(
        name: str,
        probe: Callable[[], SystemSnapshot],
        prepare=None,
        wait: str = "probe_finished",
        release: threading.Event | None = None,
        **options: object,
    ) -> None:
        settings.clear()
        window = MainWindow(probe=probe, settings=settings, start_probe=False, **options)
        window.resize(width, height)
        window.show()
        signal = getattr(window, wait) if wait else None
        window.start_probe()
        settle(signal)
        if prepare is not None:
            prepare(window)
            settle_grid(window)
            settle()
        path = args.out / f"{name}{args.suffix}.png"
        window.grab().save(str(path))
        sys.stdout.write(f"saved {path}\n")
        if release is not None:
            release.set()  # closing waits for the window's workers: let a held probe end
        window.close()
        window.deleteLater()

    def select_cell(row: int, column: int) -> Callable[[MainWindow], None]:
        def prepare(window: MainWindow) -> None:
            window.grid_view.setCurrentIndex(window.grid_model.index(row, column))

        return prepare

    hold = threading.Event()

    def hung() -> SystemSnapshot:
        hold.wait(30)
        return load("cpu-laptop")

    def broken() -> SystemSnapshot:
        raise RuntimeError("NVML returned Unknown Error (the driver may have crashed)")

    shoot("01-probing", hung, wait="", release=hold)
    shoot("02-one-nvidia", lambda: load("one-nvidia"), select_cell(7, 5))
    shoot(
        "03-cpu-laptop-128k",
        lambda: load("cpu-laptop"),
        lambda w: (w.context_control.set_context(128_000), select_cell(7, 5)(w)),
    )
    shoot("04-apple-m2-max", lambda: load("apple-m2-max"), select_cell(6, 2))
    shoot("05-two-gpus", lambda: load("two-gpus"), select_cell(13, 5))
    shoot("06-unknown-budget-problems", lambda: load("unknown-budget"), select_cell(0, 1))
    shoot("07-probe-failed", broken, wait="probe_failed")

    def reverse(window: MainWindow) -> None:
        window.grid_view.setCurrentIndex(window.grid_model.index(7, 5))
        window.tabs.setCurrentIndex(1)
        settle(window.answers_updated)  # every what-if machine answered

    shoot("08-which-machines", lambda: load("dgx-spark"), reverse)
    shoot(
        "09-what-if-rtx-4060",
        lambda: load("cpu-laptop"),
        lambda w: (w.select_machine("rtx-4060-8g"), select_cell(6, 5)(w)),
    )

    def measured(window: MainWindow) -> None:
        settle_grid(window)
        window.measure_bandwidth()
        settle(window.bandwidth_measured)
        select_cell(6, 5)(window)

    shoot(
        "10-cpu-laptop-measured",
        lambda: live("cpu-laptop"),
        measured,
        measure_bandwidth=lambda _usable: 61.3,
    )
    shoot(
        "11-cpu-laptop-32k",
        lambda: load("cpu-laptop"),
        lambda w: (w.context_control.set_context(32768), select_cell(6, 5)(w)),
    )
    shoot(
        "12-one-nvidia-32k",
        lambda: load("one-nvidia"),
        lambda w: (w.context_control.set_context(32768), select_cell(13, 5)(w)),
    )
    if args.real_probe:
        shoot("20-this-machine", _real_probe)
    QThreadPool.globalInstance().waitForDone(30_000)  # no worker may outlive the app
    tmp.cleanup()
    return 0


# name: (Xvfb screen, QT_SCALE_FACTOR, recorded machine, what to select: None = the best pick)
DOCS_SHOTS: dict[str, tuple[str, str, str, tuple[str, str] | None]] = {
    "first-screen": ("1366x768x24", "1", "cpu-laptop", None),
    "wont-fit": ("1366x768x24", "1", "cpu-laptop", ("lfm2-24b-a2b", "Q4_K_M")),
    "first-screen-2x": ("2732x1536x24", "2", "cpu-laptop", None),
    "first-screen-1024x700": ("1024x700x24", "1", "one-nvidia", None),
    # Machine > Your own machine: an 8 GiB card next to 32 GiB of RAM, the form over its answers.
    "custom-machine": ("1366x768x24", "1", "custom", None),
}
CUSTOM_SHOT_SPEC = {
    "name": "My desktop (8 GiB card)",
    "vendor": "nvidia",
    "gpu_memory_gib": 8.0,
    "ram_gib": 32.0,
    "bandwidth_gb_s": 272.0,
    "ram_bandwidth_gb_s": 51.2,
}


def _docs_pictures() -> int:
    import subprocess

    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name, (screen, scale, _machine, _cell) in DOCS_SHOTS.items():
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "QT_SCALE_FACTOR": scale}
        command = [
            "xvfb-run",
            "-a",
            "-s",
            f"-screen 0 {screen}",
            sys.executable,
            str(Path(__file__).resolve()),
            f"--docs-shot={name}",
        ]
        failed += subprocess.run(command, env=env, check=False).returncode != 0
    return 1 if failed else 0


def _docs_shot(name: str) -> int:
    """One picture of docs/screenshots/, on the screen this process was given."""
    from PySide6.QtCore import QEventLoop, QSettings, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from llmcheck.gui.main_window import MainWindow
    from llmcheck.probe.bandwidth import apply_bandwidth
    from llmcheck.snapshot import snapshot_from_dict

    _screen, _scale, machine, cell = DOCS_SHOTS[name]
    app = QApplication(["llmcheck"])
    app.setApplicationDisplayName("llmcheck")
    dialog_spec = None
    if machine == "custom":
        from llmcheck.machines import CustomMachineSpec, custom_machine, machine_snapshot

        dialog_spec = CustomMachineSpec(**CUSTOM_SHOT_SPEC)  # type: ignore[arg-type]
        snap = machine_snapshot(custom_machine(dialog_spec))
    else:
        snap = snapshot_from_dict(json.loads((SNAPSHOTS / f"{machine}.json").read_text("utf-8")))
        memory, issues = apply_bandwidth(snap.memory, snap.cpu, system=None)
        snap = replace(snap, memory=memory, problems=snap.problems + issues)
    tmp = tempfile.TemporaryDirectory()
    settings = QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(probe=lambda: snap, settings=settings, start_probe=False)
    window.show()
    loop = QEventLoop()
    window.probe_finished.connect(loop.quit)
    QTimer.singleShot(30_000, loop.quit)
    window.start_probe()
    loop.exec()
    if cell is not None:
        window.grid.select(*cell)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    path = ROOT / "docs" / "screenshots" / f"{name}.png"
    if dialog_spec is not None:
        from llmcheck.gui.custom_machine import CustomMachineDialog

        dialog = CustomMachineDialog(dialog_spec, window)
        dialog.show()
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        app.primaryScreen().grabWindow(0).save(str(path))
        dialog.close()
    else:
        window.grab().save(str(path))
    geometry = window.frameGeometry()
    sys.stdout.write(
        f"saved {path}: window {geometry.width()}x{geometry.height()} on a"
        f" {app.primaryScreen().availableGeometry().width()}x"
        f"{app.primaryScreen().availableGeometry().height()} screen\n"
    )
    window.close()
    QThreadPool.globalInstance().waitForDone(30_000)
    tmp.cleanup()
    return 0


def _real_probe():
    from llmcheck.probe import probe_system

    return probe_system()


if __name__ == "__main__":
    sys.exit(main())
