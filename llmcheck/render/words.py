"""The words for verdicts and placements: one table for the CLI, the Markdown export and the window.

Keyed by the JSON strings of ``llmcheck.estimate.Verdict`` and ``Placement`` (this layer reads
documents, not the estimator), so the same verdict reads the same everywhere. Colours are not
here: they belong to the window.
"""

from __future__ import annotations

__all__ = [
    "PLACEMENT_WORDS",
    "VERDICT_SYMBOLS",
    "VERDICT_WORDS",
    "placement_short",
    "placement_words",
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
    placement: object, *, verdict: object, gpu_layers: int | None = None,
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
