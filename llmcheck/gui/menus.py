"""The window's menus: File (open a model file, the models on this machine, exports, quit),
Machine (probe, measure, choose a machine, your own machine), Help (about)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

if TYPE_CHECKING:
    from llmcheck.gui.main_window import MainWindow


def build_menus(window: MainWindow) -> None:
    """Add the menus; the actions the window enables later become its attributes."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    window.export_json_action = QAction("Export report as &JSON…", window)
    window.export_json_action.triggered.connect(window.export_json)
    window.export_md_action = QAction("Export report as &Markdown…", window)
    window.export_md_action.triggered.connect(window.export_markdown)
    window.export_png_action = QAction("Save window as &PNG…", window)
    window.export_png_action.triggered.connect(window.export_png)
    open_action = QAction("&Open model file…", window)
    open_action.setShortcut(QKeySequence.StandardKey.Open)
    open_action.setToolTip("A .gguf file of yours: its verdict, memory and command")
    open_action.triggered.connect(window.local_files.ask_open)
    file_menu.addAction(open_action)
    local_action = QAction("Models on this &machine…", window)
    local_action.triggered.connect(window.local_files.open_on_this_machine)
    file_menu.addAction(local_action)
    file_menu.addSeparator()
    quit_action = QAction("&Quit", window)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(window.close)
    for action in (window.export_json_action, window.export_md_action, window.export_png_action):
        action.setEnabled(False)
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(quit_action)
    machine_menu = bar.addMenu("&Machine")
    probe_action = QAction("&Probe again", window)
    probe_action.setShortcut(QKeySequence.StandardKey.Refresh)
    probe_action.triggered.connect(window.start_probe)
    machine_menu.addAction(probe_action)
    window.measure_action = QAction("Measure memory &bandwidth", window)
    window.measure_action.triggered.connect(window.measure_bandwidth)
    machine_menu.addAction(window.measure_action)
    machine_menu.addSeparator()
    choose_action = QAction("&Choose a machine…", window)
    choose_action.setToolTip("The what-if machines by maker, with a filter")
    choose_action.triggered.connect(window.choose_machine)
    machine_menu.addAction(choose_action)
    custom_action = QAction("&Your own machine…", window)
    custom_action.setToolTip("Enter a GPU, its memory, your RAM and their bandwidths")
    custom_action.triggered.connect(window.edit_custom_machine)
    machine_menu.addAction(custom_action)
    machine_menu.setToolTipsVisible(True)
    help_menu = bar.addMenu("&Help")
    about_action = QAction("&About llmcheck", window)
    about_action.triggered.connect(window.show_about)
    help_menu.addAction(about_action)
