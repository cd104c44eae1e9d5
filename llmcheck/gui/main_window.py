"""The main window: thin Qt over :class:`llmcheck.session.Session`.

The session holds the machine, the settings and the answers, and hands out the jobs; the window
runs those jobs on its own QThreadPool (workers.py) and shows their results in its panels
(machine, settings, grid, details, which machines run it). The words come from
``llmcheck.render.sentences``; exports go through ``llmcheck.atomic``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QModelIndex,
    QObject,
    QRect,
    QSettings,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QMainWindow, QSplitter, QVBoxLayout, QWidget

from llmcheck.gui import machine_actions, saving
from llmcheck.gui.bandwidth_task import BandwidthTask
from llmcheck.gui.detail_tabs import DetailTabs
from llmcheck.gui.dialogs import AboutDialog, about_notes
from llmcheck.gui.grid_panel import AnswerBanner, GridPanel, give_grid_room
from llmcheck.gui.local_files import LocalFiles, gguf_paths
from llmcheck.gui.machine_panel import MachinePanel
from llmcheck.gui.menus import build_menus
from llmcheck.gui.settings_panel import SettingsPanel
from llmcheck.gui.status_strip import StatusStrip
from llmcheck.gui.widgets import CONTEXT_STEPS, snap_context
from llmcheck.gui.workers import ComputeWorker, ProbeSignals, ProbeWorker
from llmcheck.machines import CatalogMachine, Estimator
from llmcheck.render import sentences
from llmcheck.session import Session
from llmcheck.snapshot import Source, SystemSnapshot

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from llmcheck.catalog import Catalog
    from llmcheck.estimate import Fit, RunConfig
    from llmcheck.gui.custom_machine import CustomMachineDialog
    from llmcheck.gui.machine_picker import MachinePickerDialog
    from llmcheck.probe.bandwidth_measure import BandwidthMeasurement
    from llmcheck.recommend import Alternative

# How long to wait before telling the user the probe seems stuck (it keeps running).
PROBE_PATIENCE_S = 45.0
# The narrowest the details panel gets when the grid is first given room for all its columns.
DETAILS_MIN_WIDTH_PX = 340
# How long closing waits for the window's workers (a probe has its own 20 s timeout); a worker
# still running after that finds its window gone and drops its answer (workers._report).
CLOSE_WAIT_S = 30.0
# The window's size on first start, unless the screen is smaller: then the screen's available
# area (never larger; a restored geometry is clamped the same way).
DEFAULT_SIZE = QSize(1280, 820)
WINDOW_TITLE = "Which LFM2 models run here"
# The alternatives (llmcheck.recommend.alternatives) that keep the window's settings.
SAME_SETTINGS_CHANGES = frozenset({"smaller quant", "smaller model"})


def available_geometry(widget: QWidget) -> QRect:
    """The screen area a window may take (without panels and docks): tests inject a small one."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 820)


def _default_probe() -> SystemSnapshot:
    from llmcheck.probe import probe_system

    return probe_system()


def describe(exc: BaseException) -> str:
    """An exception in a few words: its message, or its type when it has none."""
    return str(exc).strip() or type(exc).__name__


class MainWindow(QMainWindow):
    """llmcheck's window. Collaborators are arguments so tests can pass recorded machines.

    Args:
        probe: returns the machine (runs on a worker thread); default ``probe_system``.
        catalog: the LFM2 catalog; default ``load_catalog()`` on first use.
        settings: where to keep settings; default the user's QSettings for llmcheck.
        machines: the what-if catalog; default ``resources/machines.toml``.
        estimator: the estimator's entry points; default ``llmcheck.estimate``'s.
        start_probe: start probing at once (tests may start it themselves).
        measure_in_background: after the first paint, take this boot's cached RAM bandwidth or
            measure it (default: only with the real probe, so tests on recorded machines do not
            measure).
        bandwidth_copier: the RAM bandwidth measurement behind this boot's cache, run on a
            worker thread (tests: a fake); default the real one. The background measurement and
            Machine ▸ Measure memory bandwidth both go through it (``gui/bandwidth_task.py``).
        bandwidth_cache_dir: the cache folder (tests: a temporary one); default the user's.
    """

    probe_started = Signal()
    probe_finished = Signal()  # the snapshot is shown and the grid is filled
    probe_failed = Signal(str)
    grid_updated = Signal()  # the grid shows the answers for the current settings
    answers_updated = Signal()  # the "which machines run it" table is filled
    bandwidth_measured = Signal()  # the measurement is applied and the grid re-judged with it
    bandwidth_measure_failed = Signal(str)  # the measurement raised what the probe does not catch
    first_painted = Signal()
    file_answered = Signal()  # a model file of the user's is shown in the details
    file_failed = Signal(str)  # a model file got no answer (the status line says why)
    # Made by menus.build_menus.
    export_json_action: QAction
    export_md_action: QAction
    export_png_action: QAction
    measure_action: QAction

    def __init__(
        self,
        probe: Callable[[], SystemSnapshot] | None = None,
        catalog: Catalog | None = None,
        *,
        settings: QSettings | None = None,
        machines: Sequence[CatalogMachine] | None = None,
        estimator: Estimator | None = None,
        start_probe: bool = True,
        measure_in_background: bool | None = None,
        bandwidth_copier: Callable[[], BandwidthMeasurement] | None = None,
        bandwidth_cache_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = Session(
            estimator=estimator, catalog=catalog, machines=machines, context_steps=CONTEXT_STEPS
        )
        self._probe = probe or _default_probe
        self._measure_in_background = (
            probe is None if measure_in_background is None else measure_in_background
        )
        self._settings = settings if settings is not None else QSettings("llmcheck", "llmcheck")
        # The window's own pool: closing waits for its workers, and no other window shares it.
        self.pool = QThreadPool(self)
        self._signals: list[QObject] = []  # each worker's signals, alive until it reports
        self._announce_probe = False  # emit probe_finished when the grid is next shown
        self._announce_measure = False  # emit bandwidth_measured when the grid is next shown
        self._painted = False
        self._closed = False  # closed: start no more work (see closeEvent)
        self._splitter_placed = False  # the grid was given room once (or the user's layout kept)
        self._splitter_own = False  # the user moved the splitter (or it was restored)
        self.last_error: str | None = None
        self._select_best = True  # select the best pick when the next grid arrives
        self._pending_pick: tuple[str, str] | None = None  # a cell to select once shown
        # The application's display name ("llmcheck") is added by the desktop: not repeated.
        self.setWindowTitle(WINDOW_TITLE)
        self.setObjectName("llmcheck-main-window")
        self._build_panels()
        self.local_files = LocalFiles(self)
        self.bandwidth_task = BandwidthTask(
            self, measure=bandwidth_copier, directory=bandwidth_cache_dir
        )
        self.setAcceptDrops(True)
        build_menus(self)
        self._sync_measure_action()
        self._restore_settings()
        self._patience = QTimer(self)
        self._patience.setSingleShot(True)
        self._patience.setInterval(int(PROBE_PATIENCE_S * 1000))
        self._patience.timeout.connect(self._on_probe_patience_timeout)
        self.first_painted.connect(self._maybe_measure_in_background)
        self.probe_finished.connect(self._maybe_measure_in_background)
        self.probe_finished.connect(self._restore_custom_machine_once)
        self._custom_restored = False
        if start_probe:
            self.start_probe()

    def _build_panels(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)
        self.status = StatusStrip()
        self.machine_panel = MachinePanel()
        self.settings_panel = SettingsPanel()
        self.grid = GridPanel()
        self.banner = AnswerBanner()
        self.tabs = DetailTabs(self.session, self.grid, self.pool)
        self.details = self.tabs.details
        self.reverse = self.tabs.reverse
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.grid)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.splitterMoved.connect(self._on_splitter_moved)
        outer.addWidget(self.machine_panel)
        outer.addWidget(self.settings_panel)
        outer.addWidget(self.banner)
        outer.addWidget(self.splitter, 1)
        # The status line and "Probe again" sit at the bottom, out of the answer's way.
        outer.addWidget(self.status)
        self.setCentralWidget(central)
        # The parts tests, benchmarks and the About box reach for.
        self.status_label = self.status.label
        self.probe_button = self.status.probe_button
        self.machine_combo = self.machine_panel.combo
        self.device_model = self.machine_panel.device_model
        self.problems_label = self.machine_panel.problems_label
        self.context_control = self.settings_panel.context_control
        self.kv_combo = self.settings_panel.kv_combo
        self.fa_check = self.settings_panel.fa_check
        self.device_combo = self.settings_panel.device_combo
        self.grid_model = self.grid.model
        self.grid_view = self.grid.view
        self.grid_status = self.grid.status
        self.answer_model = self.reverse.model
        self.status.probe_button.clicked.connect(self.start_probe)
        self.machine_panel.combo.currentIndexChanged.connect(self._on_machine_combo_changed)
        self.settings_panel.changed.connect(self._on_settings_panel_changed)
        self.grid.current_changed.connect(self._on_grid_current_changed)
        self.grid.filled.connect(self._on_grid_filled)
        self.details.command_copied.connect(self._on_details_command_copied)
        self.tabs.answers_updated.connect(self.answers_updated)
        self.tabs.alternative_chosen.connect(self._on_alternative_chosen)
        self.banner.pick_chosen.connect(self._on_pick_chosen)
        self.banner.say("Reading this machine…")

    # --- workers ----------------------------------------------------------------------------

    def _run(
        self,
        worker: ProbeWorker | ComputeWorker,
        done: Callable[..., None],
        failed: Callable[..., None],
    ) -> None:
        signals = worker.signals

        window_ref = weakref.ref(self)  # a connection must not keep a deleted window alive

        def release(*_answer: object) -> None:
            # The worker's signals object is kept alive until its answer arrives, then dropped,
            # whichever callback (the window's or a helper's) took the answer.
            window = window_ref()
            if window is not None:
                window._signals = [s for s in window._signals if s is not signals]

        answered = signals.finished if isinstance(signals, ProbeSignals) else signals.done
        for signal, callback in ((answered, done), (signals.failed, failed)):
            signal.connect(callback)
            signal.connect(release)
        self._signals.append(signals)
        if not self._closed:
            self.pool.start(worker)

    # --- probing ----------------------------------------------------------------------------

    def start_probe(self) -> None:
        """Read the machine on a worker thread; the answer arrives as a signal."""
        ticket = self.session.begin_probe()
        self.status.busy(True)
        self.status.say("Reading this machine (memory, GPUs, CPU)…")
        self._sync_measure_action()
        self._patience.start()
        self.probe_started.emit()
        self._run(
            ProbeWorker(self._probe, ticket),
            self._on_probe_worker_finished,
            self._on_probe_worker_failed,
        )

    def _on_probe_worker_finished(self, ticket: int, snapshot: SystemSnapshot) -> None:
        if not self.session.accept_probe(ticket, snapshot):
            return  # an answer from a probe we stopped waiting for
        self._patience.stop()
        self.status.busy(self.session.measuring)
        self.last_error = None
        self.machine_panel.add_machines(self.session.machines())
        seconds = "" if snapshot.probe_seconds is None else f" in {snapshot.probe_seconds:.1f} s"
        source = "Read from a snapshot file" if snapshot.source is Source.SNAPSHOT else "Probed"
        self.status.say(f"{source}{seconds}. Hover any number to see where it came from.")
        if self.session.machines_error:
            self._show_error(self.session.machines_error)
        self._announce_probe = True
        self._select_best = True
        self._show_machine()  # probe_finished follows once the grid is filled

    def _on_probe_worker_failed(self, ticket: int, message: str) -> None:
        if self.session.reject_probe(ticket):
            self._show_failure(message)

    def _on_probe_patience_timeout(self) -> None:
        if not self.session.probing:
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
        self.status.busy(False)
        self._sync_measure_action()
        self._show_error(message)
        self.probe_failed.emit(message)

    def _show_error(self, message: str) -> None:
        """A fault: say so in the status line, keep the rest."""
        self.last_error = message
        self.status.say(message, error=True)

    # --- measuring RAM bandwidth ------------------------------------------------------------

    def _sync_measure_action(self) -> None:
        enabled, tip = self.session.measure_state()
        self.measure_action.setEnabled(enabled)
        self.measure_action.setToolTip(tip)

    def measure_bandwidth(self) -> None:
        """Measure this machine's RAM bandwidth anew on a worker thread (and cache it for the
        CLI), then judge it again."""
        if self.session.snapshot is None or not self.measure_action.isEnabled():
            return
        self.bandwidth_task.start(force=True)

    def _maybe_measure_in_background(self) -> None:
        """After the first paint, once this machine is read: its bandwidth, cached or new."""
        if (
            self._measure_in_background
            and self._painted
            and not self._closed
            and not self.bandwidth_task.started
            and self.session.snapshot is not None
        ):
            QTimer.singleShot(0, lambda: self.bandwidth_task.start(force=False))

    # --- the machine ------------------------------------------------------------------------

    def choose_machine(self) -> MachinePickerDialog:
        """Machine ▸ Choose a machine…: the catalog grouped and searchable."""
        return machine_actions.choose_machine(self)

    def edit_custom_machine(self) -> CustomMachineDialog:
        """Machine ▸ Your own machine…: the form, saved in the settings."""
        return machine_actions.edit_custom_machine(self, self._settings)

    def _restore_custom_machine_once(self) -> None:
        if not self._custom_restored:
            self._custom_restored = True
            machine_actions.restore_custom_machine(self, self._settings)

    def current_machine_key(self) -> str:
        """ "this", or the id of the catalogued machine being shown."""
        return self.session.machine_key

    def current_snapshot(self) -> SystemSnapshot | None:
        """The machine the grid is about (None before the probe answers)."""
        return self.session.current_snapshot()

    def select_machine(self, key: str) -> None:
        """Show "this" machine or a catalogued one by id."""
        index = self.machine_combo.findData(key)
        if index < 0:
            raise KeyError(key)
        self.machine_combo.setCurrentIndex(index)

    def _on_machine_combo_changed(self, _index: int) -> None:
        self.session.machine_key = self.machine_panel.machine_key()
        self._select_best = True
        self._show_machine()

    def _show_machine(self) -> None:
        snapshot = self.session.current_snapshot()
        if snapshot is None:
            self.machine_panel.clear()
            self.grid_model.clear()
            return
        try:
            budgets = self.session.budgets(snapshot)
        except Exception as exc:  # noqa: BLE001 - boundary: show the machine even so
            budgets = ()
            self._show_error(f"The device budgets could not be computed: {describe(exc)}")
        rows = sentences.device_rows(snapshot, budgets, can_measure=self.session.can_measure())
        problems, notes = sentences.split_problems(snapshot)
        self.machine_panel.show_machine(rows, sentences.machine_summary(snapshot), problems, notes)
        self.bandwidth_task.show_source()
        self._sync_measure_action()
        self.settings_panel.fill_devices(snapshot)
        self.session.config = self.settings_panel.run_config()
        for action in (self.export_json_action, self.export_md_action, self.export_png_action):
            action.setEnabled(True)
        self.refresh_grid()

    # --- the grid ---------------------------------------------------------------------------

    def run_config(self) -> RunConfig:
        """The settings the grid answers for."""
        return self.session.config

    def current_fits(self) -> tuple[Fit, ...]:
        """The estimator's answers for the machine and settings shown (computed now if needed)."""
        return self.session.current_fits()

    def _on_settings_panel_changed(self) -> None:
        self.session.config = self.settings_panel.run_config()
        self.refresh_grid()

    def refresh_grid(self) -> None:
        """Show the grid for the current settings: from the cache, or computed off-thread."""
        session = self.session
        if session.current_snapshot() is None:
            return
        try:
            variants = session.ordered_variants()
            quants = session.quant_columns()
        except (OSError, ValueError, KeyError) as exc:
            self._show_error(f"The model catalog could not be read: {exc}")
            self._show_fits((), (), ())
            return
        key = session.grid_key()
        self._save_settings()
        if key not in session.fit_cache and key not in session.fit_failures:
            # No stale grid: another machine's (or setting's) answers must not show as this
            # one's while its own are computed.
            shown = self.machine_combo.currentText() or "this machine"
            self.grid.mark_updating(f"Working out what runs on {shown}…")
            self.banner.say(f"Working out what runs on {shown}…")
        if key in session.fit_cache:
            self._show_fits(variants, quants, session.fit_cache[key])
        elif key in session.fit_failures:
            self._show_error(
                f"The estimator failed for this machine and these settings: "
                f"{session.fit_failures[key]}. Please report it with `llmcheck --json` output."
            )
            self._show_fits(variants, quants, ())
        elif session.grid_in_flight is None:
            self._start_grid_worker(key)
        # else: when the computation in flight ends, refresh_grid runs again for the settings
        # shown then, so a slider drag computes only the first and the last step.

    def _start_grid_worker(self, key: tuple[str, int, RunConfig], *, quiet: bool = False) -> None:
        if self._closed:
            return
        job = self.session.grid_job(key)
        if not quiet:
            words = sentences.context_words(key[2].context_tokens)
            self.grid.status.setText(f"Computing the verdicts for {words}…")
        self._run(ComputeWorker(job, key), self._on_grid_worker_done, self._on_grid_worker_failed)

    def _on_grid_worker_done(self, key: tuple[str, int, RunConfig], fits: tuple[Fit, ...]) -> None:
        self._after_grid_worker(self.session.grid_done(key, fits))

    def _on_grid_worker_failed(self, key: tuple[str, int, RunConfig], message: str) -> None:
        self._after_grid_worker(self.session.grid_done(key, None, message))

    def _after_grid_worker(self, redraw: bool) -> None:
        if redraw:
            self.refresh_grid()
        if self.session.grid_in_flight is None:
            neighbour = self.session.next_prefetch()
            if neighbour is not None:
                self._start_grid_worker(neighbour, quiet=True)

    def _show_fits(
        self, variants: Sequence[object], quants: Sequence[str], fits: Sequence[Fit]
    ) -> None:
        self.grid_model.chosen_context_tokens = self.session.config.context_tokens
        self.grid.show_fits(variants, quants, fits)  # type: ignore[arg-type]
        try:
            answer = self.session.recommendations(fits) if fits else None
        except Exception as exc:  # noqa: BLE001 - boundary: the grid stands without the answer
            answer = None
            self._show_error(f"The recommendation could not be worked out: {describe(exc)}")
        if answer is None:
            self.banner.say("")
        else:
            self.banner.show_answer(answer)
        pick = self._pending_pick
        if pick is None and self._select_best and answer is not None and answer.get("best"):
            best = answer["best"]
            pick = (str(best["variant"]), str(best["quant"]))
        if fits:
            self._select_best = False
            self._pending_pick = None
            if pick is not None:
                self.grid.select(*pick)
        self.grid_updated.emit()
        if self._announce_probe:
            self._announce_probe = False
            self.probe_finished.emit()
        if self._announce_measure:
            self._announce_measure = False
            self.bandwidth_measured.emit()

    def _on_grid_filled(self) -> None:
        if not self._splitter_placed:
            self._splitter_placed = give_grid_room(self.splitter, self.grid, DETAILS_MIN_WIDTH_PX)

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        self._splitter_own = True  # the user's layout: resizing keeps it

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._splitter_placed and not self._splitter_own and self.grid_model.columnCount():
            # A window made wider (or sized to a new screen) gives the grid its columns again.
            give_grid_room(self.splitter, self.grid, DETAILS_MIN_WIDTH_PX)

    # --- details ----------------------------------------------------------------------------

    def selected_fit(self) -> Fit | None:
        """The fit of the current grid cell."""
        return self.grid.selected_fit()

    def _on_grid_current_changed(self, index: QModelIndex) -> None:
        self.tabs.show_cell(index)
        self._show_runtime_command()

    def _show_runtime_command(self) -> None:
        """The command of the runtime chosen in the settings (llama-server's is the fit's)."""
        from llmcheck.estimate.runtime import Runtime, runtime_command

        runtime = self.settings_panel.runtime()
        fit = self.selected_fit()
        if runtime is Runtime.LLAMA_SERVER or fit is None or not fit.llama_cpp_command:
            return
        variant = next((v for v in self.session.catalog().variants if v.id == fit.variant_id), None)
        if variant is not None:
            self.details.command_edit.setText(runtime_command(fit, variant, runtime))
            self.details.command_edit.setCursorPosition(0)

    def _on_pick_chosen(self, variant_id: str, quant: str) -> None:
        if self.grid.select(variant_id, quant):
            self.grid_view.setFocus()

    def _on_alternative_chosen(self, alternative: Alternative) -> None:
        """Show a configuration that fits: its cell, with its settings where they differ."""
        config = alternative.config
        self._pending_pick = (alternative.variant_id, alternative.quant)
        # A smaller quant or model keeps the settings (its config is the won't-fit cell's, which
        # may be a model's own shorter context): only its cell is chosen.
        if config == self.session.config or alternative.change in SAME_SETTINGS_CHANGES:
            self._on_pick_chosen(*self._pending_pick)
            self._pending_pick = None
            return
        panel = self.settings_panel
        for widget in (panel.context_control, panel.kv_combo, panel.fa_check, panel.device_combo):
            widget.blockSignals(True)
        # The context control offers steps: the largest step at most the context that fits.
        steps = [s for s in CONTEXT_STEPS if s <= config.context_tokens]
        panel.context_control.set_context(
            steps[-1] if steps else snap_context(config.context_tokens)
        )
        panel.kv_combo.setCurrentIndex(max(0, panel.kv_combo.findData(str(config.kv_type))))
        panel.fa_check.setChecked(config.flash_attn)
        panel.device_combo.setCurrentIndex(max(0, panel.device_combo.findData(config.device)))
        for widget in (panel.context_control, panel.kv_combo, panel.fa_check, panel.device_combo):
            widget.blockSignals(False)
        panel.sync_flash_attention()
        self._on_settings_panel_changed()

    def _on_details_command_copied(self, command: str) -> None:
        QGuiApplication.clipboard().setText(command)
        self.status.say("Copied the llama.cpp command to the clipboard.")

    # --- export and about -------------------------------------------------------------------

    def export_json(self) -> Path | None:
        """Ask where, then write the report JSON there."""
        return saving.export_json(self)

    def export_markdown(self) -> Path | None:
        """Ask where, then write the report as Markdown there."""
        return saving.export_markdown(self, title=self.machine_combo.currentText())

    def export_png(self) -> Path | None:
        """Ask where, then save a picture of the window there."""
        return saving.export_png(self)

    def report(self) -> dict[str, object]:
        """The report of the machine and settings shown, as ``llmcheck --json`` builds it."""
        return self.session.report()

    def show_about(self) -> AboutDialog:
        """Open the About box (non-modal, so tests can inspect it)."""
        dialog = AboutDialog(about_notes(self.session), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # --- settings and lifetime --------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self._settings
        self.settings_panel.restore(s)
        self.session.config = self.settings_panel.run_config()
        geometry = s.value("geometry")
        restored = isinstance(geometry, QByteArray | bytes) and self.restoreGeometry(geometry)
        self.fit_to_screen(keep=restored)
        splitter = s.value("splitter")
        if isinstance(splitter, QByteArray | bytes) and self.splitter.restoreState(splitter):
            self._splitter_placed = True  # the user's own layout
            self._splitter_own = True

    def fit_to_screen(self, *, keep: bool = False) -> None:
        """Size the window to the screen's available area: the default size where it fits,
        never larger than the screen (``keep``: a restored size, clamped the same way)."""
        area = available_geometry(self)
        wanted = self.size() if keep else DEFAULT_SIZE
        # Room for the title bar and frame the desktop adds around the window.
        frame_w = max(0, self.frameGeometry().width() - self.geometry().width())
        frame_h = max(0, self.frameGeometry().height() - self.geometry().height()) or 32
        width = max(320, min(wanted.width(), area.width() - frame_w))
        height = max(240, min(wanted.height(), area.height() - frame_h))
        self.setMinimumSize(min(self.minimumWidth(), width), min(self.minimumHeight(), height))
        self.resize(width, height)
        if not keep or not area.contains(self.frameGeometry()):
            self.move(
                area.left() + (area.width() - width - frame_w) // 2,
                area.top() + max(0, (area.height() - height - frame_h) // 2),
            )

    def _save_settings(self) -> None:
        self.settings_panel.save(self._settings)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_settings()
        self._settings.setValue("geometry", self.saveGeometry())
        self._settings.setValue("splitter", self.splitter.saveState())
        self._settings.sync()
        # Start no more work (a finished grid job would start a prefetch), then let the running
        # workers end: the pool is the window's child, and its destructor waits for them while
        # Qt deletes the window, holding the GIL a Python worker needs to finish.
        self._closed = True
        self.tabs.closed = True
        self.pool.waitForDone(int(CLOSE_WAIT_S * 1000))
        super().closeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if gguf_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if gguf_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = gguf_paths(event.mimeData())
        if not paths:
            super().dropEvent(event)
            return
        event.acceptProposedAction()
        self.local_files.open_file(paths[0])

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.PaletteChange:
            self.grid_view.viewport().update()
        return super().event(event)
