"""The Markdown form of a report, rendered from the same dict as the JSON export (no Qt)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmcheck.render.units import format_bytes

_VERDICT_WORDS = {
    "runs_great": "✓ runs great",
    "tight": "▲ tight",
    "wont_fit": "✗ won't fit",
    "unknown": "? unknown",
}


def report_markdown(report: Mapping[str, Any], *, title: str = "This machine") -> str:
    """A readable Markdown page: machine, budgets, settings, one row per model x quant."""
    machine = report.get("machine") or {}
    cpu = machine.get("cpu") or {}
    memory = machine.get("memory") or {}
    lines = [
        f"# llmcheck report: {_cell(title)}",
        "",
        f"llmcheck {report.get('llmcheck_version', '?')}, "
        f"schema version {report.get('schema_version', '?')}.",
        "",
        "## Machine",
        "",
        f"- CPU: {_cell(cpu.get('brand') or 'unknown')}",
        f"- RAM: {format_bytes(memory.get('total_bytes'))} total, "
        f"{format_bytes(memory.get('usable_bytes'))} usable",
    ]
    for gpu in machine.get("gpus") or []:
        lines.append(
            f"- GPU {gpu.get('index')}: {_cell(gpu.get('name') or 'unknown')}, "
            f"{format_bytes(gpu.get('total_bytes'))} ({gpu.get('memory_kind')}), "
            f"{format_bytes(gpu.get('free_bytes'))} free"
        )
    budgets = report.get("budgets") or []
    if budgets:
        lines += ["", "## Budgets", ""]
        lines += _table(
            ("Device", "Budget", "Source"),
            [
                (
                    _cell(b.get("name") or b.get("device") or "?"),
                    format_bytes(b.get("budget_bytes")),
                    str(b.get("source") or "unknown"),
                )
                for b in budgets
            ],
        )
    settings = report.get("settings")
    if settings:
        lines += [
            "",
            "## Settings",
            "",
            f"context {settings.get('context_tokens')} tokens, KV cache "
            f"{settings.get('kv_type')}, flash attention "
            f"{'on' if settings.get('flash_attn') else 'off'}, device {settings.get('device')}",
        ]
    models = report.get("models") or []
    lines += ["", "## Models", ""]
    lines += _table(
        ("Model", "Quant", "Verdict", "Memory", "Max context", "Speed (tok/s)"),
        [
            (
                _cell(m.get("name") or m.get("variant") or "?"),
                str(m.get("quant")),
                _VERDICT_WORDS.get(str(m.get("verdict")), str(m.get("verdict"))),
                format_bytes((m.get("memory") or {}).get("total_bytes")),
                "unknown" if m.get("max_context") is None else f"{m['max_context']:,}",
                _speed(m.get("tokens_per_second")),
            )
            for m in models
        ],
    )
    problems = report.get("problems") or []
    if problems:
        lines += ["", "## Problems", ""]
        for p in problems:
            hint = f" ({_cell(p['hint'])})" if p.get("hint") else ""
            lines.append(f"- {_cell(p.get('message', ''))}{hint}")
    return "\n".join(lines) + "\n"


def _speed(speed: Mapping[str, Any] | None) -> str:
    if not speed or speed.get("low") is None or speed.get("high") is None:
        return "unknown"
    return f"{speed['low']:.0f}-{speed['high']:.0f}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out
