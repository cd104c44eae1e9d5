"""The Markdown form of a report, rendered from the same document as the JSON export.

Numbers through :mod:`llmcheck.render.units`, verdicts through :mod:`llmcheck.render.words`.
Every string from the machine or a file is cleaned (:func:`~llmcheck.render.units.clean_text`)
and then escaped, so a GPU name cannot break a table (``|``), open code (a backtick), inject HTML
(``<``) or a link (``[``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmcheck.render.text import speed_text
from llmcheck.render.units import clean_text, format_bytes, format_tokens
from llmcheck.render.words import verdict_badge

__all__ = ["escape_markdown", "report_markdown"]

_ESCAPES = str.maketrans({"\\": "\\\\", "|": "\\|", "`": "\\`", "<": "&lt;", "[": "\\[",
                          "]": "\\]"})


def escape_markdown(value: object, *, limit: int = 200) -> str:
    """A field from the machine or a file, safe inside a Markdown line or table cell."""
    return clean_text(value, limit=limit).translate(_ESCAPES)


def report_markdown(report: Mapping[str, Any], *, title: str = "This machine") -> str:
    """A readable Markdown page: machine, budgets, settings, one row per model x quant."""
    e = escape_markdown
    machine = report.get("machine") or {}
    cpu = machine.get("cpu") or {}
    memory = machine.get("memory") or {}
    lines = [
        f"# llmcheck report: {e(title)}",
        "",
        f"llmcheck {e(report.get('llmcheck_version', '?'))}, "
        f"schema version {e(report.get('schema_version', '?'))}.",
        "",
        "## Machine",
        "",
        f"- CPU: {e(cpu.get('brand') or 'unknown')}",
        f"- RAM: {format_bytes(memory.get('total_bytes'))} total, "
        f"{format_bytes(memory.get('usable_bytes'))} usable",
    ]
    for gpu in machine.get("gpus") or []:
        lines.append(
            f"- GPU {e(gpu.get('index'))}: {e(gpu.get('name') or 'unknown')}, "
            f"{format_bytes(gpu.get('total_bytes'))} ({e(gpu.get('memory_kind'))}), "
            f"{format_bytes(gpu.get('free_bytes'))} free"
        )
    budgets = report.get("budgets") or []
    if budgets:
        lines += ["", "## Budgets", ""]
        lines += _table(
            ("Device", "Budget", "Source"),
            [
                (e(b.get("name") or b.get("device") or "?"), format_bytes(b.get("budget_bytes")),
                 e(b.get("source") or "unknown"))
                for b in budgets
            ],
        )
    settings = report.get("settings")
    if settings:
        lines += [
            "",
            "## Settings",
            "",
            f"context {format_tokens(settings.get('context_tokens'))} tokens, KV cache "
            f"{e(settings.get('kv_type'))}, flash attention "
            f"{'on' if settings.get('flash_attn') else 'off'}, device {e(settings.get('device'))}",
        ]
    models = report.get("models") or []
    lines += ["", "## Models", ""]
    lines += _table(
        ("Model", "Quant", "Verdict", "Memory", "Max context", "Speed"),
        [
            (
                e(m.get("name") or m.get("variant") or "?"),
                e(m.get("quant")),
                verdict_badge(m.get("verdict")),
                format_bytes((m.get("memory") or {}).get("total_bytes")),
                format_tokens(m.get("max_context")),
                speed_text(m.get("tokens_per_second")),
            )
            for m in models
        ],
    )
    problems = report.get("problems") or []
    if problems:
        lines += ["", "## Problems", ""]
        for p in problems:
            hint = f" ({e(p['hint'], limit=2000)})" if p.get("hint") else ""
            lines.append(f"- {e(p.get('message', ''), limit=2000)}{hint}")
    return "\n".join(lines) + "\n"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out
