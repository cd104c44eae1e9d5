"""One unit convention, used everywhere llmcheck writes a number for a person.

- Memory and file sizes are binary (1 GiB = 2**30 bytes), as llama.cpp prints its buffers and as
  RAM and VRAM are built: "700 MiB", "1.20 GiB", "12.7 GiB", "128 GiB" (three significant figures).
- Bandwidth is decimal GB/s (10**9 bytes per second), as vendors and STREAM quote it.
- A context length is the exact token count with thousands separators ("4,096", "128,000"):
  "4K" would mean 4,096 in one place and "128K" 128,000 in another.
- A speed range is "27-109 tok/s" joined by no-break spaces, so it never wraps into a lone "s".
- Text from the machine or a file passes through :func:`clean_text` before anyone sees it.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "NBSP",
    "UNKNOWN",
    "clean_text",
    "format_bandwidth",
    "format_bytes",
    "format_speed",
    "format_tokens",
    "os_name",
]

NBSP = "\u00a0"
UNKNOWN = "unknown"

_KIB = 1 << 10
_MIB = 1 << 20
_GIB = 1 << 30
_TIB = 1 << 40


def format_bytes(value: int | None) -> str:
    """Bytes for people, binary units, three significant figures ("1.20 GiB", "700 MiB")."""
    if value is None:
        return UNKNOWN
    sign = "-" if value < 0 else ""
    size = abs(value)
    if size < _KIB:
        return f"{sign}{size} B"
    for unit, scale in (("KiB", _KIB), ("MiB", _MIB), ("GiB", _GIB), ("TiB", _TIB)):
        if size < scale * 1024 or unit == "TiB":
            return f"{sign}{_three_figures(size / scale)} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover - the loop always returns


def _three_figures(number: float) -> str:
    if number >= 99.95:
        return f"{number:.0f}"
    if number >= 9.995:
        return f"{number:.1f}"
    return f"{number:.2f}"


def format_tokens(value: int | None) -> str:
    """A context length: the exact token count, "4,096" or "128,000"."""
    if value is None:
        return UNKNOWN
    return f"{value:,}"


def format_speed(low: float | None, high: float | None, *, unit: str = "tok/s") -> str:
    """A speed range, "27-109 tok/s" (no-break spaces), or "unknown"."""
    if low is None or high is None:
        return UNKNOWN
    lo, hi = _speed_figure(low), _speed_figure(high)
    text = lo if lo == hi else f"{lo}-{hi}"
    return f"{text}{NBSP}{unit}"


def _speed_figure(value: float) -> str:
    return f"{value:.1f}" if value < 9.95 else f"{value:.0f}"


def format_bandwidth(gb_s: float | None) -> str:
    """A memory bandwidth, decimal: "68 GB/s", "3,352 GB/s", "unknown"."""
    if gb_s is None:
        return UNKNOWN
    return f"{gb_s:,.0f}{NBSP}GB/s" if gb_s >= 9.95 else f"{gb_s:.1f}{NBSP}GB/s"


# Unicode categories that must never reach a terminal or a label: controls (ESC, BEL, CR, NEL),
# format characters (RTL overrides, zero-width joiners used for spoofing), lone surrogates,
# private-use and unassigned code points, and line / paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def clean_text(text: object, *, limit: int = 200) -> str:
    """Text from the machine or a file, safe to print or show: one line, no escapes.

    Every unsafe character becomes U+FFFD; whitespace runs become one space; the result is cut
    to ``limit`` characters with an ellipsis. ``None`` reads "unknown".
    """
    if text is None:
        return UNKNOWN
    raw = str(text)
    out: list[str] = []
    for ch in raw:
        if ch in " \t\n\r\f\v":
            if out and out[-1] != " ":
                out.append(" ")
            continue
        out.append("\ufffd" if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch)
    cleaned = "".join(out).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "\u2026"
    return cleaned


# platform.system() names as people know them.
_OS_NAMES = {"Darwin": "macOS", "Windows": "Windows", "Linux": "Linux"}


def os_name(system: object) -> str:
    """The OS as people call it: "macOS" for platform.system()'s "Darwin"."""
    text = clean_text(system)
    return _OS_NAMES.get(text, text)
