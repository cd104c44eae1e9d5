"""The words for verdicts and placements: one table for the CLI, the Markdown export and the window.

Keyed by the JSON strings of ``llmcheck.estimate.Verdict`` and ``Placement`` (this layer reads
documents, not the estimator), so the same verdict reads the same everywhere. Colours are not
here: they belong to the window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmcheck.units import clean_text, format_bytes, format_speed, format_tokens

__all__ = [
    "PLACEMENT_WORDS",
    "PURPOSE_WORDS",
    "SPEED_CLASS_WORDS",
    "VERDICT_SYMBOLS",
    "VERDICT_WORDS",
    "context_words",
    "pick_words",
    "placement_short",
    "placement_words",
    "shortfall_words",
    "summarize",
    "summary_sentence",
    "verdict_badge",
    "verdict_words",
]

# What a verdict says, lower case as it sits in a sentence ("LFM2-1.2B Q4_K_M: runs great").
VERDICT_WORDS: dict[str, str] = {
    "runs_great": "runs great",
    "tight": "tight",
    "wont_fit": "won't fit",
    "unknown": "unknown",
}

# A symbol per verdict, so the answer reads without colour (and in a Markdown table).
VERDICT_SYMBOLS: dict[str, str] = {
    "runs_great": "\u2713",  # check mark
    "tight": "\u25b2",  # black up-pointing triangle
    "wont_fit": "\u2717",  # ballot x
    "unknown": "?",
}

# Where the layers go, as the details of one answer say it.
PLACEMENT_WORDS: dict[str, str] = {
    "gpu": "on the GPU",
    "unified": "in unified memory",
    "cpu": "on the CPU",
    "split": "split between GPU and CPU",
    "none": "nowhere: it does not fit",
}

# The same, short enough for a table column.
_PLACEMENT_SHORT: dict[str, str] = {
    "gpu": "GPU",
    "unified": "unified",
    "cpu": "CPU",
    "split": "split",
    "none": "nowhere",
}


def verdict_words(verdict: object, *, capital: bool = False) -> str:
    """A verdict in words; a value this table does not know reads "unknown"."""
    words = VERDICT_WORDS.get(str(verdict), VERDICT_WORDS["unknown"])
    return words[:1].upper() + words[1:] if capital else words


def verdict_badge(verdict: object, *, capital: bool = False) -> str:
    """The symbol and the words together: "✓ runs great"."""
    symbol = VERDICT_SYMBOLS.get(str(verdict), VERDICT_SYMBOLS["unknown"])
    return f"{symbol} {verdict_words(verdict, capital=capital)}"


def placement_words(
    placement: object,
    *,
    verdict: object,
    gpu_layers: int | None = None,
    layers: int | None = None,
) -> str:
    """Where the layers go, in words ("split between GPU and CPU: 20 of 25 layers on the GPU").

    A model with no placement because its budget is unknown reads "unknown", not "nowhere".
    """
    key = str(placement)
    if key == "none" and str(verdict) == "unknown":
        return VERDICT_WORDS["unknown"]
    where = PLACEMENT_WORDS.get(key, VERDICT_WORDS["unknown"])
    if key == "split" and gpu_layers is not None:
        of = "" if layers is None else f" of {layers}"
        where += f": {gpu_layers}{of} layers on the GPU"
    return where


def placement_short(placement: object, *, verdict: object, gpu_layers: int | None = None) -> str:
    """Where the layers go, for a table column ("GPU", "split (20 layers on GPU)")."""
    key = str(placement)
    if key == "none" and str(verdict) == "unknown":
        return VERDICT_WORDS["unknown"]
    where = _PLACEMENT_SHORT.get(key, VERDICT_WORDS["unknown"])
    if key == "split" and gpu_layers is not None:
        where += f" ({gpu_layers} layers on GPU)"
    return where


_DEFAULT_CONTEXT = 4096  # RunConfig's default: below it a shorter context is no advice

# The speed class of a generation range (report.speed_class): its low end against --min-speed.
SPEED_CLASS_WORDS: dict[str, str] = {"fast": "fast", "usable": "usable", "slow": "slow"}

# What each pick of the recommendations was chosen for.
PURPOSE_WORDS: dict[str, str] = {
    "best": "best",
    "fastest": "fastest",
    "longest_context": "longest context",
    "vision": "images",
    "task": "task",
}


def context_words(model: Mapping[str, Any]) -> str:
    """A model's largest context for a cell: "128,000", "none fits" or "unknown"."""
    tokens = model.get("max_context")
    if tokens is None and str(model.get("verdict")) == "wont_fit":
        return "none fits"
    return format_tokens(tokens)


def shortfall_words(model: Mapping[str, Any]) -> str | None:
    """How short a configuration that won't fit is: "needs 13.7 GiB, 2.10 GiB more than the
    11.6 GiB budget"; None when it fits or the numbers are unknown."""
    short, budget = model.get("shortfall_bytes"), model.get("budget_bytes")
    total = model.get("total_bytes")
    if total is None:
        total = (model.get("memory") or {}).get("total_bytes")
    if short is None or budget is None or total is None:
        return None
    return (
        f"needs {format_bytes(total)}, {format_bytes(short)} more than the"
        f" {format_bytes(budget)} budget"
    )


def pick_words(pick: Mapping[str, Any]) -> str:
    """One pick in a line: "LFM2-8B-A1B Q4_K_M: runs great, 25-40 tok/s, up to 128,000 tokens"."""
    parts = [verdict_words(pick.get("verdict"))]
    speed = pick.get("tokens_per_second")
    if speed is not None:
        parts.append(format_speed(speed.get("low"), speed.get("high")))
    if pick.get("max_context") is not None:
        parts.append(f"up to {format_tokens(pick['max_context'])} tokens")
    name = clean_text(pick.get("name") or pick.get("variant"))
    return f"{name} {clean_text(pick.get('quant'))}: {', '.join(parts)}"


def summary_sentence(recommendations: Mapping[str, Any]) -> str:
    """The answer to "what should I run here?" in one sentence a person reads in five seconds."""
    best = recommendations.get("best")
    context = format_tokens(recommendations.get("context_tokens"))
    verdict = str(recommendations.get("verdict"))
    if best is None:
        if verdict == "unknown":
            return (
                "llmcheck cannot say what runs here: this machine's memory is unknown"
                " (see the problems below)."
            )
        shorter = (
            "a shorter context (--ctx) or "
            if (recommendations.get("context_tokens") or 0) > _DEFAULT_CONTEXT
            else ""
        )
        return (
            f"Nothing fits here at {context} tokens of context: try {shorter}a machine with"
            " more memory."
        )
    name = f"{clean_text(best.get('name') or best.get('variant'))} {clean_text(best.get('quant'))}"
    details: list[str] = []
    speed = best.get("tokens_per_second")
    if speed is not None:
        details.append(format_speed(speed.get("low"), speed.get("high")))
    if best.get("max_context") is not None:
        details.append(f"up to {format_tokens(best['max_context'])} tokens of context")
    tail = "".join(f", {d}" for d in details)
    if str(best.get("verdict")) == "runs_great":
        return f"Run {name}: runs great here{tail}."
    reason = clean_text(best.get("reason") or "", limit=160)
    why = f" ({reason})" if reason else ""
    return (
        f"Nothing runs great here at {context} tokens of context; the best that fits is"
        f" {name}: tight{why}{tail}."
    )


def summarize(document: dict[str, Any]) -> dict[str, Any]:
    """The document with ``recommendations.summary`` worded (a no-op without recommendations)."""
    recs = document.get("recommendations")
    if isinstance(recs, dict):
        recs["summary"] = summary_sentence(recs)
    return document


# The NVIDIA probe's codes for "no NVIDIA driver / GPU here": calm on a machine without NVIDIA.
CALM_NVIDIA_CODES = frozenset(
    {
        "nvml_library_not_found",
        "nvml_driver_not_loaded",
        "nvml_no_devices",
        "nvml_binding_missing",
    }
)
NO_NVIDIA_NOTE = (
    "No NVIDIA GPU here (no NVIDIA driver library), which is fine on a machine without one."
)
