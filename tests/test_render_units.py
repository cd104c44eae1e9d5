"""One unit convention (llmcheck.units): every number a person reads is written one way."""

from __future__ import annotations

import pytest

from llmcheck.units import (
    NBSP,
    clean_text,
    format_bandwidth,
    format_bytes,
    format_speed,
    format_tokens,
    os_name,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "unknown"),
        (0, "0 B"),
        (1000, "1000 B"),
        (1024, "1.00 KiB"),
        (700 * 2**20, "700 MiB"),
        (int(1.2 * 2**30), "1.20 GiB"),
        (int(12.7 * 2**30), "12.7 GiB"),
        (128 * 2**30, "128 GiB"),
        (-3 * 2**30, "-3.00 GiB"),
    ],
)
def test_bytes_are_binary_with_three_figures(value: int | None, text: str) -> None:
    assert format_bytes(value) == text


def test_contexts_are_exact_counts() -> None:
    assert format_tokens(4096) == "4,096"
    assert format_tokens(128_000) == "128,000"
    assert format_tokens(None) == "unknown"


def test_speeds_never_wrap() -> None:
    assert format_speed(27.3, 109.2) == f"27-109{NBSP}tok/s"
    assert format_speed(1.24, 2.4) == f"1.2-2.4{NBSP}tok/s"
    assert format_speed(None, 3.0) == "unknown"
    assert " " not in format_speed(27.3, 109.2)


def test_bandwidth_is_decimal() -> None:
    assert format_bandwidth(3352.3) == f"3,352{NBSP}GB/s"
    assert format_bandwidth(6.25) == f"6.2{NBSP}GB/s"


def test_os_names_as_people_say_them() -> None:
    assert os_name("Darwin") == "macOS"
    assert os_name("Linux") == "Linux"
    assert os_name("Haiku\x1b[31m") == "Haiku\ufffd[31m"


@pytest.mark.parametrize(
    "raw",
    ["Intel\nGPU 0: NVIDIA H100", "AMD\x1b[31m", "x\x07y\rz", "evil\u202etxt", "lone \ud800"],
)
def test_clean_text_leaves_one_safe_line(raw: str) -> None:
    cleaned = clean_text(raw)
    assert "\n" not in cleaned
    assert "\r" not in cleaned
    assert all(ord(c) >= 0x20 for c in cleaned)
    assert "\u202e" not in cleaned
    cleaned.encode("utf-8")  # no lone surrogate left


def test_an_apple_pool_is_one_row_not_gpu_and_ram() -> None:
    """Issue #11: a Mac's unified memory was listed twice, as a GPU and as RAM."""
    from llmcheck.estimate import budgets
    from llmcheck.render.sentences import device_rows, machine_summary
    from tests.helpers import recorded_machine

    mac = recorded_machine("apple-m2-max")
    rows = device_rows(mac, budgets(mac))
    assert [r.kind for r in rows] == ["unified pool"]
    assert rows[0].name == "Unified memory: Apple M2 Max"
    assert "The CPU reads the same pool" in rows[0].details
    assert machine_summary(mac).startswith("macOS")
    laptop = recorded_machine("cpu-laptop")
    assert [r.kind for r in device_rows(laptop, budgets(laptop))] == ["system memory"]
