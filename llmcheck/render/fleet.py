"""A fleet answer (``"kind": "fleet"``) as text and as CSV: one row per machine.

The same document as ``llmcheck check ... --snapshot a.json --snapshot b.json --json``. Every
field from a file (a machine's label, a GPU's name, an error) is cleaned
(:func:`~llmcheck.units.clean_text`) before it is printed; the CSV follows RFC 4180
(a header row, CRLF line ends, quotes doubled) and defuses spreadsheet formulas: a cell that
starts with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage return) gets a leading ``'``, as
OWASP's "CSV injection" advice says, so a machine named ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from llmcheck.render.text import speed_text, table_lines
from llmcheck.render.words import (
    SPEED_CLASS_WORDS,
    context_words,
    placement_short,
    verdict_words,
)
from llmcheck.units import clean_text, format_bytes, format_tokens

__all__ = ["CSV_HEADERS", "fleet_csv", "fleet_text"]

CSV_HEADERS = (
    "machine",
    "hardware",
    "verdict",
    "limited_by",
    "placement",
    "gpu_layers",
    "needs_bytes",
    "budget_bytes",
    "shortfall_bytes",
    "max_context_tokens",
    "decode_low_tok_s",
    "decode_high_tok_s",
    "speed_class",
    "error",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def fleet_text(document: Mapping[str, Any]) -> str:
    """The fleet as a table a person reads: which machines run the model, and how."""
    rows = document.get("machines") or []
    settings = document.get("settings") or {}
    name = clean_text(document.get("name") or document.get("variant"))
    fits = document.get("fits_on", 0)
    lines = [
        f"{name} {clean_text(document.get('quant'))} at"
        f" {format_tokens(settings.get('context_tokens'))} tokens of context:"
        f" fits on {fits} of {len(rows)} machine{'s' if len(rows) != 1 else ''}",
        "",
    ]
    headers = (
        "Machine",
        "Hardware",
        "Verdict",
        "Where",
        "Needs / budget",
        "Max ctx",
        "Decode",
        "Speed",
    )
    lines.extend(table_lines(headers, [_row(r) for r in rows]))
    return "\n".join(lines) + "\n"


def _row(row: Mapping[str, Any]) -> tuple[str, ...]:
    label = clean_text(row.get("label"), limit=60)
    if row.get("error") is not None:
        return (
            label,
            "-",
            f"unreadable: {clean_text(row['error'], limit=120)}",
            "-",
            "-",
            "-",
            "-",
            "-",
        )
    needs = f"{format_bytes(row.get('total_bytes'))} / {format_bytes(row.get('budget_bytes'))}"
    if row.get("shortfall_bytes") is not None:
        needs += f" ({format_bytes(row['shortfall_bytes'])} short)"
    speed = row.get("tokens_per_second")
    return (
        label,
        clean_text(row.get("hardware"), limit=60),
        verdict_words(row.get("verdict")),
        placement_short(
            row.get("placement"), verdict=row.get("verdict"), gpu_layers=row.get("gpu_layers")
        ),
        needs,
        context_words(row),
        "-" if speed is None else speed_text(speed),
        SPEED_CLASS_WORDS.get(str(row.get("speed_class")), "-"),
    )


def fleet_csv(document: Mapping[str, Any]) -> str:
    """The fleet as RFC 4180 CSV with a header row: numbers in bytes and tok/s, for a sheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_HEADERS)
    for row in document.get("machines") or []:
        speed = row.get("tokens_per_second") or {}
        values = (
            row.get("label"),
            row.get("hardware"),
            row.get("verdict"),
            row.get("limited_by"),
            row.get("placement"),
            row.get("gpu_layers"),
            row.get("total_bytes"),
            row.get("budget_bytes"),
            row.get("shortfall_bytes"),
            row.get("max_context"),
            _rate(speed.get("low")),
            _rate(speed.get("high")),
            row.get("speed_class"),
            row.get("error"),
        )
        writer.writerow([csv_cell(v) for v in values])
    return out.getvalue()


def csv_cell(value: object) -> str:
    """One CSV field: empty for null, cleaned of control characters, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)  # a number stays a number (a negative one never occurs here)
    text = clean_text(value, limit=500)
    if text.startswith(_FORMULA_STARTS):
        text = "'" + text
    return text


def _rate(value: object) -> float | None:
    return round(value, 1) if isinstance(value, int | float) else None
