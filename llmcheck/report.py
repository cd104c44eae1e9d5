"""The report: one plain dictionary that is the ``llmcheck --json`` contract.

:func:`build_report` turns a machine snapshot and the estimator's fits into the document that
``resources/json-schema/llmcheck-report.schema.json`` publishes and ``docs/json-output.md``
documents. The text report (``llmcheck.render.text``) and the Markdown export
(``llmcheck.render.markdown``) are rendered from the same dict, so they can never disagree.

Everything here is pure: no I/O, no printing, no clock. Byte counts are ``int`` bytes, unknown is
``None`` (JSON ``null``), enums are their string values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from llmcheck import __version__
from llmcheck.snapshot import (
    SNAPSHOT_SCHEMA_VERSION,
    Issue,
    SystemSnapshot,
    issue_to_dict,
    snapshot_to_dict,
)

if TYPE_CHECKING:
    from llmcheck.catalog import Catalog, ModelVariant, QuantType
    from llmcheck.estimate import DeviceBudget, DeviceUse, Fit, RunConfig, SpeedRange

# The report and the snapshot share one version number: a report is also a readable snapshot.
REPORT_SCHEMA_VERSION = SNAPSHOT_SCHEMA_VERSION

KIND_REPORT = "report"  # the whole machine: every variant x quant
KIND_CHECK = "check"  # one question: one variant x quant x settings
KIND_LIST = "list"  # the catalog: variants and quantizations

def build_report(
    snapshot: SystemSnapshot,
    fits: Iterable[Fit],
    config: RunConfig | None,
    *,
    catalog: Catalog | None,
    budgets: Sequence[DeviceBudget] | None = None,
    problems: Iterable[Issue] = (),
) -> dict[str, Any]:
    """The whole-machine report (``"kind": "report"``).

    Args:
        snapshot: the machine, as probed or read back from a file.
        fits: the estimator's answers (``llmcheck.estimate.estimate_all``), in display order.
        config: the settings every fit was computed with; None when no model was estimated.
        catalog: names the variants; None when the catalog could not be loaded.
        budgets: what each device may hold; computed with ``llmcheck.estimate.budgets`` when None.
        problems: llmcheck's own problems (e.g. a catalog that failed to load), listed after the
            probe's.

    Returns:
        The JSON-ready document.
    """
    if budgets is None:
        from llmcheck.estimate import budgets as compute_budgets

        budgets = compute_budgets(snapshot)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "llmcheck_version": __version__,
        "kind": KIND_REPORT,
        "machine": snapshot_to_dict(snapshot),
        "budgets": [budget_to_dict(b) for b in budgets],
        "settings": None if config is None else settings_to_dict(config),
        "models": [fit_to_dict(f, catalog=catalog) for f in fits],
        "problems": [issue_to_dict(p) for p in (*snapshot.problems, *problems)],
    }


def build_check(
    snapshot: SystemSnapshot,
    fit: Fit,
    *,
    catalog: Catalog | None,
    budgets: Sequence[DeviceBudget] | None = None,
    problems: Iterable[Issue] = (),
) -> dict[str, Any]:
    """The answer to one question (``"kind": "check"``): the machine plus one model object."""
    doc = build_report(
        snapshot, (), fit.config, catalog=catalog, budgets=budgets, problems=problems
    )
    doc["kind"] = KIND_CHECK
    del doc["models"]
    doc["model"] = fit_to_dict(fit, catalog=catalog)
    # Keep "problems" last, where a reader of the document expects it.
    doc["problems"] = doc.pop("problems")
    return doc


def build_list(catalog: Catalog) -> dict[str, Any]:
    """The catalog as data (``"kind": "list"``): every variant and quantization."""
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "llmcheck_version": __version__,
        "kind": KIND_LIST,
        "variants": [variant_to_dict(v) for v in catalog.variants],
        "quants": [quant_to_dict(q) for q in catalog.quants],
    }


# --- parts -----------------------------------------------------------------------------------


def settings_to_dict(config: RunConfig) -> dict[str, Any]:
    """The run settings an estimate assumed."""
    return {
        "context_tokens": config.context_tokens,
        "kv_type": str(config.kv_type),
        "flash_attn": config.flash_attn,
        "parallel": config.parallel,
        "ubatch": config.ubatch,
        "device": config.device,
        "mmap": config.mmap,
        "front_end": str(config.front_end),
        "gpu_layers": config.gpu_layers,
        "min_decode_tokens_per_second": config.min_decode_tokens_per_second,
    }


def budget_to_dict(budget: DeviceBudget) -> dict[str, Any]:
    """What one device may hold, and where that number came from."""
    return {
        "device": budget.device,
        "name": budget.name,
        "kind": budget.kind,
        "backend": budget.backend,
        "gpu_index": budget.gpu_index,
        "budget_bytes": budget.budget_bytes,
        "source": budget.budget_source,
        "margin_bytes": budget.margin_bytes,
        "overhead_bytes": budget.overhead_bytes,
        "bandwidth_gb_s": budget.bandwidth_gb_s,
        "bandwidth_source": _opt_str(budget.bandwidth_source),
    }


def fit_to_dict(fit: Fit, *, catalog: Catalog | None) -> dict[str, Any]:
    """One model object: a variant x quant under the report's settings."""
    return {
        "variant": fit.variant_id,
        "name": _variant_name(fit.variant_id, catalog),
        "quant": fit.quant,
        "file_size_bytes": fit.file_size_bytes,
        "verdict": str(fit.verdict),
        "limited_by": None if fit.limited_by is None else str(fit.limited_by),
        "placement": str(fit.placement),
        "reason": fit.reason,
        "memory": {
            "total_bytes": fit.total_bytes,
            "devices": [device_use_to_dict(d) for d in fit.devices],
        },
        "max_context": fit.max_context_tokens,
        "gpu_layers": fit.gpu_layers,
        "tokens_per_second": None if fit.speed is None else speed_to_dict(fit.speed),
        "llama_cpp_command": fit.llama_cpp_command,
        "assumptions": list(fit.assumptions),
    }


def device_use_to_dict(use: DeviceUse) -> dict[str, Any]:
    """What a model puts on one device, term by term."""
    terms = use.terms
    return {
        "device": use.device,
        "name": use.name,
        "budget_bytes": use.budget_bytes,
        "budget_source": _opt_str(use.budget_source),
        "layers": use.layers,
        "total_bytes": terms.total_bytes,
        "mmap_cache_bytes": terms.mmap_cache_bytes,
        "terms": {
            "weights": terms.weights_bytes,
            "repack": terms.repack_bytes,
            "kv_cache": terms.kv_cache_bytes,
            "recurrent_state": terms.recurrent_state_bytes,
            "compute": terms.compute_bytes,
            "output": terms.output_bytes,
            "overhead": terms.overhead_bytes,
        },
    }


def speed_to_dict(speed: SpeedRange) -> dict[str, Any]:
    """A decode and prompt-processing speed range, with the model behind it."""
    return {
        "low": speed.low_tokens_per_second,
        "high": speed.high_tokens_per_second,
        "prompt_low": speed.prompt_low_tokens_per_second,
        "prompt_high": speed.prompt_high_tokens_per_second,
        "basis": speed.basis,
        "bandwidth_gb_s": speed.bandwidth_gb_s,
        "bandwidth_source": _opt_str(speed.bandwidth_source),
    }


def variant_to_dict(variant: ModelVariant) -> dict[str, Any]:
    """One catalog variant, for ``llmcheck list --json``."""
    return {
        "id": variant.id,
        "name": variant.name,
        "family": variant.family,
        "size_label": variant.size_label,
        "kind": variant.kind,
        "quants": list(variant.quants),
        "trained_context_tokens": variant.trained_context_tokens,
        "gguf_context_tokens": variant.gguf_context_tokens,
        "hf_repo": variant.hf_repo,
        "license": variant.license,
        "released": _opt_str(variant.released),
        "task": variant.task,
        "description": variant.description,
    }


def quant_to_dict(quant: QuantType) -> dict[str, Any]:
    """One quantization type, for ``llmcheck list --json``."""
    return {
        "name": quant.name,
        "nominal_bits_per_weight": quant.nominal_bits_per_weight,
        "quality_rank": quant.quality_rank,
        "quality_note": quant.quality_note,
    }


def _variant_name(variant_id: str, catalog: Catalog | None) -> str | None:
    if catalog is None:
        return None
    try:
        return catalog.variant(variant_id).name
    except KeyError:
        return None


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)
