"""What to run here: the picks for this machine, and what would fit when a choice will not.

Pure functions over the estimator's answers (:class:`~llmcheck.estimate.Fit`) and the catalog.
The window, the text report and ``llmcheck --json`` (``recommendations``) all take their answer
from here, so they agree for the same machine and settings.

How a pick is chosen:

- **Verdict first, then quality.** A configuration that runs great beats a bigger one that is
  only tight; only where nothing runs great is a tight one offered, and it says so.
- **Most capable** = the most parameters (total, so an MoE counts all its experts), then the newer
  family, then the better quant. Quant quality counts up to Q8_0 (:data:`QUALITY_CAP_QUANT`):
  above it nothing a user can notice improves while memory doubles, so among Q8_0, F16 and BF16
  the smallest file wins.
- **Fastest**: the highest low end of the generation range among chat models that run great at a
  quant of at least Q4_K_M's quality (a faster Q2 would be a worse answer, not a faster one).
- **Longest context**: the largest context that fits, among chat models that run great.
- **Vision** and **task models** (RAG, extraction, tool use ...): the most capable that runs great.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from llmcheck.catalog import Catalog, ModelVariant
from llmcheck.estimate import Fit, KvType, RunConfig, Verdict

__all__ = [
    "QUALITY_CAP_QUANT",
    "Alternative",
    "Pick",
    "Purpose",
    "Recommendations",
    "alternatives",
    "best_quant_of",
    "parameter_count",
    "recommend",
]

QUALITY_CAP_QUANT = "Q8_0"
FASTEST_MIN_QUALITY_QUANT = "Q4_K_M"
CHAT_TASK = "chat"
_SIZE_LABEL = re.compile(r"^(\d+(?:\.\d+)?)\s*([MB])", re.IGNORECASE)


class Purpose(StrEnum):
    """Why a pick was made; the values are the JSON strings."""

    BEST = "best"
    FASTEST = "fastest"
    LONGEST_CONTEXT = "longest_context"
    VISION = "vision"
    TASK = "task"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pick:
    """One recommended variant x quant, with what it was picked for."""

    purpose: Purpose
    variant_id: str
    variant_name: str
    task: str
    quant: str
    verdict: Verdict
    decode_low_tokens_per_second: float | None
    decode_high_tokens_per_second: float | None
    max_context_tokens: int | None
    file_size_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Recommendations:
    """The answer at the top: the best pick, and picks for a few purposes (None: nothing fits)."""

    best: Pick | None
    fastest: Pick | None
    longest_context: Pick | None
    vision: Pick | None
    tasks: tuple[Pick, ...]

    @property
    def picks(self) -> tuple[Pick, ...]:
        """Every pick, the best first, without repeats of the same variant x quant x purpose."""
        ordered = (self.best, self.fastest, self.longest_context, self.vision, *self.tasks)
        return tuple(p for p in ordered if p is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Alternative:
    """A configuration near a won't-fit one that does fit, and what changed."""

    change: str  # "smaller quant", "shorter context", "quantized KV cache", "CPU", "smaller model"
    variant_id: str
    quant: str
    config: RunConfig
    fit: Fit


_USABLE = (Verdict.RUNS_GREAT, Verdict.TIGHT)


def recommend(fits: Iterable[Fit], catalog: Catalog) -> Recommendations:
    """The picks for one machine and one set of settings, from every variant x quant's fit."""
    variants = {v.id: v for v in catalog.variants}
    known = [f for f in fits if f.variant_id in variants]
    great = [f for f in known if f.verdict is Verdict.RUNS_GREAT]
    usable = great or [f for f in known if f.verdict is Verdict.TIGHT]

    def pick(purpose: Purpose, fit: Fit | None) -> Pick | None:
        return None if fit is None else _pick(purpose, fit, variants[fit.variant_id])

    def capable(f: Fit) -> tuple[float, ...]:
        return _capability(f, variants[f.variant_id])

    chat = [f for f in usable if _is_chat(variants[f.variant_id])]
    best = max(chat, key=capable, default=None)
    floor = _quality(variants, FASTEST_MIN_QUALITY_QUANT)
    quick = [f for f in chat if f.speed is not None and _fit_quality(f, variants) >= floor]
    fastest = max(quick, key=lambda f: (_decode_low(f), capable(f)), default=None)
    longest = max(chat, key=lambda f: (f.max_context_tokens or 0, capable(f)), default=None)
    vision = max(
        (f for f in usable if variants[f.variant_id].kind == "vision"), key=capable, default=None
    )
    tasks: list[Pick] = []
    for task in sorted({v.task for v in catalog.variants if _is_task_model(v)}):
        candidates = [f for f in usable if variants[f.variant_id].task == task]
        found = pick(Purpose.TASK, max(candidates, key=capable, default=None))
        if found is not None:
            tasks.append(found)
    return Recommendations(
        best=pick(Purpose.BEST, best),
        fastest=pick(Purpose.FASTEST, fastest),
        longest_context=pick(Purpose.LONGEST_CONTEXT, longest),
        vision=pick(Purpose.VISION, vision),
        tasks=tuple(tasks),
    )


def best_quant_of(variant: ModelVariant, fits: Sequence[Fit]) -> Fit | None:
    """The quant to recommend for one variant: verdict first (great, then tight), then quality."""
    own = [f for f in fits if f.variant_id == variant.id]
    for verdict in _USABLE:
        same = [f for f in own if f.verdict is verdict]
        if same:
            return max(same, key=lambda f: _quant_rank(variant, f.quant))
    return None


def alternatives(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    catalog: Catalog,
    estimate: Callable[[ModelVariant, str, RunConfig], Fit],
    max_context: Callable[[ModelVariant, str, RunConfig], int | None],
    *,
    limit: int = 4,
) -> tuple[Alternative, ...]:
    """The nearest configurations that fit, for a variant x quant that does not.

    Tried in this order, each only when it changes something: a smaller quant of the same model
    at the same context; the same quant at the longest context that fits; a quantized (q8_0) KV
    cache with flash attention; the CPU instead of the GPU; the smaller models of the same task.
    ``estimate`` and ``max_context`` are the estimator's functions bound to one machine.
    """
    found: list[Alternative] = []

    def consider(change: str, v: ModelVariant, q: str, c: RunConfig) -> None:
        fit = estimate(v, q, c)
        if fit.verdict in _USABLE:
            found.append(Alternative(change=change, variant_id=v.id, quant=q, config=c, fit=fit))

    own_rank = _quant_rank(variant, quant)
    smaller = sorted(
        (q for q in variant.quants if _quant_rank(variant, q) < own_rank),
        key=lambda q: _quant_rank(variant, q),
        reverse=True,
    )
    for q in smaller:
        fit = estimate(variant, q, config)
        if fit.verdict in _USABLE:
            found.append(
                Alternative(
                    change="smaller quant", variant_id=variant.id, quant=q, config=config, fit=fit
                )
            )
            break
    longest = max_context(variant, quant, config)
    if longest is not None and longest < config.context_tokens:
        consider("shorter context", variant, quant, replace(config, context_tokens=longest))
    if config.kv_type is KvType.F16:
        consider(
            "quantized KV cache",
            variant,
            quant,
            replace(config, kv_type=KvType.Q8_0, flash_attn=True),
        )
    if config.device != "cpu":
        # A CPU run offloads nothing: an -ngl asked for the GPU does not carry over.
        consider("CPU", variant, quant, replace(config, device="cpu", gpu_layers=None))
    params = parameter_count(variant)
    peers = sorted(
        (
            v
            for v in catalog.variants
            if v.task == variant.task and v.kind == variant.kind and parameter_count(v) < params
        ),
        key=lambda v: (parameter_count(v), _release_key(v.released)),
        reverse=True,
    )
    for peer in peers:
        fits = [estimate(peer, q, config) for q in peer.quants]
        chosen = best_quant_of(peer, fits)
        if chosen is not None:
            found.append(
                Alternative(
                    change="smaller model",
                    variant_id=peer.id,
                    quant=chosen.quant,
                    config=config,
                    fit=chosen,
                )
            )
            break
    return tuple(found[:limit])


# --- ranking ----------------------------------------------------------------------------------


def _pick(purpose: Purpose, fit: Fit, variant: ModelVariant) -> Pick:
    speed = fit.speed
    return Pick(
        purpose=purpose,
        variant_id=fit.variant_id,
        variant_name=variant.name,
        task=variant.task,
        quant=fit.quant,
        verdict=fit.verdict,
        decode_low_tokens_per_second=None if speed is None else speed.low_tokens_per_second,
        decode_high_tokens_per_second=None if speed is None else speed.high_tokens_per_second,
        max_context_tokens=fit.max_context_tokens,
        file_size_bytes=fit.file_size_bytes,
    )


def _is_chat(variant: ModelVariant) -> bool:
    return variant.task == CHAT_TASK and variant.kind == "text"


def _is_task_model(variant: ModelVariant) -> bool:
    """A model tuned for one job (RAG, extraction, tool use ...): not chat, base or vision."""
    task = variant.task.lower()
    return (
        variant.kind == "text"
        and not task.startswith(CHAT_TASK)
        and not task.startswith("pretrained")
    )


def parameter_count(variant: ModelVariant) -> float:
    """Total parameters: the catalog's count, else read from the size label ("8B-A1B" -> 8e9)."""
    if variant.parameters is not None:
        return float(variant.parameters)
    match = _SIZE_LABEL.match(variant.size_label.strip())
    if match is None:
        return 0.0
    return float(match.group(1)) * (1e9 if match.group(2).upper() == "B" else 1e6)


def _capability(fit: Fit, variant: ModelVariant) -> tuple[float, ...]:
    great = 1.0 if fit.verdict is Verdict.RUNS_GREAT else 0.0
    return (
        great,
        parameter_count(variant),
        _release_key(variant.released),
        *_quant_rank(variant, fit.quant),
    )


def _quant_rank(variant: ModelVariant, quant: str) -> tuple[float, float]:
    """Quality up to Q8_0's, then the smaller file (as a negative size)."""
    table = variant.quant_table
    cap = table.quant(QUALITY_CAP_QUANT).quality_rank
    rank = min(table.quant(quant).quality_rank, cap)
    size = float(table.quant(quant).default_type.bits_per_weight)
    return (float(rank), -size)


def _quality(variants: dict[str, ModelVariant], quant: str) -> int:
    any_variant = next(iter(variants.values()), None)
    if any_variant is None:
        return 0
    return any_variant.quant_table.quant(quant).quality_rank


def _fit_quality(fit: Fit, variants: dict[str, ModelVariant]) -> int:
    return variants[fit.variant_id].quant_table.quant(fit.quant).quality_rank


def _decode_low(fit: Fit) -> float:
    return 0.0 if fit.speed is None else fit.speed.low_tokens_per_second


def _release_key(released: str) -> float:
    """ "2025-07-10" -> 20250710.0; "2025-07" -> 20250700.0; anything else sorts first."""
    digits = released.replace("-", "")
    if not digits.isdigit():
        return 0.0
    return float(digits.ljust(8, "0")[:8])
