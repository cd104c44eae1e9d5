"""The first screen answers "what should I run here?" (issue #11): the answer at the top, cells
that differ, won't fit -> what would, calm by default, no stale grid."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from llmcheck import cli
from llmcheck.catalog import load_catalog
from llmcheck.gui.models import shade
from llmcheck.machines import LlmcheckEstimator
from llmcheck.recommend import best_quant_of
from llmcheck.render.sentences import cell_words
from llmcheck.snapshot import Issue
from tests.helpers import SNAPSHOT_DIR, SNAPSHOT_NAMES
from tests.helpers import recorded_machine as load_snapshot


def with_table_bandwidth(name: str):
    """A recorded machine with its RAM bandwidth from the CPU class table, as the probe fills
    it today (the recordings predate it): the CPU cells then have speeds."""
    from llmcheck.probe.bandwidth import apply_bandwidth

    snap = load_snapshot(name)
    memory, issues = apply_bandwidth(snap.memory, snap.cpu, system=None)
    return replace(snap, memory=memory, problems=snap.problems + issues)


def cli_recommendations(name: str, window, capsys: pytest.CaptureFixture[str]) -> dict:
    """What ``llmcheck --snapshot NAME --json`` recommends with the window's settings."""
    config = window.run_config()
    argv = [
        "--snapshot",
        str(SNAPSHOT_DIR / f"{name}.json"),
        "--json",
        "--ctx",
        str(config.context_tokens),
        "--kv-type",
        str(config.kv_type),
        "--flash-attn",
        "on" if config.flash_attn else "off",
    ]
    assert cli.main(argv, environ={}) == 0
    return json.loads(capsys.readouterr().out)["recommendations"]


def all_texts(window) -> list[str]:
    model = window.grid_model
    return [
        model.data(model.index(r, c))
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    ]


def cell_of(window, variant_id: str, quant: str):
    index = window.grid_model.find(variant_id, quant)
    assert index.isValid()
    return index


# --- the answer at the top -------------------------------------------------------------------


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_the_window_and_the_cli_give_the_same_answer(make_window, capsys, name: str) -> None:
    window = make_window(lambda: load_snapshot(name))
    cli_recs = cli_recommendations(name, window, capsys)
    window_recs = window.report()["recommendations"]
    assert window.banner.summary.text() == cli_recs["summary"]
    assert window_recs["summary"] == cli_recs["summary"]  # the export carries it too
    for purpose in ("best", "fastest", "longest_context", "vision"):
        ours, theirs = window_recs[purpose], cli_recs[purpose]
        assert (ours and (ours["variant"], ours["quant"])) == (
            theirs and (theirs["variant"], theirs["quant"])
        ), purpose
    best = cli_recs["best"]
    if best is not None:
        # The default selection is the best pick, not the smallest model at F16.
        fit = window.selected_fit()
        assert (fit.variant_id, fit.quant) == (best["variant"], best["quant"])


def test_a_pick_is_one_click_from_its_cell(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("one-nvidia"))
    banner = window.banner
    purposes = [p.purpose for p in banner.picks]
    assert {"Best", "Fastest", "Longest context", "Vision"} <= set(purposes)
    fastest = next(p for p in banner.picks if p.purpose == "Fastest")
    best = next(p for p in banner.picks if p.purpose == "Best")
    assert (fastest.variant_id, fastest.quant) != (best.variant_id, best.quant)
    link = f"pick:{purposes.index('Fastest')}"
    assert f'href="{link}"' in banner.picks_label.text()
    banner.picks_label.linkActivated.emit(link)  # what a click on the link does
    fit = window.selected_fit()
    assert (fit.variant_id, fit.quant) == (fastest.variant_id, fastest.quant)
    # The task models: one choice in the drop-down beside the links.
    combo = banner.task_combo
    assert combo.count() > 1
    tool = next(i for i in range(combo.count()) if combo.itemText(i).startswith("Tool calling"))
    combo.activated.emit(tool)
    assert window.selected_fit().variant_id == "lfm2-1.2b-tool"


def test_nothing_fits_says_so_and_offers_no_pick(make_window) -> None:
    window = make_window(lambda: load_snapshot("unknown-budget"))
    assert window.banner.picks == ()
    assert "cannot say" in window.banner.summary.text()


# --- cells that differ -----------------------------------------------------------------------


def test_every_cell_shows_its_speed_or_how_short_it_is(make_window) -> None:
    window = make_window(lambda: with_table_bandwidth("cpu-laptop"))
    model = window.grid_model
    seen_short = seen_speed = 0
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            fit = model.fit(r, c)
            if fit is None:
                continue
            text = model.data(model.index(r, c))
            assert cell_words(fit) in text
            if str(fit.verdict) == "wont_fit":
                assert text.startswith("✗ \u2212")
                assert text.endswith("GiB")
                seen_short += 1
            elif fit.speed is not None:
                assert any(ch.isdigit() for ch in text)
                seen_speed += 1
    assert seen_short
    assert seen_speed
    tooltip = model.data(cell_of(window, "lfm2-24b-a2b", "Q4_K_M"), Qt.ItemDataRole.ToolTipRole)
    assert "short" in tooltip


def test_the_speed_class_is_marked_and_shaded(make_window) -> None:
    window = make_window(lambda: with_table_bandwidth("cpu-laptop"))
    model = window.grid_model
    by_class: dict[str, tuple[str, object]] = {}
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            index = model.index(r, c)
            words = model.data(index, Qt.ItemDataRole.AccessibleTextRole) or ""
            for klass in ("fast", "usable", "slow"):
                if words.endswith(f", {klass}"):
                    by_class[klass] = (
                        model.data(index),
                        model.data(index, Qt.ItemDataRole.BackgroundRole),
                    )
    assert {"fast", "slow"} <= set(by_class)
    assert by_class["fast"][0][-1].isdigit()
    assert by_class["slow"][0].endswith("↓↓")
    assert by_class["fast"][1] != by_class["slow"][1]  # a shade, beside the mark
    assert shade("#000000", 0.5).red() == 128


def test_the_context_control_visibly_changes_the_grid(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    before = all_texts(window)
    with qtbot.waitSignal(window.grid_updated, timeout=20_000):
        window.context_control.set_context(128_000)
    qtbot.waitUntil(lambda: window.session.grid_in_flight is None, timeout=20_000)
    after = all_texts(window)
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    assert changed >= 10, changed
    # Each cell's tooltip gives its largest context.
    fit_index = cell_of(window, "lfm2-1.2b", "Q4_K_M")
    assert "Largest context that fits" in window.grid_model.data(
        fit_index, Qt.ItemDataRole.ToolTipRole
    )


# --- won't fit -> what would -----------------------------------------------------------------


def test_a_configuration_that_wont_fit_shows_what_would(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    assert window.grid.select("lfm2-24b-a2b", "Q4_K_M")
    details = window.details
    fit = window.selected_fit()
    assert str(fit.verdict) == "wont_fit"
    assert "short" in details.verdict_line.text()
    assert details.command_edit.text() == ""  # no runnable command for what will not run
    assert not details.copy_button.isEnabled()
    assert "will not run" in details.command_edit.placeholderText()
    assert any(bar.over_budget() for bar in details.bars)
    assert "short" in details.bars[0].toolTip()
    assert not details.alternatives_label.isHidden()
    assert 'href="alt:0"' in details.alternatives_label.text()
    first = window.tabs.alternatives[0]
    details.alternatives_label.linkActivated.emit("alt:0")
    qtbot.waitUntil(
        lambda: (
            window.selected_fit() is not None
            and (window.selected_fit().variant_id, window.selected_fit().quant)
            == (first.variant_id, first.quant)
        ),
        timeout=20_000,
    )
    assert str(window.selected_fit().verdict) in ("runs_great", "tight")
    assert window.details.command_edit.text()


def test_an_alternative_with_other_settings_applies_them(make_window, qtbot) -> None:
    snapshot = with_table_bandwidth("container-limited")
    window = make_window(lambda: snapshot)
    with qtbot.waitSignal(window.grid_updated, timeout=20_000):
        window.context_control.set_context(128_000)
    qtbot.waitUntil(lambda: window.session.grid_in_flight is None, timeout=20_000)
    wont = [
        (window.grid_model.variant(r).id, window.grid_model.fit(r, c).quant)
        for r in range(window.grid_model.rowCount())
        for c in range(window.grid_model.columnCount())
        if window.grid_model.fit(r, c) is not None
        and str(window.grid_model.fit(r, c).verdict) == "wont_fit"
    ]
    for variant_id, quant in wont:
        window.grid.select(variant_id, quant)
        other = [
            i for i, a in enumerate(window.tabs.alternatives) if a.config != window.run_config()
        ]
        if other:
            break
    else:
        raise AssertionError("no won't-fit cell here has an alternative with other settings")
    alternative = window.tabs.alternatives[other[0]]
    window.details.alternatives_label.linkActivated.emit(f"alt:{other[0]}")
    qtbot.waitUntil(
        lambda: (
            window.selected_fit() is not None
            and (window.selected_fit().variant_id, window.selected_fit().quant)
            == (alternative.variant_id, alternative.quant)
            and str(window.selected_fit().verdict) != "wont_fit"
        ),
        timeout=20_000,
    )
    assert window.run_config().kv_type == alternative.config.kv_type
    assert window.run_config().device == alternative.config.device
    assert window.run_config().context_tokens <= alternative.config.context_tokens


def test_the_recommended_quant_is_verdict_first(make_window) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    catalog = load_catalog()
    model = window.grid_model
    for row in range(model.rowCount()):
        variant = model.variant(row)
        best = best_quant_of(variant, model.row_fits(row))
        column = next(c for c in range(model.columnCount()) if model.fit(row, c) is not None)
        window.grid_view.setCurrentIndex(model.index(row, column))
        text = window.details.labels["best_quant"].text()
        if best is None:
            assert text.startswith("none")
        else:
            assert text.startswith(best.quant)
            if any(str(f.verdict) == "runs_great" for f in model.row_fits(row)):
                assert str(best.verdict) == "runs_great"
    assert catalog.variants


# --- calm by default -------------------------------------------------------------------------


def test_no_nvidia_library_without_nvidia_is_a_calm_note(make_window) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    assert window.problems_label.isHidden()
    info = window.machine_panel.info_label
    assert not info.isHidden()
    assert "No NVIDIA GPU here" in info.text()


def test_an_unread_gpu_is_shown_prominently_with_its_name(make_window) -> None:
    base = load_snapshot("one-nvidia")
    unread = Issue(
        source="nvidia",
        code="gpu_unread",
        message="NVIDIA GPU 1 (NVIDIA GeForce RTX 3090) is present (listed in sysfs)"
        " but its memory could not be read: Unknown Error.",
        hint="Check `nvidia-smi`.",
        device_index=1,
    )
    calm = Issue(
        source="nvidia",
        code="nvml_library_not_found",
        message="no NVML",
        hint=None,
        device_index=None,
    )
    window = make_window(lambda: replace(base, problems=(calm, unread)))
    assert not window.problems_label.isHidden()
    text = window.problems_label.text()
    assert "RTX 3090" in text
    # An NVIDIA GPU is here: "no NVIDIA library" is not calm on this machine.
    assert "no NVML" in text
    assert text.index("RTX 3090") < text.index("no NVML")  # the unread GPU first


def test_the_budget_margin_is_beside_the_budget(make_window) -> None:
    window = make_window(lambda: load_snapshot("one-nvidia"))
    model = window.device_model
    assert model.headerData(4, Qt.Orientation.Horizontal) == "Usable budget"
    texts = [model.data(model.index(r, 4)) for r in range(model.rowCount())]
    assert all("margin" in t for t in texts), texts


def test_details_start_at_the_top_for_a_new_cell(make_window, qtbot) -> None:
    window = make_window(lambda: load_snapshot("two-gpus"))
    window.resize(900, 520)
    qtbot.waitUntil(lambda: window.details.verticalScrollBar().maximum() > 0, timeout=5_000)
    bar = window.details.verticalScrollBar()
    bar.setValue(bar.maximum())
    model = window.grid_model
    current = window.grid_view.currentIndex()
    other = next(
        model.index(r, c)
        for r in range(model.rowCount())
        for c in range(model.columnCount())
        if model.fit(r, c) is not None and (r, c) != (current.row(), current.column())
    )
    window.grid_view.setCurrentIndex(other)
    assert bar.value() == 0


def test_the_title_does_not_repeat_the_name(make_window) -> None:
    window = make_window(lambda: load_snapshot("cpu-laptop"))
    assert "llmcheck" not in window.windowTitle().lower()
    assert window.windowTitle()


# --- no stale grid ---------------------------------------------------------------------------


class HeldEstimator(LlmcheckEstimator):
    """The real estimator, held back for any machine but ``probed`` until ``release`` is set."""

    def __init__(self, probed: object) -> None:
        self.probed = probed
        self.release = threading.Event()
        self.held = threading.Event()

    def estimate_all(self, catalog, machine, config):  # type: ignore[no-untyped-def]
        if machine is not self.probed:
            self.held.set()
            self.release.wait(20)
        return super().estimate_all(catalog, machine, config)


def test_a_machine_switch_never_shows_the_old_grid(qtbot, settings) -> None:
    from llmcheck.gui.main_window import MainWindow

    probed = load_snapshot("cpu-laptop")
    estimator = HeldEstimator(probed)
    window = MainWindow(
        probe=lambda: probed, settings=settings, estimator=estimator, start_probe=False
    )
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.probe_finished, timeout=20_000):
        window.start_probe()
    qtbot.waitUntil(lambda: window.session.grid_in_flight is None, timeout=20_000)
    estimator.held.clear()
    old = all_texts(window)
    assert any(t.startswith("✓") for t in old)
    machines = [window.machine_combo.itemData(i) for i in range(window.machine_combo.count())]
    window.select_machine(next(m for m in machines if m != "this"))
    try:
        qtbot.waitUntil(estimator.held.is_set, timeout=10_000)
        # The new machine's answers are being computed: none of the old ones show.
        texts = all_texts(window)
        assert set(texts) <= {"…", "—"}, set(texts)
        assert window.selected_fit() is None
        assert "Working out" in window.banner.summary.text()
    finally:
        estimator.release.set()
    with qtbot.waitSignal(window.grid_updated, timeout=20_000):
        pass
    assert any(t[0] in "✓▲✗?" for t in all_texts(window))
    window.pool.waitForDone(20_000)
