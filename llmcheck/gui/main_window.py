"""The main window: this machine, every LFM2 variant x quantization, and the details of one.

Thin Qt over the pure layers: the probe runs on a QThreadPool thread (workers.py), the grid
shows ``llmcheck.estimate.estimate_all`` as it is, and exports go through
``llmcheck.report.build_report``. The estimator and catalog are imported on first use, so the
window paints before they load.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QModelIndex,
    QObject,
    QSettings,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from llmcheck.gui.dialogs import AboutDialog, SaveFileDialog
from llmcheck.gui.machines import CatalogMachine, load_machines, machine_snapshot
from llmcheck.gui.models import (
    DeviceRow,
    DeviceTableModel,
    FitGridModel,
    MachineAnswer,
    MachineAnswerModel,
    speed_text,
)
from llmcheck.gui.widgets import (
    CONTEXT_STEPS,
    TERM_COLOURS,
    TERM_WORDS,
    VERDICT_STYLES,
    BadgeDelegate,
    BarSegment,
    ContextControl,
    MemoryBar,
    context_label,
    format_bytes,
    snap_context,
    verdict_style,
)
from llmcheck.gui.workers import ComputeWorker, ProbeWorker
from llmcheck.snapshot import MemoryKind, Source, SystemSnapshot

if TYPE_CHECKING:
    from llmcheck.catalog import Catalog, ModelVariant
    from llmcheck.estimate import DeviceBudget, Fit, RunConfig

    GridKey = tuple[str, int, RunConfig]  # machine, snapshot generation, settings

THIS_MACHINE = "this"
KV_TYPES = (("f16", "F16"), ("q8_0", "Q8_0"), ("q4_0", "Q4_0"))
# How long to wait before telling the user the probe seems stuck (it keeps running).
PROBE_PATIENCE_S = 45.0
_VERDICT_RANK = {"runs_great": 0, "tight": 1, "unknown": 2, "wont_fit": 3}
# How long a busy worker thread may keep the GIL from the GUI thread (CPython's default: 5 ms).
GIL_SWITCH_INTERVAL_S = 0.001
# Every badge a verdict cell can show: columns are wide enough for any of them.
BADGES = tuple(style.badge for style in VERDICT_STYLES.values())
# Rows of the what-if answers whose text sizes its columns (all 1,000 took 1.46 s).
ANSWER_SAMPLE_ROWS = 50
# Room around a cell's or a header's text (the item delegate's and header's margins, and slack).
_CELL_PADDING_PX = 16
_HEADER_PADDING_PX = 20
# Details shown as a paragraph across the panel rather than in the form's narrow value column.
_WIDE_DETAILS = frozenset({"basis"})
# The narrowest the details panel gets when the grid is first given room for all its columns.
DETAILS_MIN_WIDTH_PX = 380


def fit_columns(
    view: QTableView, columns: Sequence[int] | range, *, also: Sequence[str], sample_rows: int
) -> None:
    """Size columns to their header, the first ``sample_rows`` rows' text and ``also``, once.

    Used instead of ``QHeaderView.ResizeToContents``, which asks the model for every cell of
    every row on the GUI thread at each reset.
    """
    model = view.model()
    header = view.horizontalHeader()
    cell_metrics = view.fontMetrics()
    header_metrics = header.fontMetrics()
    rows = min(model.rowCount(), sample_rows)
    for column in columns:
        texts = [model.data(model.index(row, column)) for row in range(rows)]
        cell = max(
            (cell_metrics.horizontalAdvance(t) for t in [*also, *texts] if isinstance(t, str)),
            default=0,
        )
        title = model.headerData(column, Qt.Orientation.Horizontal)
        head = header_metrics.horizontalAdvance(title) if isinstance(title, str) else 0
        header.resizeSection(column, max(cell + _CELL_PADDING_PX, head + _HEADER_PADDING_PX))


def _default_probe() -> SystemSnapshot:
    from llmcheck.probe import probe_system

    return probe_system()


MeasureBandwidth = Callable[[int | None], float]  # usable RAM bytes -> GB/s


def _default_measure(usable_bytes: int | None) -> float:
    from llmcheck.probe.bandwidth import measure_memory_bandwidth

    return measure_memory_bandwidth(usable_bytes=usable_bytes)


class MainWindow(QMainWindow):
    """llmcheck's window. Collaborators are arguments so tests can pass recorded machines.

    Args:
        probe: returns the machine (runs on a worker thread); default ``probe_system``.
        catalog: the LFM2 catalog; default ``load_catalog()`` on first use.
        settings: where to keep settings; default the user's QSettings for llmcheck.
        machines: the what-if catalog; default ``resources/machines.toml``.
        measure_bandwidth: measures this machine's RAM bandwidth in GB/s, given the usable RAM
            (runs on a worker thread); default ``measure_memory_bandwidth``.
        start_probe: start probing at once (tests may start it themselves).
    """

    probe_started = Signal()
    probe_finished = Signal()  # the snapshot is shown and the grid is filled
    probe_failed = Signal(str)
    grid_updated = Signal()  # the grid shows the answers for the current settings
    answers_updated = Signal()  # the "which machines run it" table is filled
    bandwidth_measured = Signal()  # the measurement is applied and the grid re-judged with it
    bandwidth_measure_failed = Signal(str)  # the measurement raised what the probe does not catch
    first_painted = Signal()

    def __init__(
        self,
        probe: Callable[[], SystemSnapshot] | None = None,
        catalog: Catalog | None = None,
        *,
        settings: QSettings | None = None,
        machines: Sequence[CatalogMachine] | None = None,
        measure_bandwidth: MeasureBandwidth | None = None,
        start_probe: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # The estimator's workers are Python threads. With CPython's default 5 ms switch interval
        # each call from Qt into Python while one computes (a cell's data(), the badge delegate)
        # can wait 5 ms for the GIL (the "convoy effect", https://bugs.python.org/issue7946), so
        # one repaint of the grid stalled the window for 100-300 ms during a slider drag.
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        self._probe = probe or _default_probe
        self._measure = measure_bandwidth or _default_measure
        self._measuring = False
        self._catalog = catalog
        self._settings = settings if settings is not None else QSettings("llmcheck", "llmcheck")
        self._machines: tuple[CatalogMachine, ...] | None = (
            tuple(machines) if machines is not None else None
        )
        self._snapshot: SystemSnapshot | None = None
        self._ticket = 0
        self._pending_ticket: int | None = None
        self._probe_signals: list[QObject] = []  # keep each worker's signals alive until it reports
        self._generation = 0  # bumps with each new snapshot of this machine
        self._fit_cache: dict[GridKey, tuple[Fit, ...]] = {}
        self._fit_failures: dict[GridKey, str] = {}
        self._answer_cache: dict[tuple[str, RunConfig], tuple[MachineAnswer, ...]] = {}
        self._answer_failures: dict[tuple[str, RunConfig], str] = {}
        self._grid_in_flight: GridKey | None = None
        self._answers_in_flight: tuple[str, RunConfig] | None = None
        self._announce_probe = False  # emit probe_finished when the grid is next shown
        self._announce_measure = False  # emit bandwidth_measured when the grid is next shown
        self._painted = False
        self._splitter_placed = False  # the grid was given room once (or the user's layout kept)
        self.last_error: str | None = None

        self.setWindowTitle("llmcheck — which LFM2 models run here")
        self.setObjectName("llmcheck-main-window")
        self.grid_model = FitGridModel()
        self.device_model = DeviceTableModel()
        self.answer_model = MachineAnswerModel()
        self._build_ui()
        self._build_menus()
        self._restore_settings()
        self._patience = QTimer(self)
        self._patience.setSingleShot(True)
        self._patience.setInterval(int(PROBE_PATIENCE_S * 1000))
        self._patience.timeout.connect(self._on_probe_patience_timeout)
        if start_probe:
            self.start_probe()

    # --- building -----------------------------------------------------------------------

    def _build_ui(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(10, 8, 10, 8)
        outer.setSpacing(8)

        # Status strip: what the probe is doing, and the way to run it again.
        self.status_frame = QFrame()
        self.status_frame.setObjectName("probeStatus")
        self.status_frame.setFrameShape(QFrame.Shape.StyledPanel)
        status = QHBoxLayout(self.status_frame)
        status.setContentsMargins(8, 4, 8, 4)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Probe progress")
        self.status_label = QLabel("Reading this machine…")
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName("Status")
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.probe_button = QPushButton("&Probe again")
        self.probe_button.setAccessibleName("Probe again")
        self.probe_button.setToolTip("Read this machine's memory and GPUs again")
        self.probe_button.clicked.connect(self.start_probe)
        status.addWidget(self.progress)
        status.addWidget(self.status_label, 1)
        status.addWidget(self.probe_button)
        outer.addWidget(self.status_frame)

        # Machine panel: which machine, its devices and its problems.
        machine_box = QGroupBox("Machine")
        machine_layout = QVBoxLayout(machine_box)
        chooser = QHBoxLayout()
        self.machine_combo = QComboBox()
        self.machine_combo.setAccessibleName("Machine")
        self.machine_combo.setToolTip(
            "This machine, or a catalogued GPU / unified-memory device to see what it would run"
        )
        self.machine_combo.addItem("This machine", THIS_MACHINE)
        self.machine_combo.setMinimumContentsLength(24)
        self.machine_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        machine_label = QLabel("&Show:")
        machine_label.setBuddy(self.machine_combo)
        self.machine_summary = QLabel("")
        self.machine_summary.setWordWrap(True)
        self.machine_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        chooser.addWidget(machine_label)
        self.machine_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        chooser.addWidget(self.machine_combo, 3)
        chooser.addWidget(self.machine_summary, 2)
        machine_layout.addLayout(chooser)
        self.device_view = QTableView()
        self.device_view.setModel(self.device_model)
        self.device_view.setAccessibleName("Devices of the machine")
        self.device_view.verticalHeader().setVisible(False)
        self.device_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.device_view.setAlternatingRowColors(True)
        self.device_view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.device_view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.device_view.setWordWrap(False)
        machine_layout.addWidget(self.device_view)
        self._fit_device_view()
        self.problems_label = QLabel("")
        self.problems_label.setWordWrap(True)
        self.problems_label.setAccessibleName("Problems met by the probe")
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems_label.hide()
        machine_layout.addWidget(self.problems_label)
        outer.addWidget(machine_box)

        # Settings row.
        settings_row = QHBoxLayout()
        self.context_control = ContextControl()
        self.kv_combo = QComboBox()
        self.kv_combo.setAccessibleName("KV cache type")
        self.kv_combo.setToolTip("llama.cpp --cache-type-k / --cache-type-v")
        for value, text in KV_TYPES:
            self.kv_combo.addItem(text, value)
        kv_label = QLabel("&KV cache:")
        kv_label.setBuddy(self.kv_combo)
        self.fa_check = QCheckBox("&Flash attention")
        self.fa_check.setChecked(True)
        self.fa_check.setAccessibleName("Flash attention")
        self.fa_check.setToolTip("llama.cpp --flash-attn")
        self.device_combo = QComboBox()
        self.device_combo.setAccessibleName("Device")
        self.device_combo.addItem("Auto", "auto")
        self.device_combo.setMinimumContentsLength(8)
        self.device_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        device_label = QLabel("&Device:")
        device_label.setBuddy(self.device_combo)
        settings_row.addWidget(self.context_control, 3)
        settings_row.addSpacing(6)
        settings_row.addWidget(kv_label)
        settings_row.addWidget(self.kv_combo)
        settings_row.addSpacing(6)
        settings_row.addWidget(self.fa_check)
        settings_row.addSpacing(6)
        settings_row.addWidget(device_label)
        settings_row.addWidget(self.device_combo)
        outer.addLayout(settings_row)

        # Grid and details side by side.
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        grid_panel = QWidget()
        grid_layout = QVBoxLayout(grid_panel)
        grid_layout.setContentsMargins(0, 0, 0, 0)
        legend = "   ".join(
            f'<span style="background:{s.fill}; color:#000;">&nbsp;{s.symbol}&nbsp;</span> '
            f"{s.words}"
            for s in VERDICT_STYLES.values()
        )
        self.legend_label = QLabel(legend)
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setAccessibleName("Legend of the verdicts")
        self.grid_status = QLabel("")
        self.grid_status.setAccessibleName("Grid status")
        legend_row = QHBoxLayout()
        legend_row.addWidget(self.legend_label)
        legend_row.addStretch(1)
        legend_row.addWidget(self.grid_status)
        grid_layout.addLayout(legend_row)
        self.grid_view = QTableView()
        self.grid_view.setModel(self.grid_model)
        self._badge_delegate = BadgeDelegate(self.grid_view)
        self.grid_view.setItemDelegate(self._badge_delegate)
        self.grid_view.setAccessibleName("Verdicts: models by quantization")
        self.grid_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.grid_view.setTabKeyNavigation(False)
        # Sized once per reset from the badges, not ResizeToContents: a content-sized header
        # re-reads every cell on the GUI thread at each change (docs/faults.md, GUI under load).
        self.grid_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.grid_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.grid_view.verticalHeader().setDefaultSectionSize(
            self.grid_view.fontMetrics().height() + 8
        )
        self.grid_model.modelReset.connect(self._on_grid_model_reset)
        self.grid_view.setWordWrap(False)
        self.grid_view.selectionModel().currentChanged.connect(self._on_grid_current_changed)
        grid_layout.addWidget(self.grid_view, 1)
        self.splitter.addWidget(grid_panel)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Details")
        self.tabs.addTab(self._build_details(), "D&etails")
        self.tabs.addTab(self._build_reverse(), "&Which machines run it")
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        outer.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.context_control.context_changed.connect(self._on_setting_changed)
        self.kv_combo.currentIndexChanged.connect(self._on_kv_combo_changed)
        self.fa_check.toggled.connect(self._on_setting_changed)
        self.device_combo.currentIndexChanged.connect(self._on_setting_changed)
        self.machine_combo.currentIndexChanged.connect(self._on_machine_combo_changed)

    def _build_details(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.details_title = QLabel("Choose a cell of the grid to see its details.")
        self.details_title.setWordWrap(True)
        self.details_title.setAccessibleName("Selected model and quantization")
        font = self.details_title.font()
        font.setBold(True)
        self.details_title.setFont(font)
        layout.addWidget(self.details_title)
        self.bars_box = QVBoxLayout()
        layout.addLayout(self.bars_box)
        self.bars: list[MemoryBar] = []
        self.bar_legend = QLabel(
            "  ".join(
                f'<span style="color:{colour};">■</span> {TERM_WORDS[name]}'
                for name, colour in TERM_COLOURS.items()
            )
            + "  ┆ budget"
        )
        self.bar_legend.setTextFormat(Qt.TextFormat.RichText)
        self.bar_legend.setWordWrap(True)
        layout.addWidget(self.bar_legend)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.detail_labels: dict[str, QLabel] = {}
        for key, text in (
            ("verdict", "Verdict"),
            ("memory", "Memory needed"),
            ("max_context", "Largest context that fits"),
            ("best_quant", "Recommended quant"),
            ("download", "Download size"),
            ("speed", "Speed"),
            ("basis", "Why this speed"),
            ("placement", "Placement"),
            ("reason", "Why"),
        ):
            label = QLabel("—")
            label.setTextFormat(
                Qt.TextFormat.RichText if key in _WIDE_DETAILS else Qt.TextFormat.PlainText
            )
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setAccessibleName(text)
            self.detail_labels[key] = label
            if key in _WIDE_DETAILS:
                # A paragraph: the whole width of the panel, its name in bold at its start.
                label.setText(f"<b>{text}:</b> —")
                form.addRow(label)
            else:
                form.addRow(f"{text}:", label)
        layout.addLayout(form)
        command_row = QHBoxLayout()
        self.command_edit = QLineEdit()
        self.command_edit.setReadOnly(True)
        self.command_edit.setAccessibleName("llama.cpp command")
        self.command_edit.setPlaceholderText("llama.cpp command")
        self.copy_button = QPushButton("&Copy")
        self.copy_button.setAccessibleName("Copy the llama.cpp command")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self._on_copy_clicked)
        command_row.addWidget(self.command_edit, 1)
        command_row.addWidget(self.copy_button)
        layout.addWidget(QLabel("llama.cpp command:"))
        layout.addLayout(command_row)
        self.assumptions_label = QLabel("")
        self.assumptions_label.setWordWrap(True)
        self.assumptions_label.setAccessibleName("Assumptions")
        layout.addWidget(self.assumptions_label)
        layout.addStretch(1)
        # Long speed bases and assumption lists scroll rather than being cut off.
        scroller = QScrollArea()
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroller.setWidget(page)
        return scroller

    def _build_reverse(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.reverse_title = QLabel("Choose a model in the grid.")
        self.reverse_title.setWordWrap(True)
        layout.addWidget(self.reverse_title)
        self.answer_view = QTableView()
        self.answer_view.setModel(self.answer_model)
        self.answer_view.setItemDelegateForColumn(
            MachineAnswerModel.VERDICT_COLUMN, BadgeDelegate(self.answer_view)
        )
        self.answer_view.setAccessibleName("Catalogued machines for the selected model")
        self.answer_view.verticalHeader().setVisible(False)
        self.answer_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.answer_view.setWordWrap(False)
        header = self.answer_view.horizontalHeader()
        # Not ResizeToContents: with 1,000 what-if machines that asked the model for every cell
        # on the GUI thread at each reset (1.46 s). Sized from a sample instead, rows uniform.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.answer_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.answer_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.answer_view.verticalHeader().setDefaultSectionSize(
            self.answer_view.fontMetrics().height() + 6
        )
        self.answer_model.modelReset.connect(self._on_answer_model_reset)
        layout.addWidget(self.answer_view, 1)
        return page

    def _on_grid_model_reset(self) -> None:
        columns = range(self.grid_model.columnCount())
        fit_columns(self.grid_view, columns, also=BADGES, sample_rows=0)
        if columns and not self._splitter_placed:
            self._splitter_placed = self._give_grid_room()

    def _give_grid_room(self) -> bool:
        """Widen the grid's side of the splitter to show every column, once, when first filled.

        The details wrap their text, so they give way, down to DETAILS_MIN_WIDTH_PX. False
        while the splitter has no size yet (the window is not laid out).
        """
        view = self.grid_view
        header = view.horizontalHeader()
        needed = (
            view.verticalHeader().sizeHint().width()
            + sum(header.sectionSize(c) for c in range(header.count()))
            + view.verticalScrollBar().sizeHint().width()
            + 2 * view.frameWidth()
            + 4
        )
        sizes = self.splitter.sizes()
        total = sum(sizes)
        if total <= 0:
            return False
        grid = min(needed, total - DETAILS_MIN_WIDTH_PX)
        if grid > sizes[0]:
            self.splitter.setSizes([grid, total - grid])
        return True

    def _on_answer_model_reset(self) -> None:
        columns = range(1, self.answer_model.columnCount())
        fit_columns(self.answer_view, columns, also=BADGES, sample_rows=ANSWER_SAMPLE_ROWS)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.export_json_action = QAction("Export report as &JSON…", self)
        self.export_json_action.triggered.connect(self.export_json)
        self.export_md_action = QAction("Export report as &Markdown…", self)
        self.export_md_action.triggered.connect(self.export_markdown)
        self.export_png_action = QAction("Save window as &PNG…", self)
        self.export_png_action.triggered.connect(self.export_png)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (self.export_json_action, self.export_md_action, self.export_png_action):
            action.setEnabled(False)
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        machine_menu = self.menuBar().addMenu("&Machine")
        probe_action = QAction("&Probe again", self)
        probe_action.setShortcut(QKeySequence.StandardKey.Refresh)
        probe_action.triggered.connect(self.start_probe)
        machine_menu.addAction(probe_action)
        self.measure_action = QAction("Measure memory &bandwidth", self)
        self.measure_action.triggered.connect(self.measure_bandwidth)
        machine_menu.addAction(self.measure_action)
        machine_menu.setToolTipsVisible(True)
        self._sync_measure_action()
        help_menu = self.menuBar().addMenu("&Help")
        about_action = QAction("&About llmcheck", self)
        about_action.triggered.connect(self.show_about)
        help_menu.addAction(about_action)

    # --- probing ------------------------------------------------------------------------

    def start_probe(self) -> None:
        """Read the machine on a worker thread; the answer arrives as a signal."""
        self._ticket += 1
        self._pending_ticket = self._ticket
        worker = ProbeWorker(self._probe, self._ticket)
        worker.signals.finished.connect(self._on_probe_worker_finished)
        worker.signals.failed.connect(self._on_probe_worker_failed)
        self._probe_signals.append(worker.signals)
        self.progress.show()
        self._mark_status(error=False)
        self.probe_button.setEnabled(False)
        self._sync_measure_action()
        self.status_label.setText("Reading this machine (memory, GPUs, CPU)…")
        self._patience.start()
        self.probe_started.emit()
        QThreadPool.globalInstance().start(worker)

    def _on_probe_worker_finished(self, ticket: int, snapshot: SystemSnapshot) -> None:
        self._forget_signals()
        if ticket != self._pending_ticket:
            return  # an answer from a probe we stopped waiting for
        self._pending_ticket = None
        self._patience.stop()
        self.progress.hide()
        self.probe_button.setEnabled(True)
        self.last_error = None
        self._mark_status(error=False)
        self._snapshot = snapshot
        self._generation += 1
        self._fit_cache = {k: v for k, v in self._fit_cache.items() if k[0] != THIS_MACHINE}
        self._fit_failures = {}
        self._announce_probe = True
        if self.machine_combo.count() == 1:
            self._fill_machine_combo()
        seconds = "" if snapshot.probe_seconds is None else f" in {snapshot.probe_seconds:.1f} s"
        source = "Read from a snapshot file" if str(snapshot.source) == "snapshot" else "Probed"
        self.status_label.setText(f"{source}{seconds}. Hover any number to see where it came from.")
        self._show_machine()  # probe_finished follows once the grid is filled

    def _on_probe_worker_failed(self, ticket: int, message: str) -> None:
        self._forget_signals()
        if ticket != self._pending_ticket:
            return
        self._pending_ticket = None
        self._show_failure(message)

    def _on_probe_patience_timeout(self) -> None:
        if self._pending_ticket is None:
            return
        # The probe keeps its own timeouts; this only tells the user and lets them retry. A
        # late answer from this same run is still shown; "Probe again" supersedes it.
        self._show_failure(
            f"The probe has not answered after {PROBE_PATIENCE_S:.0f} seconds. A GPU driver may"
            " be hanging. Choose “Probe again”, or run `llmcheck --json` in a terminal to see"
            " what it is waiting for."
        )

    def _show_failure(self, message: str) -> None:
        self._patience.stop()
        self.progress.hide()
        self.probe_button.setEnabled(True)
        self._sync_measure_action()
        self.last_error = message
        self.status_label.setText(f"⚠ {message}")
        self._mark_status(error=True)
        self.probe_failed.emit(message)

    def _show_error(self, message: str) -> None:
        """A fault after the probe answered (catalog, estimator): say so, keep the rest."""
        self.last_error = message
        self.status_label.setText(f"⚠ {message}")
        self._mark_status(error=True)

    def _mark_status(self, *, error: bool) -> None:
        # A vermillion frame (Okabe-Ito) besides the ⚠ sign, so a fault is seen at a glance.
        self.status_frame.setStyleSheet(
            "QFrame#probeStatus { border: 2px solid #D55E00; border-radius: 3px; }"
            if error else ""
        )

    def _forget_signals(self) -> None:
        # The worker's signals object was kept alive until its answer arrived; drop it now.
        sender = self.sender()
        self._probe_signals = [s for s in self._probe_signals if s is not sender]

    # --- measuring RAM bandwidth ---------------------------------------------------------

    def _can_measure(self) -> bool:
        """Only this machine, read live: a what-if or recorded machine is not here to measure."""
        return (
            self.current_machine_key() == THIS_MACHINE
            and self._snapshot is not None
            and self._snapshot.source is not Source.SNAPSHOT
        )

    def _sync_measure_action(self) -> None:
        idle = self._pending_ticket is None and not self._measuring
        self.measure_action.setEnabled(idle and self._can_measure())
        if self._measuring:
            tip = "Measuring now…"
        elif self.current_machine_key() != THIS_MACHINE:
            tip = "Only this machine can be measured, not a what-if one."
        elif self._snapshot is not None and self._snapshot.source is Source.SNAPSHOT:
            tip = "This machine was read from a snapshot file: it is not here to measure."
        else:
            tip = (
                "Copy large buffers on every core for under a second (up to 1 GiB of RAM) to"
                " measure this machine's RAM bandwidth, which sets the CPU speed estimates."
            )
        self.measure_action.setToolTip(tip)

    def measure_bandwidth(self) -> None:
        """Measure this machine's RAM bandwidth on a worker thread, then judge it again."""
        snapshot = self._snapshot
        if snapshot is None or not self.measure_action.isEnabled():
            return
        measure = self._measure
        worker = ComputeWorker(
            lambda: with_measured_bandwidth(snapshot, measure), ("bandwidth", self._generation)
        )
        worker.signals.done.connect(self._on_bandwidth_worker_done)
        worker.signals.failed.connect(self._on_bandwidth_worker_failed)
        self._probe_signals.append(worker.signals)
        self._measuring = True
        self._sync_measure_action()
        self.probe_button.setEnabled(False)
        self.progress.show()
        self._mark_status(error=False)
        self.status_label.setText(
            "Measuring this machine's RAM bandwidth (copying buffers on every core)…"
        )
        QThreadPool.globalInstance().start(worker)

    def _end_measuring(self) -> None:
        self._forget_signals()
        self._measuring = False
        self.progress.setVisible(self._pending_ticket is not None)
        self.probe_button.setEnabled(self._pending_ticket is None)
        self._sync_measure_action()

    def _on_bandwidth_worker_done(self, key: tuple[str, int], snapshot: SystemSnapshot) -> None:
        self._end_measuring()
        if key[1] != self._generation or self._snapshot is None:
            return  # a new probe answered meanwhile: its machine stands
        before = self._snapshot.memory
        after = snapshot.memory
        self._snapshot = snapshot
        self._generation += 1
        self._fit_cache = {k: v for k, v in self._fit_cache.items() if k[0] != THIS_MACHINE}
        self._fit_failures = {k: v for k, v in self._fit_failures.items() if k[0] != THIS_MACHINE}
        if after.bandwidth_source is Source.MEASURED and after.bandwidth_gb_s is not None:
            was = (
                ""
                if before.bandwidth_gb_s is None
                else f" (before: {before.bandwidth_gb_s:.0f} GB/s, {before.bandwidth_source})"
            )
            self.last_error = None
            self._mark_status(error=False)
            self.status_label.setText(
                f"Measured RAM bandwidth: {after.bandwidth_gb_s:.0f} GB/s{was}. The CPU speeds"
                " below use it."
            )
        else:
            failed = [p for p in snapshot.problems if p.code == MEASURE_FAILED_CODE]
            self._show_error(
                failed[-1].message if failed else "Measuring RAM bandwidth gave no answer."
            )
        self._announce_measure = True
        self._show_machine()  # bandwidth_measured follows once the grid is filled

    def _on_bandwidth_worker_failed(self, _key: tuple[str, int], message: str) -> None:
        self._end_measuring()
        self._show_error(f"Measuring RAM bandwidth failed: {message}")
        self.bandwidth_measure_failed.emit(message)

    # --- machines -----------------------------------------------------------------------

    def machines(self) -> tuple[CatalogMachine, ...]:
        """The what-if catalog (loaded on first use)."""
        if self._machines is None:
            try:
                self._machines = load_machines()
            except (OSError, ValueError) as exc:
                self._machines = ()
                self.status_label.setText(f"⚠ The what-if machine list could not be read: {exc}")
        return self._machines

    def _fill_machine_combo(self) -> None:
        self.machine_combo.blockSignals(True)
        for machine in self.machines():
            self.machine_combo.addItem(f"What if: {machine.name}", machine.id)
        self.machine_combo.blockSignals(False)

    def current_machine_key(self) -> str:
        """"this", or the id of the catalogued machine being shown."""
        return str(self.machine_combo.currentData())

    def current_snapshot(self) -> SystemSnapshot | None:
        """The machine the grid is about (None before the probe answers)."""
        key = self.current_machine_key()
        if key == THIS_MACHINE:
            return self._snapshot
        for machine in self.machines():
            if machine.id == key:
                return machine_snapshot(machine)
        return None

    def select_machine(self, key: str) -> None:
        """Show "this" machine or a catalogued one by id."""
        index = self.machine_combo.findData(key)
        if index < 0:
            raise KeyError(key)
        self.machine_combo.setCurrentIndex(index)

    def _on_machine_combo_changed(self, _index: int) -> None:
        self._show_machine()

    def _show_machine(self) -> None:
        snapshot = self.current_snapshot()
        if snapshot is None:
            self.device_model.set_rows(())
            self.grid_model.clear()
            return
        try:
            budgets = self._budgets(snapshot)
        except Exception as exc:  # noqa: BLE001 - boundary: show the machine even so
            budgets = ()
            self._show_error(f"The device budgets could not be computed: {describe(exc)}")
        self.device_model.set_rows(
            device_rows(snapshot, budgets, can_measure=self._can_measure())
        )
        self._fit_device_view()
        self._sync_measure_action()
        self.machine_summary.setText(machine_summary(snapshot))
        problems = snapshot.problems
        if problems:
            self.problems_label.setText(
                "<b>Problems met while reading this machine:</b><ul>"
                + "".join(
                    f"<li>{_html(p.message)}{' — ' + _html(p.hint) if p.hint else ''}</li>"
                    for p in problems
                )
                + "</ul>"
            )
            self.problems_label.show()
        else:
            self.problems_label.hide()
        self._fill_device_combo(snapshot)
        for action in (self.export_json_action, self.export_md_action, self.export_png_action):
            action.setEnabled(True)
        self.refresh_grid()

    def _fit_device_view(self) -> None:
        # As tall as its rows (a GPU server may list eight), so no empty space and no scroll bar.
        view = self.device_view
        view.resizeRowsToContents()
        rows = sum(view.rowHeight(r) for r in range(self.device_model.rowCount()))
        height = view.horizontalHeader().height() + rows + 2 * view.frameWidth() + 2
        view.setFixedHeight(min(height, 260))

    def _fill_device_combo(self, snapshot: SystemSnapshot) -> None:
        wanted = self.device_combo.currentData() or "auto"
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        self.device_combo.addItem("Auto", "auto")
        self.device_combo.addItem("CPU only", "cpu")
        for gpu in snapshot.gpus:
            name = f"GPU {gpu.index}: {gpu.name or 'unnamed'}"
            self.device_combo.addItem(name, f"gpu:{gpu.index}")
        found = self.device_combo.findData(wanted)
        self.device_combo.setCurrentIndex(max(0, found))
        self.device_combo.blockSignals(False)

    # --- estimates ----------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The LFM2 catalog (loaded on first use)."""
        if self._catalog is None:
            from llmcheck.catalog import load_catalog

            self._catalog = load_catalog()
        return self._catalog

    def run_config(self) -> RunConfig:
        """The settings chosen in the controls."""
        from llmcheck.estimate import KvType, RunConfig

        return RunConfig(
            context_tokens=self.context_control.context_tokens(),
            kv_type=KvType(self.kv_combo.currentData()),
            flash_attn=self.fa_check.isChecked(),
            device=str(self.device_combo.currentData() or "auto"),
        )

    def _budgets(self, snapshot: SystemSnapshot) -> tuple[DeviceBudget, ...]:
        from llmcheck.estimate import budgets

        return tuple(budgets(snapshot))

    def _grid_key(self) -> GridKey:
        machine = self.current_machine_key()
        return (machine, self._generation if machine == THIS_MACHINE else 0, self.run_config())

    def current_fits(self) -> tuple[Fit, ...]:
        """The estimator's answers for the machine and settings shown (computed now if needed)."""
        snapshot = self.current_snapshot()
        if snapshot is None:
            return ()
        from llmcheck.estimate import estimate_all

        key = self._grid_key()
        fits = self._fit_cache.get(key)
        if fits is None:
            fits = tuple(estimate_all(self.catalog(), snapshot, key[2]))
            self._fit_cache[key] = fits
        return fits

    def ordered_variants(self) -> tuple[ModelVariant, ...]:
        """The catalog's variants grouped by family (first-seen order), text before vision,
        then by size; catalog order among equals."""
        variants = self.catalog().variants
        families = list(dict.fromkeys(v.family for v in variants))
        return tuple(
            sorted(
                variants,
                key=lambda v: (families.index(v.family), v.kind != "text", size_key(v.size_label)),
            )
        )

    def quant_columns(self) -> tuple[str, ...]:
        """The quantizations any variant is published in, in the catalog's order."""
        published = {q for v in self.catalog().variants for q in v.quants}
        return tuple(q.name for q in self.catalog().quants if q.name in published)

    def refresh_grid(self) -> None:
        """Show the grid for the current settings: from the cache, or computed off-thread."""
        snapshot = self.current_snapshot()
        if snapshot is None:
            return
        try:
            variants = self.ordered_variants()
            quants = self.quant_columns()
        except (OSError, ValueError, KeyError) as exc:
            self._show_error(f"The model catalog could not be read: {exc}")
            self._show_fits((), (), ())
            return
        key = self._grid_key()
        self._save_settings()
        if key in self._fit_cache:
            self._show_fits(variants, quants, self._fit_cache[key])
        elif key in self._fit_failures:
            self._show_error(
                f"The estimator failed for this machine and these settings: "
                f"{self._fit_failures[key]}. Please report it with `llmcheck --json` output."
            )
            self._show_fits(variants, quants, ())
        elif self._grid_in_flight is None:
            self._start_grid_worker(key, snapshot)
        # else: when the computation in flight ends, refresh_grid runs again for the settings
        # shown then, so a slider drag computes only the first and the last step.

    def _start_grid_worker(
        self, key: GridKey, snapshot: SystemSnapshot, *, quiet: bool = False
    ) -> None:
        from llmcheck.estimate import estimate_all

        catalog = self.catalog()
        config = key[2]
        worker = ComputeWorker(lambda: tuple(estimate_all(catalog, snapshot, config)), key)
        worker.signals.done.connect(self._on_grid_worker_done)
        worker.signals.failed.connect(self._on_grid_worker_failed)
        self._probe_signals.append(worker.signals)
        self._grid_in_flight = key
        if not quiet:
            self.grid_status.setText(
                f"Computing the verdicts for {context_label(config.context_tokens)} context…"
            )
        QThreadPool.globalInstance().start(worker)

    def _on_grid_worker_done(self, key: GridKey, fits: tuple[Fit, ...]) -> None:
        self._forget_signals()
        self._grid_in_flight = None
        self._fit_cache[key] = fits
        self._after_grid_worker(key)

    def _after_grid_worker(self, key: GridKey) -> None:
        # Redraw only when the grid is waiting: a finished prefetch must not reset the model
        # under the user's (or a test's) feet.
        if self.current_snapshot() is not None:
            current = self._grid_key()
            if current == key or (
                current not in self._fit_cache and current not in self._fit_failures
            ):
                self.refresh_grid()
        if self._grid_in_flight is None:
            self._prefetch_neighbours()

    def _prefetch_neighbours(self) -> None:
        # The slider usually moves one step: compute the steps either side while the user
        # looks, so the next move shows at once. One at a time; a user's request comes first.
        snapshot = self.current_snapshot()
        if snapshot is None:
            return
        machine, generation, config = self._grid_key()
        step = CONTEXT_STEPS.index(snap_context(config.context_tokens))
        for neighbour in (step + 1, step - 1):
            if not 0 <= neighbour < len(CONTEXT_STEPS):
                continue
            try:
                other = replace(config, context_tokens=CONTEXT_STEPS[neighbour])
            except ValueError:
                continue
            key = (machine, generation, other)
            if key not in self._fit_cache and key not in self._fit_failures:
                self._start_grid_worker(key, snapshot, quiet=True)
                return

    def _on_grid_worker_failed(self, key: GridKey, message: str) -> None:
        self._forget_signals()
        self._grid_in_flight = None
        self._fit_failures[key] = message
        self._after_grid_worker(key)

    def _show_fits(
        self, variants: Sequence[ModelVariant], quants: Sequence[str], fits: Sequence[Fit]
    ) -> None:
        current = self.grid_view.currentIndex()
        where = (current.row(), current.column()) if current.isValid() else (0, 0)
        self.grid_model.set_fits(variants, quants, fits if fits else ())
        self.grid_status.setText("")
        if fits and self.grid_model.rowCount() and self.grid_model.columnCount():
            row = min(where[0], self.grid_model.rowCount() - 1)
            column = min(where[1], self.grid_model.columnCount() - 1)
            if self.grid_model.fit(row, column) is None:
                # Land on a cell with an answer: the row's first published quantization.
                column = next(
                    (c for c in range(self.grid_model.columnCount())
                     if self.grid_model.fit(row, c) is not None),
                    column,
                )
            target = self.grid_model.index(row, column)
            if target == self.grid_view.currentIndex():
                # The grid kept its shape (dataChanged, no reset), so Qt sends no currentChanged:
                # refresh what shows the current cell's fit ourselves.
                self._on_grid_current_changed(target, target)
            else:
                self.grid_view.setCurrentIndex(target)
        else:
            self._show_details(QModelIndex())
        self.grid_updated.emit()
        if self._announce_probe:
            self._announce_probe = False
            self.probe_finished.emit()
        if self._announce_measure:
            self._announce_measure = False
            self.bandwidth_measured.emit()

    def _on_setting_changed(self, *_args: object) -> None:
        self.refresh_grid()

    def _on_kv_combo_changed(self, _index: int) -> None:
        self._sync_flash_attention()
        self.refresh_grid()

    def _sync_flash_attention(self) -> None:
        # Whether this KV type works without flash attention is RunConfig's rule; ask it.
        from llmcheck.estimate import KvType, RunConfig

        try:
            RunConfig(kv_type=KvType(self.kv_combo.currentData()), flash_attn=False)
        except ValueError as exc:
            self.fa_check.blockSignals(True)
            self.fa_check.setChecked(True)
            self.fa_check.blockSignals(False)
            self.fa_check.setEnabled(False)
            self.fa_check.setToolTip(f"Needed: {exc}")
        else:
            self.fa_check.setEnabled(True)
            self.fa_check.setToolTip("llama.cpp --flash-attn")

    # --- details ------------------------------------------------------------------------

    def _on_grid_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_details(current)
        if self.tabs.currentIndex() == 1:
            self._show_reverse()

    def _on_tabs_current_changed(self, index: int) -> None:
        if index == 1:
            self._show_reverse()

    def selected_fit(self) -> Fit | None:
        """The fit of the current grid cell."""
        index = self.grid_view.currentIndex()
        if not index.isValid():
            return None
        return self.grid_model.fit(index.row(), index.column())

    def _show_details(self, index: QModelIndex) -> None:
        for bar in self.bars:
            self.bars_box.removeWidget(bar)
            bar.hide()
            bar.deleteLater()
        self.bars = []
        fit = self.grid_model.fit(index.row(), index.column()) if index.isValid() else None
        if fit is None:
            self.details_title.setText("Choose a cell of the grid to see its details.")
            for key, label in self.detail_labels.items():
                wide = key in _WIDE_DETAILS
                label.setText(f"<b>{label.accessibleName()}:</b> —" if wide else "—")
                label.setToolTip("")
            self.command_edit.clear()
            self.copy_button.setEnabled(False)
            self.assumptions_label.clear()
            return
        variant = self.grid_model.variant(index.row())
        style = verdict_style(fit.verdict)
        config = fit.config
        self.details_title.setText(
            f"{variant.name} · {fit.quant} · {context_label(config.context_tokens)} context"
        )
        for use in fit.devices:
            bar = MemoryBar()
            terms = use.terms
            bar.set_data(
                use.name or use.device,
                (
                    # The CPU's repacked copies (AMX / CPU_REPACK) are weights to the eye.
                    BarSegment(label="weights",
                               size_bytes=terms.weights_bytes + terms.repack_bytes,
                               colour=TERM_COLOURS["weights"]),
                    BarSegment(label="KV cache", size_bytes=terms.kv_cache_bytes,
                               colour=TERM_COLOURS["kv_cache"]),
                    BarSegment(label="conv state", size_bytes=terms.recurrent_state_bytes,
                               colour=TERM_COLOURS["recurrent_state"]),
                    BarSegment(label="compute", size_bytes=terms.compute_bytes,
                               colour=TERM_COLOURS["compute"]),
                    BarSegment(label="output", size_bytes=terms.output_bytes,
                               colour=TERM_COLOURS["output"]),
                    BarSegment(label="overhead", size_bytes=terms.overhead_bytes,
                               colour=TERM_COLOURS["overhead"]),
                ),
                use.budget_bytes,
            )
            self.bars_box.addWidget(bar)
            self.bars.append(bar)
        snapshot = self.current_snapshot()
        best_text = "unknown"
        basis_note = ""
        if snapshot is not None:
            from llmcheck.estimate import best_quant

            try:
                best = best_quant(variant, snapshot, config)
            except Exception as exc:  # noqa: BLE001 - boundary: the rest of the details stand
                best_text = f"unknown ({describe(exc)})"
            else:
                best_text = self._best_quant_words(index.row(), best)
            try:
                basis_note = bandwidth_note(fit, self._budgets(snapshot), snapshot)
            except Exception:  # noqa: BLE001 - boundary: the basis stands without its source
                basis_note = ""
        labels = self.detail_labels
        unknown = str(fit.verdict) == "unknown"
        if unknown:
            # No budget to judge against: "none fits" would be a verdict llmcheck did not reach.
            best_text = "unknown: the memory budget could not be read"
        labels["verdict"].setText(style.badge)
        labels["memory"].setText(format_bytes(fit.total_bytes))
        if fit.max_context_tokens is not None:
            max_context = f"{fit.max_context_tokens:,} tokens"
        elif unknown:
            max_context = "unknown: the memory budget could not be read"
        else:
            max_context = "none: even the smallest context does not fit"
        labels["max_context"].setText(max_context)
        labels["best_quant"].setText(best_text)
        labels["download"].setText(format_bytes(fit.file_size_bytes))
        labels["speed"].setText(_speed_long(fit))
        basis = speed_basis(fit, variant, basis_note)
        labels["basis"].setText(f"<b>Why this speed:</b> {_html(basis)}")
        labels["basis"].setToolTip(
            f"The estimator's basis: {fit.speed.basis}" if fit.speed is not None else ""
        )
        labels["placement"].setText(placement_words(fit, variant.architecture.n_layer + 1))
        labels["reason"].setText(fit.reason or "—")
        self.command_edit.setText(fit.llama_cpp_command)
        self.command_edit.setCursorPosition(0)
        self.copy_button.setEnabled(bool(fit.llama_cpp_command))
        self.assumptions_label.setText(
            "Assumptions: " + "; ".join(fit.assumptions) if fit.assumptions else ""
        )

    def _best_quant_words(self, row: int, best: str | None) -> str:
        """The recommendation, saying whether it runs great here or is only the best that fits."""
        if best is None:
            return "none: no quantization fits here with these settings"
        column = next(
            (c for c in range(self.grid_model.columnCount()) if self.grid_model.quant(c) == best),
            None,
        )
        fit = None if column is None else self.grid_model.fit(row, column)
        if fit is not None and str(fit.verdict) == "tight":
            return f"{best} is only tight: nothing runs great here, and it is the best that fits"
        return f"{best}: the best quality that runs great here (nothing above Q8_0 looks better)"

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.command_edit.text())
        self.status_label.setText("Copied the llama.cpp command to the clipboard.")

    def _show_reverse(self) -> None:
        index = self.grid_view.currentIndex()
        if not index.isValid() or not self.grid_model.rowCount():
            self.answer_model.set_answers(())
            return
        variant = self.grid_model.variant(index.row())
        config = self.run_config()
        key = (variant.id, config)
        title = (
            f"Which catalogued machines run {variant.name} at "
            f"{context_label(config.context_tokens)} context (best quantization for each):"
        )
        if key in self._answer_cache:
            self.reverse_title.setText(title)
            self.answer_model.set_answers(self._answer_cache[key])
            self.answers_updated.emit()
        elif key in self._answer_failures:
            self.reverse_title.setText(f"⚠ The estimator failed: {self._answer_failures[key]}")
            self.answer_model.set_answers(())
            self.answers_updated.emit()
        elif self._answers_in_flight is None:
            self.reverse_title.setText(f"{title}\nComputing…")
            machines = self.machines()
            worker = ComputeWorker(lambda: reverse_answers(variant, machines, config), key)
            worker.signals.done.connect(self._on_answers_worker_done)
            worker.signals.failed.connect(self._on_answers_worker_failed)
            self._probe_signals.append(worker.signals)
            self._answers_in_flight = key
            QThreadPool.globalInstance().start(worker)

    def _on_answers_worker_done(
        self, key: tuple[str, RunConfig], answers: tuple[MachineAnswer, ...]
    ) -> None:
        self._forget_signals()
        self._answers_in_flight = None
        self._answer_cache[key] = answers
        if self.tabs.currentIndex() == 1:
            self._show_reverse()

    def _on_answers_worker_failed(self, key: tuple[str, RunConfig], message: str) -> None:
        self._forget_signals()
        self._answers_in_flight = None
        self._answer_failures[key] = message
        if self.tabs.currentIndex() == 1:
            self._show_reverse()

    # --- export -------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """The report of the machine and settings shown, as ``llmcheck --json`` builds it."""
        from llmcheck.report import build_report

        snapshot = self.current_snapshot()
        if snapshot is None:
            raise ValueError("no machine has been read yet")
        return build_report(snapshot, self.current_fits(), self.run_config(),
                            catalog=self.catalog())

    def export_json(self) -> Path | None:
        """Ask where, then write the report JSON there."""
        path = SaveFileDialog.ask(self, "Export report as JSON", "llmcheck-report.json",
                                  "JSON (*.json)")
        if path is None:
            return None
        return self._write(path, lambda p: p.write_text(
            json.dumps(self.report(), indent=2) + "\n", encoding="utf-8"))

    def export_markdown(self) -> Path | None:
        """Ask where, then write the report as Markdown there."""
        from llmcheck.gui.export import report_markdown

        path = SaveFileDialog.ask(self, "Export report as Markdown", "llmcheck-report.md",
                                  "Markdown (*.md)")
        if path is None:
            return None
        title = self.machine_combo.currentText()
        return self._write(path, lambda p: p.write_text(
            report_markdown(self.report(), title=title), encoding="utf-8"))

    def export_png(self) -> Path | None:
        """Ask where, then save a picture of the window there."""
        path = SaveFileDialog.ask(self, "Save window as PNG", "llmcheck.png", "PNG image (*.png)")
        if path is None:
            return None

        def save(target: Path) -> None:
            if not self.grab().save(str(target), "PNG"):
                raise OSError(f"Qt could not write a PNG to {target}")

        return self._write(path, save)

    def _write(self, path: Path, write: Callable[[Path], object]) -> Path | None:
        try:
            write(path)
        except (OSError, ValueError) as exc:
            self.status_label.setText(f"⚠ Could not write {path}: {exc}")
            return None
        self.status_label.setText(f"Saved {path}")
        return path

    def show_about(self) -> AboutDialog:
        """Open the About box (non-modal, so tests can inspect it)."""
        notes: list[str] = []
        try:
            catalog = self.catalog()
            notes.append(
                f"{len(catalog.variants)} LFM2 / LFM2.5 variants and {len(catalog.quants)}"
                " quantizations in llmcheck's catalog"
            )
        except (OSError, ValueError) as exc:
            notes.append(f"The model catalog could not be read: {exc}")
        notes.extend(data_source_notes())
        dialog = AboutDialog(tuple(notes), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # --- settings and lifetime --------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self._settings
        self.context_control.set_context(_int_setting(s.value("context_tokens"), 4096))
        kv_index = self.kv_combo.findData(str(s.value("kv_type", "f16")))
        self.kv_combo.setCurrentIndex(max(0, kv_index))
        self.fa_check.setChecked(str(s.value("flash_attn", "true")).lower() == "true")
        self._sync_flash_attention()
        geometry = s.value("geometry")
        restored = isinstance(geometry, QByteArray | bytes) and self.restoreGeometry(geometry)
        if not restored:
            self.resize(1280, 820)
        splitter = s.value("splitter")
        if isinstance(splitter, QByteArray | bytes) and self.splitter.restoreState(splitter):
            self._splitter_placed = True  # the user's own layout

    def _save_settings(self) -> None:
        s = self._settings
        s.setValue("context_tokens", self.context_control.context_tokens())
        s.setValue("kv_type", str(self.kv_combo.currentData()))
        s.setValue("flash_attn", "true" if self.fa_check.isChecked() else "false")

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_settings()
        self._settings.setValue("geometry", self.saveGeometry())
        self._settings.setValue("splitter", self.splitter.saveState())
        self._settings.sync()
        super().closeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.PaletteChange:
            self.grid_view.viewport().update()
        return super().event(event)


# --- pure helpers the window uses (no Qt state) -------------------------------------------


def device_rows(
    snapshot: SystemSnapshot, budgets: Sequence[DeviceBudget], *, can_measure: bool = False
) -> tuple[DeviceRow, ...]:
    """One row per GPU / unified pool and one for RAM, with each number's source.

    The usable budget and any bandwidth the probe could not read come from the estimator's
    ``budgets()``, so the panel shows exactly what the verdicts were judged against.
    ``can_measure``: the RAM row's tooltip points at "Measure memory bandwidth".
    """
    rows: list[DeviceRow] = []
    for gpu in snapshot.gpus:
        unified = gpu.memory_kind is MemoryKind.UNIFIED
        mine = [b for b in budgets if b.gpu_index == gpu.index and b.kind != "cpu"]
        budget = mine[0] if mine else None
        bandwidth = gpu.bandwidth_gb_s
        bw_source: str | None = gpu.bandwidth_source
        if bandwidth is None and budget is not None:
            bandwidth, bw_source = budget.bandwidth_gb_s, budget.bandwidth_source
        details = [
            f"{gpu.name or 'GPU'} ({gpu.vendor}, {gpu.memory_kind} memory)",
            f"Total {format_bytes(gpu.total_bytes)}, free {format_bytes(gpu.free_bytes)}: "
            f"from {gpu.memory_source}",
        ]
        if gpu.working_set_cap_bytes is not None:
            details.append(
                f"GPU working-set cap {format_bytes(gpu.working_set_cap_bytes)}: from "
                f"{gpu.working_set_cap_source or 'unknown'}"
            )
        details.extend(_budget_words(b) for b in mine)
        if not mine:
            details.append("llmcheck does not run models on this device")
        details.append(bandwidth_words(bandwidth, bw_source))
        if gpu.driver_version:
            details.append(f"Driver {gpu.driver_version}")
        rows.append(
            DeviceRow(
                name=f"GPU {gpu.index}: {gpu.name or 'unnamed'}",
                kind="unified pool" if unified else str(gpu.memory_kind),
                total_bytes=gpu.total_bytes,
                free_bytes=gpu.free_bytes,
                budget_bytes=None if budget is None else budget.budget_bytes,
                bandwidth_gb_s=bandwidth,
                details="\n".join(details),
            )
        )
    memory = snapshot.memory
    budget = next((b for b in budgets if b.kind == "cpu"), None)
    bandwidth = memory.bandwidth_gb_s
    bw_source = memory.bandwidth_source
    low, high = memory.bandwidth_low_gb_s, memory.bandwidth_high_gb_s
    if bandwidth is None and budget is not None:
        bandwidth, bw_source = budget.bandwidth_gb_s, budget.bandwidth_source
        low = high = None
    details = [
        f"Total {format_bytes(memory.total_bytes)}, available "
        f"{format_bytes(memory.available_bytes)}: from {memory.source}",
    ]
    if memory.limit_bytes is not None:
        details.append(
            f"Container limit {format_bytes(memory.limit_bytes)} "
            f"({format_bytes(memory.limit_used_bytes)} used): from "
            f"{memory.limit_source or 'unknown'}"
        )
    if budget is not None:
        details.append(_budget_words(budget))
    details.append(bandwidth_words(bandwidth, bw_source, low, high, ram=True))
    if can_measure and str(bw_source) != Source.MEASURED:
        details.append(
            "Machine ▸ Measure memory bandwidth reads this machine's own (under a second)."
        )
    rows.append(
        DeviceRow(
            name=f"RAM ({snapshot.cpu.brand})" if snapshot.cpu.brand else "RAM",
            kind="system memory",
            total_bytes=memory.total_bytes,
            free_bytes=memory.usable_bytes,
            budget_bytes=None if budget is None else budget.budget_bytes,
            bandwidth_gb_s=bandwidth,
            bandwidth_low_gb_s=low,
            bandwidth_high_gb_s=high,
            bandwidth_measured=str(bw_source) == Source.MEASURED,
            details="\n".join(details),
        )
    )
    return tuple(rows)


# Where a bandwidth came from, in words (Source values; anything else is shown as it is).
_BANDWIDTH_SOURCES: dict[str, str] = {
    Source.TABLE: "from llmcheck's table",
    Source.MEASURED: "measured on this machine (buffers copied on every core)",
    Source.COMPUTED: "computed from the memory modules' width and speed (SMBIOS)",
    Source.DEFAULT: "from a documented default",
    Source.NVML: "from the NVIDIA driver (NVML)",
    Source.SNAPSHOT: "from the snapshot file",
}


def _source_words(source: str | None, *, ram: bool) -> str:
    """Where a bandwidth came from: "from llmcheck's table", "measured on this machine" ..."""
    if str(source) == Source.COMPUTED and not ram:
        return "computed from its memory bus width and clock"
    if str(source) == Source.TABLE and ram:
        return "from llmcheck's table for this class of CPU (not this machine's own DIMMs)"
    return _BANDWIDTH_SOURCES.get(str(source), f"from {source or 'an unknown source'}")


def bandwidth_words(
    gb_s: float | None,
    source: str | None,
    low_gb_s: float | None = None,
    high_gb_s: float | None = None,
    *,
    ram: bool = False,
) -> str:
    """A device's bandwidth for its tooltip: the value, where it came from, and its range."""
    if gb_s is None:
        return "Bandwidth: unknown (no source for it), so no speed estimate"
    text = f"Bandwidth: {gb_s:.0f} GB/s, {_source_words(source, ram=ram)}"
    if low_gb_s is not None and high_gb_s is not None:
        text += f"; likely {low_gb_s:.0f}-{high_gb_s:.0f} GB/s"
    return text


MEASURE_FAILED_CODE = "bandwidth_measure_failed"


def with_measured_bandwidth(snapshot: SystemSnapshot, measure: MeasureBandwidth) -> SystemSnapshot:
    """``snapshot`` with its RAM bandwidth measured (source "measured"), as the probe's
    ``--measure-bandwidth`` does. A measurement that fails keeps the old value and adds the
    probe's Issue, replacing the one from an earlier failed try.
    """
    from llmcheck.probe.bandwidth import apply_bandwidth

    usable = snapshot.memory.usable_bytes
    memory, issues = apply_bandwidth(
        snapshot.memory, snapshot.cpu, system=snapshot.os.system, measure=lambda: measure(usable)
    )
    kept = tuple(p for p in snapshot.problems if p.code != MEASURE_FAILED_CODE)
    return replace(snapshot, memory=memory, problems=kept + issues)


def _budget_words(budget: DeviceBudget) -> str:
    return (
        f"Usable budget for {budget.device} ({budget.backend}): "
        f"{format_bytes(budget.budget_bytes)}, after a margin of "
        f"{format_bytes(budget.margin_bytes)}: from {budget.budget_source}"
    )


def data_source_notes() -> tuple[str, ...]:
    """Each shipped data file's own opening comment: where its numbers come from."""
    from llmcheck.resources import resource_path

    notes: list[str] = []
    files = [resource_path("machines.toml")]
    catalog_dir = resource_path("catalog")
    if catalog_dir.is_dir():
        files = sorted(
            (f for f in catalog_dir.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name
        ) + files
    for file in files:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        comment: list[str] = []
        for line in lines:
            if not line.startswith("#"):
                break
            text = line.lstrip("#").strip()
            if not text:
                break
            comment.append(text)
        if comment:
            notes.append(f"{file.name}: {' '.join(comment)}")
    return tuple(notes)


def machine_summary(snapshot: SystemSnapshot) -> str:
    """One line: OS, CPU and where the numbers came from."""
    parts = [snapshot.os.system]
    if snapshot.os.in_container:
        parts.append("in a container")
    if snapshot.os.is_wsl:
        parts.append("WSL")
    if snapshot.cpu.brand:
        parts.append(snapshot.cpu.brand)
    if snapshot.cpu.physical_cores:
        parts.append(f"{snapshot.cpu.physical_cores} cores")
    if str(snapshot.source) == "table":
        parts.append("numbers from llmcheck's device table")
    return " · ".join(parts)


def reverse_answers(
    variant: ModelVariant, machines: Sequence[CatalogMachine], config: RunConfig
) -> tuple[MachineAnswer, ...]:
    """For each catalogued machine, the estimator's best answer for one variant.

    The estimator's recommended quantization (``best_quant``) is shown where it has one; where
    nothing fits, the smallest published quantization shows how far off it is.
    """
    from llmcheck.estimate import best_quant, estimate

    answers: list[MachineAnswer] = []
    for machine in machines:
        snapshot = machine_snapshot(machine)
        fit: Fit | None = None
        try:
            best = best_quant(variant, snapshot, config)
            if best is not None:
                fit = estimate(variant, best, config, snapshot)
            elif variant.quants:
                fits = [estimate(variant, q, config, snapshot) for q in variant.quants]
                fit = min(fits, key=lambda f: f.total_bytes)
        except Exception:  # noqa: BLE001 - one machine's fault must not hide the others
            fit = None
        answers.append(MachineAnswer(machine=machine, fit=fit))
    answers.sort(key=lambda a: (_VERDICT_RANK.get(str(a.fit.verdict) if a.fit else "unknown", 2),
                                a.machine.device_memory_bytes))
    return tuple(answers)


def size_key(size_label: str) -> float:
    """Parameters from a size label ("350M", "1.2B", "8B-A1B"), for ordering; inf if unreadable."""
    match = re.match(r"\s*(\d+(?:\.\d+)?)\s*([MB])", size_label, re.IGNORECASE)
    if match is None:
        return math.inf
    return float(match.group(1)) * (1e6 if match.group(2).upper() == "M" else 1e9)


def bandwidth_note(fit: Fit, budgets: Sequence[DeviceBudget], snapshot: SystemSnapshot) -> str:
    """Which device's bandwidth sets the speed, and where that number came from."""
    speed = fit.speed
    if speed is None:
        return ""
    used = {use.device for use in fit.devices if use.layers > 0 or use.device != "cpu"}
    budget = next(
        (b for b in budgets if b.device in used and b.bandwidth_gb_s == speed.bandwidth_gb_s),
        None,
    )
    if budget is None:
        return ""
    ram = budget.kind == "cpu"
    source = _source_words(budget.bandwidth_source, ram=ram)
    if ram and str(budget.bandwidth_source) == Source.TABLE:
        source = "from llmcheck's table for this class of CPU"
    note = f"RAM bandwidth {source}" if ram else f"{budget.name or budget.device}, {source}"
    memory = snapshot.memory
    if (
        budget.kind == "cpu"
        and memory.bandwidth_low_gb_s is not None
        and memory.bandwidth_high_gb_s is not None
    ):
        note += f", likely {memory.bandwidth_low_gb_s:.0f}-{memory.bandwidth_high_gb_s:.0f} GB/s"
    return note


def speed_basis(fit: Fit, variant: ModelVariant, bandwidth_note: str = "") -> str:
    """In plain words, what the speed estimate rests on: the bytes read per generated token."""
    speed = fit.speed
    if speed is None and str(fit.placement) == "none":
        return "no estimate: it is not known where the model would run."
    if speed is None:
        return "no estimate: the memory bandwidth of the device that would run it is unknown."
    from llmcheck.estimate import decode_bytes_per_token

    config = fit.config
    weights, kv = decode_bytes_per_token(
        variant, fit.quant, config.context_tokens, config.kv_type
    )
    experts = " (only the active MoE experts)" if variant.architecture.is_moe else ""
    where = f": {bandwidth_note}" if bandwidth_note else ""
    text = (
        f"each generated token reads {format_bytes(weights)} of weights{experts} plus the KV"
        f" cache, up to {format_bytes(kv)} when all {context_label(config.context_tokens)}"
        " tokens of context are filled (the fast end assumes an empty cache, the slow end a"
        f" full one), at {speed.bandwidth_gb_s:.0f} GB/s{where}."
    )
    middle = math.sqrt(speed.low_tokens_per_second * speed.high_tokens_per_second)
    if middle > 0 and speed.prompt_high_tokens_per_second:
        low = speed.prompt_low_tokens_per_second / middle
        high = speed.prompt_high_tokens_per_second / middle
        text += f" Reading the prompt runs about {low:.0f}-{high:.0f}x faster than that."
    return text


def placement_words(fit: Fit, layers: int) -> str:
    """Where the layers go, in words ("split: 20 of 25 layers on the GPU")."""
    where = {
        "gpu": "on the GPU",
        "unified": "in unified memory",
        "cpu": "on the CPU",
        "split": "split between GPU and CPU",
        "none": "unknown" if str(fit.verdict) == "unknown" else "nowhere: it does not fit",
    }.get(str(fit.placement), str(fit.placement))
    if str(fit.placement) == "split" and fit.gpu_layers is not None:
        where += f": {fit.gpu_layers} of {layers} layers on the GPU"
    return where


def _speed_long(fit: Fit) -> str:
    speed = fit.speed
    if speed is None:
        return "unknown"
    text = speed_text(fit) + " generating"
    if speed.prompt_low_tokens_per_second is not None and speed.prompt_high_tokens_per_second:
        text += (
            f", {speed.prompt_low_tokens_per_second:.0f}-"
            f"{speed.prompt_high_tokens_per_second:.0f} tok/s reading the prompt"
        )
    return text


def _int_setting(value: object, default: int) -> int:
    """A QSettings value as a positive int (an INI file gives str, a registry int), else default."""
    if isinstance(value, int | str):
        try:
            number = int(value)
        except ValueError:  # not a number, or more digits than int() takes
            return default
        return number if number > 0 else default
    return default


def describe(exc: BaseException) -> str:
    """An exception in a few words: its message, or its type when it has none."""
    return str(exc).strip() or type(exc).__name__


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
