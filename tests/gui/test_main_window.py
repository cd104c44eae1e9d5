"""The main window against recorded machines and the real estimator, catalog and report."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage

from llmcheck.catalog import load_catalog
from llmcheck.estimate import (
    KvType,
    RunConfig,
    best_quant,
    decode_bytes_per_token,
    estimate,
    estimate_all,
)
from llmcheck.gui.dialogs import SaveFileDialog
from llmcheck.gui.main_window import MainWindow
from llmcheck.gui.models import VERDICT_ROLE
from llmcheck.machines import load_machines, machine_snapshot
from llmcheck.resources import resource_path
from llmcheck.snapshot import GpuVendor, Source
from llmcheck.units import format_bandwidth, format_bytes, format_speed
from tests.helpers import SNAPSHOT_NAMES, FakeCopier, table_bandwidth_laptop
from tests.helpers import recorded_machine as load_snapshot


def grid_verdicts(window: MainWindow) -> dict[tuple[str, str], str]:
    """What the grid shows: (variant id, quant) -> verdict string, for published cells."""
    model = window.grid_model
    shown: dict[tuple[str, str], str] = {}
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            verdict = model.data(model.index(row, column), VERDICT_ROLE)
            if verdict is not None:
                shown[(model.variant(row).id, model.quant(column))] = verdict
    return shown


def settle(qtbot, window: MainWindow, change) -> None:
    """Make a change and wait until the grid shows its answers (computed off-thread)."""
    with qtbot.waitSignal(window.grid_updated, timeout=20_000):
        change()


def expected_verdicts(snapshot, config: RunConfig) -> dict[tuple[str, str], str]:
    fits = estimate_all(load_catalog(), snapshot, config)
    return {(f.variant_id, f.quant): str(f.verdict) for f in fits}


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_window_shows_what_the_estimator_computes(name: str, make_window, qtmodeltester) -> None:
    snapshot = load_snapshot(name)
    window = make_window(lambda: snapshot)
    qtmodeltester.check(window.grid_model)
    qtmodeltester.check(window.device_model)
    shown = grid_verdicts(window)
    assert shown
    assert shown == expected_verdicts(snapshot, window.run_config())
    # One device row per GPU plus one for RAM; a Mac's unified pool is one row (it is the RAM).
    apple = any(g.vendor is GpuVendor.APPLE for g in snapshot.gpus)
    assert window.device_model.rowCount() == len(snapshot.gpus) + (0 if apple else 1)
    assert window.last_error is None


def test_grid_text_is_readable_without_colour(make_window) -> None:
    window = make_window(lambda: load_snapshot("one-nvidia"))
    model = window.grid_model
    texts = {
        model.data(model.index(r, c))
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    }
    # Every answered cell starts with its verdict's symbol; its accessible text has the words.
    answered = {t for t in texts if t != "—"}
    assert answered
    assert all(t[0] in "✓▲✗?" for t in answered)
    words = {
        model.data(model.index(r, c), Qt.ItemDataRole.AccessibleTextRole)
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    }
    assert any("Runs great" in w for w in words)
    index = next(
        model.index(r, c)
        for r in range(model.rowCount())
        for c in range(model.columnCount())
        if model.data(model.index(r, c), VERDICT_ROLE) is not None
    )
    tooltip = model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert "Memory needed" in tooltip
    assert "Speed" in tooltip


def test_changing_the_context_changes_the_verdicts(make_window, qtbot) -> None:
    snapshot = load_snapshot("cpu-laptop")
    window = make_window(lambda: snapshot)
    settle(qtbot, window, lambda: window.context_control.set_context(2048))
    small = grid_verdicts(window)
    # The two contexts must give different answers, or a grid that ignored the context would
    # pass the checks below at both ends.
    assert small != expected_verdicts(snapshot, RunConfig(context_tokens=128_000))
    settle(qtbot, window, lambda: window.context_control.set_context(128_000))
    large = grid_verdicts(window)
    assert window.run_config().context_tokens == 128_000
    assert large == expected_verdicts(snapshot, window.run_config())
    assert large != small


def test_a_context_step_updates_cells_without_a_model_reset(
    make_window, qtbot, qtmodeltester
) -> None:
    """Same grid shape: dataChanged (no reset), the current cell stays, its details follow."""
    snapshot = load_snapshot("cpu-laptop")
    window = make_window(lambda: snapshot)
    model = window.grid_model
    qtmodeltester.check(model)
    index = next(
        model.index(r, c)
        for r in range(model.rowCount())
        for c in range(model.columnCount())
        if model.fit(r, c) is not None
    )
    window.grid_view.setCurrentIndex(index)
    resets: list[bool] = []
    changed: list[tuple[int, int, int, int]] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.dataChanged.connect(
        lambda tl, br, _roles=(): changed.append((tl.row(), tl.column(), br.row(), br.column()))
    )
    settle(qtbot, window, lambda: window.context_control.set_context(128_000))
    assert resets == []
    assert changed
    assert window.grid_view.currentIndex() == index
    fit = window.selected_fit()
    assert fit is not None
    assert fit in window.current_fits()  # the new step's fit, not the old one
    assert fit.config.context_tokens > 4096
    assert window.details.command_edit.text() == fit.llama_cpp_command
    assert grid_verdicts(window) == expected_verdicts(snapshot, window.run_config())
    qtmodeltester.check(model)


def test_kv_type_and_flash_attention_reach_the_estimator(make_window, qtbot) -> None:
    snapshot = load_snapshot("one-nvidia")
    window = make_window(lambda: snapshot)
    settle(qtbot, window, lambda: window.fa_check.setChecked(False))
    assert window.run_config().flash_attn is False
    assert grid_verdicts(window) == expected_verdicts(snapshot, window.run_config())
    settle(qtbot, window, lambda: window.kv_combo.setCurrentIndex(window.kv_combo.findData("q4_0")))
    config = window.run_config()
    assert config.kv_type is KvType.Q4_0
    # llama.cpp needs flash attention for a quantized V cache (RunConfig's rule).
    assert config.flash_attn is True
    assert not window.fa_check.isEnabled()
    assert "flash" in window.fa_check.toolTip().lower()
    assert grid_verdicts(window) == expected_verdicts(snapshot, config)
    settle(qtbot, window, lambda: window.kv_combo.setCurrentIndex(window.kv_combo.findData("f16")))
    assert window.fa_check.isEnabled()


def test_device_choice_lists_each_gpu(make_window, qtbot) -> None:
    snapshot = load_snapshot("two-gpus")
    window = make_window(lambda: snapshot)
    data = [window.device_combo.itemData(i) for i in range(window.device_combo.count())]
    assert data == ["auto", "cpu", "gpu:0", "gpu:1"]
    settle(qtbot, window, lambda: window.device_combo.setCurrentIndex(data.index("cpu")))
    assert window.run_config().device == "cpu"
    assert grid_verdicts(window) == expected_verdicts(snapshot, window.run_config())


def test_probe_failure_is_shown_and_probe_again_works(make_window, qtbot) -> None:
    outcomes: list[object] = [RuntimeError("NVML exploded"), load_snapshot("one-nvidia")]

    def probe():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    window = make_window(probe, wait="probe_failed")
    assert "NVML exploded" in window.status_label.text()
    assert window.last_error is not None
    assert window.probe_button.isEnabled()
    assert window.grid_model.rowCount() == 0
    with qtbot.waitSignal(window.probe_finished, timeout=10_000):
        qtbot.mouseClick(window.probe_button, Qt.MouseButton.LeftButton)
    assert window.last_error is None
    assert window.grid_model.rowCount() > 0


def test_probe_returning_something_else_is_a_failure(make_window) -> None:
    window = make_window(lambda: {"not": "a snapshot"}, wait="probe_failed")
    assert "not a machine" in window.status_label.text()


def test_problems_are_shown_in_plain_words(make_window) -> None:
    snapshot = load_snapshot("unknown-budget")
    assert snapshot.problems
    window = make_window(lambda: snapshot)
    assert not window.problems_label.isHidden()
    assert window.problems_label.textFormat() == Qt.TextFormat.PlainText
    for problem in snapshot.problems:
        if problem.code == "nvml_library_not_found":  # no NVIDIA GPU here: a calm note
            assert "No NVIDIA GPU here" in window.machine_panel.info_label.text()
            assert problem.message[:30] not in window.problems_label.text()
        else:
            assert problem.message[:30] in window.problems_label.text()


def test_a_hung_probe_gets_a_message_and_a_late_answer_still_shows(make_window, qtbot) -> None:
    release = threading.Event()
    snapshot = load_snapshot("dgx-spark")

    def slow_probe():
        release.wait(10)
        return snapshot

    window = make_window(lambda: snapshot)
    window._probe = slow_probe  # a hang on the second run
    with qtbot.waitSignal(window.probe_started):
        window.start_probe()
    with qtbot.waitSignal(window.probe_failed) as blocker:
        window._on_probe_patience_timeout()  # what the patience timer calls
    assert "has not answered" in blocker.args[0]
    assert window.probe_button.isEnabled()
    with qtbot.waitSignal(window.probe_finished, timeout=10_000):
        release.set()
    assert window.current_snapshot() is snapshot


def test_details_show_the_selected_fit(make_window, qtbot) -> None:
    snapshot = load_snapshot("one-nvidia")
    window = make_window(lambda: snapshot)
    model = window.grid_model
    index = next(
        model.index(r, c)
        for r in range(model.rowCount())
        for c in range(model.columnCount())
        if model.fit(r, c) is not None
    )
    window.grid_view.setCurrentIndex(index)
    fit = window.selected_fit()
    assert fit is not None
    assert window.details.command_edit.text() == fit.llama_cpp_command
    assert len(window.details.bars) == len(fit.devices)
    for bar, use in zip(window.details.bars, fit.devices, strict=True):
        assert sum(s.size_bytes for s in bar.segments()) == use.terms.total_bytes
    variant = model.variant(index.row())
    best = best_quant(variant, snapshot, window.run_config())
    assert best is not None
    assert window.details.labels["best_quant"].text().startswith(f"{best}: the best quality")
    assert "runs great here" in window.details.labels["best_quant"].text()
    # The speed basis says what each generated token reads: weights plus the KV cache.
    weights, kv = decode_bytes_per_token(
        variant, fit.quant, fit.config.context_tokens, fit.config.kv_type
    )
    basis = window.details.labels["basis"].text()
    assert f"reads {format_bytes(weights)} of weights plus the KV cache" in basis
    # ... of the context half full: 2,048 of 4,096 tokens, half the whole cache's bytes.
    assert f"of the 2,048 tokens already in context ({format_bytes(kv // 2)}" in basis
    assert "4,096-token context half full" in basis
    assert fit.speed is not None
    assert format_bandwidth(fit.speed.bandwidth_gb_s) in basis
    empty = format_speed(
        fit.speed.empty_low_tokens_per_second, fit.speed.empty_high_tokens_per_second
    )
    assert f"{empty} on an empty context" in basis
    assert "once all 4,096 tokens are in it" in basis
    qtbot.mouseClick(window.details.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == fit.llama_cpp_command


def test_what_if_machine_shows_its_verdicts(make_window, qtbot, qtmodeltester) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    settle(qtbot, window, lambda: window.select_machine("rtx-4090"))
    rtx = next(m for m in load_machines() if m.id == "rtx-4090")
    assert grid_verdicts(window) == expected_verdicts(machine_snapshot(rtx), window.run_config())
    assert window.device_model.rowCount() == 2
    qtmodeltester.check(window.device_model)
    settle(qtbot, window, lambda: window.select_machine("this"))  # cached: at once
    assert grid_verdicts(window) == expected_verdicts(
        load_snapshot("cpu-laptop"), window.run_config()
    )


def test_reverse_view_answers_for_every_catalogued_machine(
    make_window, qtbot, qtmodeltester
) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    window.grid_view.setCurrentIndex(window.grid_model.index(0, 0))
    with qtbot.waitSignal(window.answers_updated, timeout=60_000):
        window.tabs.setCurrentIndex(1)
    model = window.answer_model
    qtmodeltester.check(model)
    machines = load_machines()
    assert model.rowCount() == len(machines)
    variant = window.grid_model.variant(0)
    config = window.run_config()
    ranks = []
    for row in range(model.rowCount()):
        answer = model.answer(row)
        snapshot = machine_snapshot(answer.machine)
        best = best_quant(variant, snapshot, config)
        if best is not None:
            assert answer.fit is not None
            assert answer.fit.quant == best
            assert answer.fit.verdict == estimate(variant, best, config, snapshot).verdict
        ranks.append(
            ["runs_great", "tight", "unknown", "wont_fit"].index(
                model.data(model.index(row, model.VERDICT_COLUMN), VERDICT_ROLE)
            )
        )
    assert ranks == sorted(ranks)


def test_export_json_markdown_and_png(make_window, tmp_path: Path, monkeypatch) -> None:
    window = make_window(lambda: load_snapshot("two-gpus"))
    answers = iter([tmp_path / "r.json", tmp_path / "r.md", tmp_path / "w.png"])
    monkeypatch.setattr(SaveFileDialog, "ask", classmethod(lambda cls, *a: next(answers)))
    assert window.export_json() == tmp_path / "r.json"
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    schema_file = resource_path("json-schema", "llmcheck-report.schema.json")
    if schema_file.is_file():
        import jsonschema

        jsonschema.validate(doc, json.loads(schema_file.read_text(encoding="utf-8")))
    assert {(m["variant"], m["quant"]): m["verdict"] for m in doc["models"]} == grid_verdicts(
        window
    )
    assert window.export_markdown() == tmp_path / "r.md"
    markdown = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert markdown.startswith("# llmcheck report")
    assert "| Model | Quant | Verdict" in markdown
    assert window.grid_model.variant(0).name in markdown
    assert window.export_png() == tmp_path / "w.png"
    image = QImage(str(tmp_path / "w.png"))
    assert not image.isNull()
    assert image.width() > 400
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".ini") == [
        "r.json",
        "r.md",
        "w.png",
    ]


def test_cancelled_export_writes_nothing(make_window, tmp_path: Path, monkeypatch) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    monkeypatch.setattr(SaveFileDialog, "ask", classmethod(lambda cls, *a: None))
    assert window.export_json() is None
    assert window.export_png() is None
    assert [p for p in tmp_path.iterdir() if p.suffix != ".ini"] == []


def test_export_to_an_unwritable_place_says_so(make_window, tmp_path: Path, monkeypatch) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    target = tmp_path / "no-such-dir" / "r.json"
    monkeypatch.setattr(SaveFileDialog, "ask", classmethod(lambda cls, *a: target))
    assert window.export_json() is None
    assert "Could not write" in window.status_label.text()


def test_settings_round_trip(make_window, qtbot, settings) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    window.context_control.set_context(32768)
    window.fa_check.setChecked(False)
    window.resize(window.minimumSizeHint().width() + 10, window.minimumSizeHint().height() + 20)
    size = window.size()
    window.close()
    again = MainWindow(
        probe=lambda: load_snapshot("cpu-laptop"), settings=settings, start_probe=False
    )
    qtbot.addWidget(again)
    assert again.context_control.context_tokens() == 32768
    assert again.kv_combo.currentData() == "f16"
    assert not again.fa_check.isChecked()
    assert again.size() == size
    again.kv_combo.setCurrentIndex(again.kv_combo.findData("q8_0"))
    again.close()
    third = MainWindow(
        probe=lambda: load_snapshot("cpu-laptop"), settings=settings, start_probe=False
    )
    qtbot.addWidget(third)
    assert third.kv_combo.currentData() == "q8_0"
    assert third.fa_check.isChecked()  # q8_0 V cache needs flash attention


def test_settings_with_garbage_fall_back_to_defaults(qtbot, settings) -> None:
    settings.setValue("context_tokens", "lots")
    settings.setValue("kv_type", "q1_0")
    settings.setValue("geometry", "not bytes")
    window = MainWindow(
        probe=lambda: load_snapshot("cpu-laptop"), settings=settings, start_probe=False
    )
    qtbot.addWidget(window)
    assert window.context_control.context_tokens() == 4096
    assert window.kv_combo.currentData() == "f16"


def test_about_names_versions_and_sources(make_window) -> None:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from llmcheck import __version__

    window = make_window(lambda: load_snapshot("cpu-laptop"))
    dialog = window.show_about()
    text = dialog.text.text()
    assert f"llmcheck {__version__}" in text
    assert f"Qt {qVersion()}" in text
    assert f"PySide6 {pyside_version}" in text
    # For a user: what it is, its license and where the numbers come from; no file names or
    # developer notes.
    assert "MIT License" in text
    assert "Where the numbers come from" in text
    assert "Hugging Face" in text
    assert ".toml" not in text
    assert "docs/" not in text
    dialog.close()


def test_controls_have_accessible_names(make_window) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    for widget in (
        window.context_control.slider,
        window.context_control.combo,
        window.kv_combo,
        window.fa_check,
        window.device_combo,
        window.machine_combo,
        window.grid_view,
        window.probe_button,
        window.details.copy_button,
        window.details.command_edit,
    ):
        assert widget.accessibleName(), widget
    assert window.grid_view.focusPolicy() != Qt.FocusPolicy.NoFocus


def test_a_slider_drag_computes_only_what_is_needed(make_window, qtbot) -> None:
    """Moving through several contexts while one is computing ends on the last one's answers."""
    snapshot = load_snapshot("one-nvidia")
    window = make_window(lambda: snapshot)
    with qtbot.waitSignal(
        window.grid_updated,
        timeout=30_000,
        check_params_cb=lambda: window.run_config().context_tokens == 65536,
    ):
        for tokens in (8192, 16384, 32768, 65536):
            window.context_control.set_context(tokens)
    assert grid_verdicts(window) == expected_verdicts(snapshot, window.run_config())
    computed = {key[2].context_tokens for key in window.session.fit_cache}
    assert 65536 in computed
    assert not computed & {16384, 32768}  # the steps passed over were never computed


def test_a_stale_probe_answer_is_ignored(make_window) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    shown = window.current_snapshot()
    window._on_probe_worker_finished(window.session.ticket - 1, load_snapshot("dgx-spark"))
    assert window.current_snapshot() is shown


# --- RAM bandwidth: the class table's range, and measuring it -------------------------------


def ram_row(window: MainWindow) -> int:
    model = window.device_model
    return next(r for r in range(model.rowCount()) if model.row(r).kind == "system memory")


def test_ram_bandwidth_shows_its_source_and_range(make_window) -> None:
    window = make_window(lambda: table_bandwidth_laptop(live=False))
    model = window.device_model
    index = model.index(ram_row(window), 5)
    assert model.data(index) == "90\u00a0GB/s (77-102)"
    tooltip = model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert "Bandwidth: 90\u00a0GB/s, from llmcheck's table for this class of CPU" in tooltip
    assert "likely 77-102\u00a0GB/s" in tooltip


def test_measure_bandwidth_rejudges_this_machine_off_the_gui_thread(
    make_window, qtbot, qtmodeltester
) -> None:
    """The measured value replaces the table's (source "measured") and the grid is judged again."""
    snapshot = table_bandwidth_laptop()
    window = make_window(lambda: snapshot)
    copier = FakeCopier(61.3)
    window.bandwidth_task._measure = copier  # the constructor's bandwidth_copier seam
    assert window.measure_action.isEnabled()
    with qtbot.waitSignal(window.bandwidth_measured, timeout=20_000):
        window.measure_action.trigger()
    assert copier.on_main_thread == [False]
    measured = window.current_snapshot()
    assert measured is not None
    assert measured.memory.bandwidth_gb_s == 61.3
    assert measured.memory.bandwidth_source is Source.MEASURED
    assert measured.memory.bandwidth_low_gb_s is None
    assert window.status_label.text().startswith(
        "RAM bandwidth: 61\u00a0GB/s, measured just now (before: 90\u00a0GB/s, table)."
    )
    assert window.last_error is None
    qtmodeltester.check(window.device_model)
    assert window.device_model.data(window.device_model.index(ram_row(window), 5)) == (
        "61\u00a0GB/s measured"
    )
    assert grid_verdicts(window) == expected_verdicts(measured, window.run_config())
    cpu_fits = [f for f in window.current_fits() if f.speed is not None]
    assert cpu_fits
    assert all(f.speed.bandwidth_gb_s == 61.3 for f in cpu_fits)
    assert window.measure_action.isEnabled()  # it can be measured again


def test_measure_bandwidth_seam_in_the_constructor(qtbot, settings, tmp_path) -> None:
    window = MainWindow(
        probe=table_bandwidth_laptop,
        settings=settings,
        start_probe=False,
        bandwidth_copier=FakeCopier(42.0),
        bandwidth_cache_dir=tmp_path,
    )
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.probe_finished, timeout=10_000):
        window.start_probe()
    with qtbot.waitSignal(window.bandwidth_measured, timeout=20_000):
        window.measure_bandwidth()
    snapshot = window.current_snapshot()
    assert snapshot is not None
    assert snapshot.memory.bandwidth_gb_s == 42.0


def test_measure_bandwidth_only_for_this_machine_read_live(make_window, qtbot) -> None:
    recorded = make_window(lambda: table_bandwidth_laptop(live=False))
    assert not recorded.measure_action.isEnabled()
    assert "snapshot file" in recorded.measure_action.toolTip()
    window = make_window(table_bandwidth_laptop)
    copier = FakeCopier(1.0)
    window.bandwidth_task._measure = copier
    recorded.bandwidth_task._measure = copier
    assert window.measure_action.isEnabled()
    settle(qtbot, window, lambda: window.select_machine("rtx-4090"))
    assert not window.measure_action.isEnabled()
    assert "what-if" in window.measure_action.toolTip()
    window.measure_bandwidth()  # does nothing for a what-if machine
    recorded.measure_bandwidth()  # nor for a recorded one
    assert copier.on_main_thread == []
    settle(qtbot, window, lambda: window.select_machine("this"))
    assert window.measure_action.isEnabled()


def test_a_failed_measurement_keeps_the_table_value_and_says_so(make_window, qtbot) -> None:
    snapshot = table_bandwidth_laptop()
    window = make_window(lambda: snapshot)
    window.bandwidth_task._measure = FakeCopier(0.0, fails=RuntimeError("no round could be timed"))
    for _ in range(2):
        with qtbot.waitSignal(window.bandwidth_measured, timeout=20_000):
            window.measure_action.trigger()
    shown = window.current_snapshot()
    assert shown is not None
    assert shown.memory == snapshot.memory
    failures = [p for p in shown.problems if p.code == "bandwidth_measure_failed"]
    assert len(failures) == 1  # a second failure replaces the first
    assert "no round could be timed" in window.status_label.text()
    assert window.last_error is not None
    assert "no round could be timed" in window.problems_label.text()
    assert window.measure_action.isEnabled()


def test_an_unexpected_measurement_fault_is_reported(make_window, qtbot) -> None:
    snapshot = table_bandwidth_laptop()
    window = make_window(lambda: snapshot)
    window.bandwidth_task._measure = FakeCopier(0.0, fails=ValueError("buffers misaligned"))
    with qtbot.waitSignal(window.bandwidth_measure_failed, timeout=20_000) as blocker:
        window.measure_action.trigger()
    assert "buffers misaligned" in blocker.args[0]
    assert "buffers misaligned" in window.status_label.text()
    assert window.current_snapshot() is snapshot
    assert window.measure_action.isEnabled()


def test_a_new_probe_supersedes_a_measurement_in_flight(make_window, qtbot) -> None:
    release = threading.Event()
    snapshot = table_bandwidth_laptop()
    window = make_window(lambda: snapshot)
    pool = window.pool
    threads = pool.maxThreadCount()
    pool.setMaxThreadCount(max(threads, 3))  # the held measurement must leave the probe a thread
    window.bandwidth_task._measure = FakeCopier(61.3, wait_for=release)
    try:
        window.measure_action.trigger()
        assert not window.measure_action.isEnabled()
        with qtbot.waitSignal(window.probe_finished, timeout=10_000):
            window.start_probe()  # the menu's "Probe again" stays available
        release.set()
        qtbot.waitUntil(lambda: window.measure_action.isEnabled(), timeout=10_000)
    finally:
        release.set()
        pool.setMaxThreadCount(threads)
    shown = window.current_snapshot()
    assert shown is snapshot  # the measurement of the older reading was dropped


def test_every_grid_column_is_visible_at_1280_by_800(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("one-nvidia"))
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280)
    header = window.grid_view.horizontalHeader()
    last = header.count() - 1
    assert header.sectionViewportPosition(last) + header.sectionSize(last) <= (
        window.grid_view.viewport().width()
    )


def test_unknown_budget_details_do_not_claim_nothing_fits(make_window) -> None:
    window = make_window(lambda: load_snapshot("unknown-budget"))
    fit = window.selected_fit()
    assert fit is not None
    assert str(fit.verdict) == "unknown"
    labels = window.details.labels
    assert labels["best_quant"].text().startswith("unknown")
    assert labels["max_context"].text().startswith("unknown")
    assert "does not fit" not in labels["placement"].text()


# --- exports never lose the old file (issue #13 item 3) --------------------------------------


@pytest.mark.parametrize("kind", ["json", "markdown", "png"])
def test_a_failing_export_leaves_the_old_file_and_says_so(
    make_window, tmp_path: Path, monkeypatch, kind: str
) -> None:
    """A full disk (fsync raises ENOSPC) mid-export: the old file is intact, the status says so."""
    import errno
    import os

    window = make_window(lambda: load_snapshot("two-gpus"))
    target = tmp_path / f"old.{kind}"
    target.write_bytes(b"the old export")
    monkeypatch.setattr(SaveFileDialog, "ask", classmethod(lambda cls, *a: target))

    def full_disk(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    export = {
        "json": window.export_json,
        "markdown": window.export_markdown,
        "png": window.export_png,
    }[kind]
    assert export() is None
    assert target.read_bytes() == b"the old export"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".ini") == [target.name]
    status = window.status_label.text()
    assert "No space left on device" in status
    assert "the existing file is unchanged" in status
    assert window.status_label.textFormat() == Qt.TextFormat.PlainText


def test_a_lone_surrogate_never_empties_an_existing_markdown_file(
    make_window, tmp_path: Path, monkeypatch
) -> None:
    """A lone surrogate in a name once emptied an existing Markdown file: now the export either
    writes the whole new report or changes nothing, and says which."""
    snapshot = load_snapshot("cpu-laptop")
    window = make_window(lambda: replace(snapshot, cpu=replace(snapshot.cpu, brand="AMD \udc80")))
    target = tmp_path / "r.md"
    target.write_text("the old report", encoding="utf-8")
    monkeypatch.setattr(SaveFileDialog, "ask", classmethod(lambda cls, *a: target))
    written = window.export_markdown()
    text = target.read_text(encoding="utf-8")
    if written is None:
        assert text == "the old report"
        assert "nothing was changed" in window.status_label.text()
    else:
        assert text.startswith("# llmcheck report")
        assert "| Model | Quant | Verdict" in text
        assert window.status_label.text().startswith("Saved")


# --- machine data is shown as text, never as markup (issue #13 item 7) -----------------------


HOSTILE = "<h1>x</h1><img src=/etc/passwd>"


def hostile_machine():
    snapshot = load_snapshot("one-nvidia")
    cpu = replace(snapshot.cpu, brand=HOSTILE)
    gpus = tuple(replace(g, name=f"<b>{HOSTILE}</b>") for g in snapshot.gpus)
    problems = tuple(replace(p, message=f"{HOSTILE}\x1b[31m") for p in snapshot.problems)
    return replace(snapshot, cpu=cpu, gpus=gpus, problems=problems)


def test_markup_from_the_machine_shows_literally(make_window) -> None:
    from PySide6.QtGui import QTextDocumentFragment
    from PySide6.QtWidgets import QLabel

    window = make_window(hostile_machine)
    shown = [label for label in window.findChildren(QLabel) if "<h1>" in label.text()]
    assert shown, "the CPU brand should be shown somewhere"
    for label in shown:
        assert label.textFormat() == Qt.TextFormat.PlainText, label.accessibleName()
    assert HOSTILE in window.machine_panel.summary.text()
    assert "\x1b" not in window.problems_label.text()
    model = window.device_model
    for row in range(model.rowCount()):
        assert "<h1>" in model.data(model.index(row, 0)) or row == 0
        tooltip = model.data(model.index(row, 0), Qt.ItemDataRole.ToolTipRole)
        # The tooltip is escaped HTML: as Qt renders it, the markup reads as text.
        rendered = QTextDocumentFragment.fromHtml(tooltip).toPlainText()
        if row == 0:
            assert HOSTILE in rendered
    combo = window.device_combo
    assert any(HOSTILE in combo.itemText(i) for i in range(combo.count()))


def test_a_closed_and_deleted_window_leaves_no_work_behind(make_window, qtbot) -> None:
    """Closing stops new work and waits for the running workers.

    Before, a grid job finishing after close started a prefetch; deleting the window then
    waited for it in the pool's destructor while holding the GIL the worker needed.
    """
    window = make_window(lambda: load_snapshot("one-nvidia"))
    window.close()
    assert window.pool.activeThreadCount() == 0
    # A prefetch that ended during close reports now, and starts no other.
    qtbot.waitUntil(lambda: window.session.grid_in_flight is None, timeout=10_000)
    assert window.pool.activeThreadCount() == 0
    window.context_control.set_context(8192)  # a grid not computed yet: no new worker
    assert window.session.grid_in_flight is None
    assert window.pool.activeThreadCount() == 0
    window.deleteLater()
    again = make_window(lambda: load_snapshot("cpu-laptop"))
    assert again.grid_model.rowCount() > 0
