"""Context control, memory bar and verdict styles."""

from __future__ import annotations

import pytest

from llmcheck.gui.widgets import (
    CONTEXT_STEPS,
    MAX_CONTEXT_TOKENS,
    VERDICT_STYLES,
    BarSegment,
    ContextControl,
    MemoryBar,
    context_label,
    context_step_label,
    snap_context,
)


def test_context_steps_are_powers_of_two_and_three_times_powers_of_two() -> None:
    """Log-scaled steps from 2K, topped by the models' own maximum (128,000, not 131,072)."""
    assert CONTEXT_STEPS[0] == 2048
    assert CONTEXT_STEPS[-1] == MAX_CONTEXT_TOKENS == 128_000
    for step in CONTEXT_STEPS[:-1]:
        k = step.bit_length() - 1
        assert step == 2**k or step == 3 * 2 ** (k - 1)
    assert list(CONTEXT_STEPS) == sorted(set(CONTEXT_STEPS))


def test_top_context_step_is_the_catalogs_longest_gguf_context() -> None:
    from llmcheck.catalog import load_catalog

    assert max(v.gguf_context_tokens for v in load_catalog().variants) == MAX_CONTEXT_TOKENS


@pytest.mark.parametrize(
    ("tokens", "snapped"),
    [
        (1, 2048),
        (2048, 2048),
        (5000, 4096),
        (7000, 6144),
        (40000, 32768),
        (131072, 128_000),
        (10**9, 128_000),
    ],
)
def test_snap_context(tokens: int, snapped: int) -> None:
    assert snap_context(tokens) == snapped


def test_context_label() -> None:
    assert [context_label(s) for s in (2048, 3072, 128_000)] == ["2K", "3K", "128,000"]
    # The drop-down names contexts as everywhere else: "128,000", never "128K (max)".
    assert [context_step_label(s) for s in (2048, 98304, 128_000)] == ["2,048", "98,304", "128,000"]


def test_context_combo_says_the_top_step_is_the_maximum(qtbot) -> None:
    control = ContextControl()
    qtbot.addWidget(control)
    control.set_context(131072)  # a setting saved by an older llmcheck
    assert control.context_tokens() == 128_000
    assert control.combo.currentText() == "128,000"
    assert "128,000" in control.combo.toolTip()


def test_slider_and_combo_stay_in_step(qtbot) -> None:
    control = ContextControl()
    qtbot.addWidget(control)
    with qtbot.waitSignal(control.context_changed) as blocker:
        control.combo.setCurrentIndex(CONTEXT_STEPS.index(32768))
    assert blocker.args == [32768]
    assert control.slider.value() == CONTEXT_STEPS.index(32768)
    with qtbot.waitSignal(control.context_changed) as blocker:
        control.slider.setValue(0)
    assert blocker.args == [2048]
    assert control.combo.currentData() == 2048
    assert control.context_tokens() == 2048


def test_verdict_styles_are_readable_without_colour() -> None:
    symbols = {s.symbol for s in VERDICT_STYLES.values()}
    words = {s.words for s in VERDICT_STYLES.values()}
    fills = {s.fill for s in VERDICT_STYLES.values()}
    assert len(symbols) == len(words) == len(fills) == len(VERDICT_STYLES)
    # DejaVu has these glyphs; colour emoji (above U+1F000) would render as empty boxes.
    assert all(ord(ch) < 0x2800 for s in VERDICT_STYLES.values() for ch in s.badge)


def test_memory_bar_keeps_nonzero_segments_and_says_so(qtbot) -> None:
    bar = MemoryBar()
    qtbot.addWidget(bar)
    bar.set_data(
        "GPU 0",
        (
            BarSegment(label="weights", size_bytes=3 << 30, colour="#0072B2"),
            BarSegment(label="KV cache", size_bytes=0, colour="#E69F00"),
        ),
        8 << 30,
    )
    assert [s.label for s in bar.segments()] == ["weights"]
    assert "3.00 GiB of 8.00 GiB" in bar.toolTip()
    bar.resize(400, 60)
    assert not bar.grab().toImage().isNull()
