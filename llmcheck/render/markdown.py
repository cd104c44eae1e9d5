"""The Markdown form of a report, rendered from the same document as the JSON export.

Numbers through :mod:`llmcheck.units`, verdicts through :mod:`llmcheck.render.words`.
Every string from the machine or a file is cleaned (:func:`~llmcheck.units.clean_text`)
and then escaped, so a GPU name cannot break a table (``|``), open code (a backtick), inject HTML
(``<``) or a link (``[``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmcheck.render.text import speed_text
from llmcheck.render.words import (
    PURPOSE_WORDS,
    SPEED_CLASS_WORDS,
    context_words,
    pick_words,
    summary_sentence,
    verdict_badge,
)
from llmcheck.units import clean_text, format_bytes, format_tokens

__all__ = ["escape_markdown", "report_markdown"]

_ESCAPES = str.maketrans(
    {"\\": "\\\\", "|": "\\|", "`": "\\`", "<": "&lt;", "[": "\\[", "]": "\\]"}
)


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
        *_answer(report.get("recommendations")),
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
                (
                    e(b.get("name") or b.get("device") or "?"),
                    format_bytes(b.get("budget_bytes")),
                    e(b.get("source") or "unknown"),
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
            f"context {format_tokens(settings.get('context_tokens'))} tokens, KV cache "
            f"{e(settings.get('kv_type'))}, flash attention "
            f"{'on' if settings.get('flash_attn') else 'off'}, device {e(settings.get('device'))}",
        ]
    models = report.get("models") or []
    lines += ["", "## Models", ""]
    lines += _table(
        ("Model", "Quant", "Verdict", "Memory", "Max context", "Speed", "Speed class"),
        [
            (
                e(m.get("name") or m.get("variant") or "?"),
                e(m.get("quant")),
                verdict_badge(m.get("verdict")),
                _needs(m),
                e(context_words(m)),
                "-"
                if m.get("tokens_per_second") is None
                else speed_text(m.get("tokens_per_second")),
                SPEED_CLASS_WORDS.get(str(m.get("speed_class")), "-"),
            )
            for m in models
        ],
    )
    if "local_models" in report:
        found = [f for f in report.get("local_models") or [] if f.get("kind") == "model"]
        lines += ["", "## On this machine", ""]
        lines += _table(
            ("File", "Model", "Quant", "Verdict", "Memory"),
            [
                (
                    e(f"{f.get('store')}: {f.get('label')}", limit=300),
                    e((f.get("model") or {}).get("name") or "-"),
                    e((f.get("model") or {}).get("quant") or "-")
                    + (" (community)" if (f.get("model") or {}).get("published") is False else ""),
                    verdict_badge((f.get("model") or {}).get("verdict"))
                    if f.get("model")
                    else e(f.get("error") or "-", limit=300),
                    _needs(f["model"]) if f.get("model") else "-",
                )
                for f in found
            ],
        )
    problems = report.get("problems") or []
    if problems:
        lines += ["", "## Problems", ""]
        for p in problems:
            hint = f" ({e(p['hint'], limit=2000)})" if p.get("hint") else ""
            lines.append(f"- {e(p.get('message', ''), limit=2000)}{hint}")
    return "\n".join(lines) + "\n"


def _answer(recommendations: Mapping[str, Any] | None) -> list[str]:
    """The answer at the top: the summary in bold, then one bullet per purpose."""
    if not recommendations:
        return []
    summary = recommendations.get("summary") or summary_sentence(recommendations)
    lines = [f"**{escape_markdown(summary, limit=2000)}**", ""]
    picks = [
        (PURPOSE_WORDS.get(k, k), recommendations.get(k))
        for k in ("fastest", "longest_context", "vision")
    ]
    picks += [(str(p.get("task")), p) for p in recommendations.get("tasks") or []]
    lines += [
        f"- {escape_markdown(label)}: {escape_markdown(pick_words(p), limit=400)}"
        for label, p in picks
        if p is not None
    ]
    return [*lines, ""] if len(lines) > 2 else lines


def _needs(model: Mapping[str, Any]) -> str:
    needs = format_bytes((model.get("memory") or {}).get("total_bytes"))
    if model.get("shortfall_bytes") is not None:
        needs += f" ({format_bytes(model['shortfall_bytes'])} short)"
    return needs


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out
