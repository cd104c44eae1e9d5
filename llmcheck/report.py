"""The report: one plain dictionary that is the ``llmcheck --json`` contract.

:func:`build_report` turns a machine snapshot and the estimator's fits into the document that
``resources/json-schema/llmcheck-report.schema.json`` publishes and ``docs/json-output.md``
documents. The text report (``llmcheck.render.text``) and the Markdown export
(``llmcheck.render.markdown``) are rendered from the same dict, so they can never disagree.

Everything here is pure: no I/O, no printing, no clock. Byte counts are ``int`` bytes, unknown is
``None`` (JSON ``null``), enums are their string values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    from llmcheck.recommend import Alternative, Pick, Recommendations
    from llmcheck.scan import FoundModel, ScanResult

# The report and the snapshot share one version number: a report is also a readable snapshot.
REPORT_SCHEMA_VERSION = SNAPSHOT_SCHEMA_VERSION

KIND_REPORT = "report"  # the whole machine: every variant x quant
KIND_CHECK = "check"  # one question: one variant x quant x settings
KIND_LIST = "list"  # the catalog: variants and quantizations
KIND_FLEET = "fleet"  # one question over many recorded machines: one row per machine
KIND_SCAN = "scan"  # the LFM2-family GGUF files on this machine, each with its verdict
DEFAULT_RUNTIME = "llama-server"

# The speed classes of a generation range's low end, against the "runs great" floor (--min-speed;
# the default 10 tok/s when that is 0): "fast" at twice the floor or more, "usable" at the floor,
# "slow" below it.
SPEED_CLASSES = ("fast", "usable", "slow")
# A device holding at least this share of a model's memory counts toward its budget_bytes.
SIGNIFICANT_SHARE = 0.1
# A file's answer: its fit, the variant it was answered as, its source_file dict.
FileAnswer = tuple["Fit", "ModelVariant", Mapping[str, Any]]
FAST_FACTOR = 2.0


def build_report(
    snapshot: SystemSnapshot,
    fits: Iterable[Fit],
    config: RunConfig | None,
    *,
    catalog: Catalog | None,
    budgets: Sequence[DeviceBudget] | None = None,
    problems: Iterable[Issue] = (),
    runtime: str = DEFAULT_RUNTIME,
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
        runtime: the program that runs the models (``llmcheck.estimate.runtime.Runtime``): each
            model's ``runtime_command`` is its command.

    Returns:
        The JSON-ready document.
    """
    if budgets is None:
        from llmcheck.estimate import budgets as compute_budgets

        budgets = compute_budgets(snapshot)
    fits = tuple(fits)
    picks = None
    if catalog is not None and config is not None:
        from llmcheck.recommend import recommend

        picks = recommendations_to_dict(recommend(fits, catalog), fits, config)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "llmcheck_version": __version__,
        "kind": KIND_REPORT,
        "recommendations": picks,
        "machine": snapshot_to_dict(snapshot),
        "budgets": [budget_to_dict(b) for b in budgets],
        "settings": None if config is None else settings_to_dict(config, runtime=runtime),
        "models": [fit_to_dict(f, catalog=catalog, runtime=runtime) for f in fits],
        "problems": [issue_to_dict(p) for p in (*snapshot.problems, *problems)],
    }


def build_check(
    snapshot: SystemSnapshot,
    fit: Fit,
    *,
    catalog: Catalog | None,
    budgets: Sequence[DeviceBudget] | None = None,
    problems: Iterable[Issue] = (),
    alternatives: Sequence[Alternative] = (),
    runtime: str = DEFAULT_RUNTIME,
    variant: ModelVariant | None = None,
    source_file: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The answer to one question (``"kind": "check"``): the machine plus one model object.

    ``alternatives`` (``llmcheck.recommend.alternatives``) are the nearest configurations that
    fit when this one does not, each with its own verdict and command. ``variant``: the model
    when it is not the catalog's (a GGUF file's own); ``source_file``: the file asked about
    (:func:`source_file_to_dict`), its answer ``published`` only when it is Liquid AI's file.
    """
    doc = build_report(
        snapshot,
        (),
        fit.config,
        catalog=None,
        budgets=budgets,
        problems=problems,
        runtime=runtime,
    )
    doc["kind"] = KIND_CHECK
    del doc["models"]
    del doc["recommendations"]
    doc["model"] = fit_to_dict(
        fit, catalog=catalog, runtime=runtime, variant=variant, source_file=source_file
    )
    doc["alternatives"] = [alternative_to_dict(a, catalog=catalog) for a in alternatives]
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
        "quants": [
            quant_to_dict(q, published=any(q.name in v.quants for v in catalog.variants))
            for q in catalog.quants
        ],
    }


def build_fleet(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    machines: Sequence[tuple[str, SystemSnapshot | None, Fit | str]],
) -> dict[str, Any]:
    """One question over many machines (``"kind": "fleet"``): one row per machine.

    Args:
        variant: the model asked about.
        quant: its quantization (as the catalog spells it).
        config: the settings every machine was judged with.
        machines: (label, snapshot, fit) per machine in the order given; a machine whose file
            could not be read has no snapshot and, in place of the fit, the reason (one line).
    """
    rows = [fleet_row(label, snap, answer) for label, snap, answer in machines]
    fits = sum(1 for r in rows if r["verdict"] in ("runs_great", "tight"))
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "llmcheck_version": __version__,
        "kind": KIND_FLEET,
        "variant": variant.id,
        "name": variant.name,
        "quant": quant,
        "settings": settings_to_dict(config),
        "fits_on": fits,
        "machines": rows,
    }


def fleet_row(label: str, snapshot: SystemSnapshot | None, answer: Fit | str) -> dict[str, Any]:
    """One machine of a fleet: what it is, and the answer for the question on it."""
    if isinstance(answer, str) or snapshot is None:
        return {
            "label": label,
            "hardware": None,
            "verdict": None,
            "limited_by": None,
            "placement": None,
            "gpu_layers": None,
            "total_bytes": None,
            "budget_bytes": None,
            "shortfall_bytes": None,
            "max_context": None,
            "tokens_per_second": None,
            "speed_class": None,
            "llama_cpp_command": None,
            "error": str(answer),
        }
    fit = answer
    budget, short = shortfall(fit)
    return {
        "label": label,
        "hardware": hardware_label(snapshot),
        "verdict": str(fit.verdict),
        "limited_by": None if fit.limited_by is None else str(fit.limited_by),
        "placement": str(fit.placement),
        "gpu_layers": fit.gpu_layers,
        "total_bytes": fit.total_bytes,
        "budget_bytes": budget,
        "shortfall_bytes": short,
        "max_context": fit.max_context_tokens,
        "tokens_per_second": None if fit.speed is None else speed_to_dict(fit.speed),
        "speed_class": speed_class(fit),
        "llama_cpp_command": fit.llama_cpp_command if _usable(fit) else None,
        "error": None,
    }


def build_scan(
    snapshot: SystemSnapshot,
    result: ScanResult,
    answers: Sequence[FileAnswer | str | None],
    config: RunConfig,
    *,
    catalog: Catalog | None,
    runtime: str = DEFAULT_RUNTIME,
) -> dict[str, Any]:
    """The LFM2-family files on this machine (``"kind": "scan"``), each with its verdict.

    ``answers``: one per ``result.models``, in order: (the file's fit, the variant it was
    answered as, its ``source_file`` dict), the reason it could not be answered (one line), or
    None for a vision projector (answered with its model).
    """
    doc = build_report(snapshot, (), config, catalog=None, runtime=runtime)
    doc["kind"] = KIND_SCAN
    del doc["models"]
    del doc["recommendations"]
    doc.update(scan_to_dict(result, answers, catalog=catalog, runtime=runtime))
    doc["problems"] = doc.pop("problems")
    return doc


def scan_to_dict(
    result: ScanResult,
    answers: Sequence[FileAnswer | str | None],
    *,
    catalog: Catalog | None,
    runtime: str = DEFAULT_RUNTIME,
) -> dict[str, Any]:
    """``local_models`` (one per file found) and ``scan`` (where it looked, what it skipped)."""
    models = [
        local_model_to_dict(found, answer, catalog=catalog, runtime=runtime)
        for found, answer in zip(result.models, answers, strict=True)
    ]
    return {
        "local_models": models,
        "scan": {
            "folders": [{"store": str(r.store), "path": str(r.path)} for r in result.roots_scanned],
            "other_architecture_files": result.other_architecture_files,
            "unreadable_files": result.unreadable_files,
            "complete": result.complete,
            "elapsed_s": round(result.elapsed_s, 3),
            "notes": [
                {"path": None if n.path is None else str(n.path), "message": n.message}
                for n in result.notes
            ],
        },
    }


def local_model_to_dict(
    found: FoundModel,
    answer: FileAnswer | str | None,
    *,
    catalog: Catalog | None,
    runtime: str = DEFAULT_RUNTIME,
) -> dict[str, Any]:
    """One file found on this machine: where, what it is, and its answer (a model object)."""
    from llmcheck.gguf import Lfm2Projector

    model = None
    if answer is not None and not isinstance(answer, str):
        fit, variant, source = answer
        model = fit_to_dict(
            fit, catalog=catalog, runtime=runtime, variant=variant, source_file=source
        )
    return {
        "store": str(found.store),
        "path": str(found.path),
        "label": found.label,
        "kind": "projector" if isinstance(found.model, Lfm2Projector) else "model",
        "file_size_bytes": found.file_size_bytes,
        "projector_path": None if found.projector_path is None else str(found.projector_path),
        "model": model,
        "error": answer if isinstance(answer, str) else None,
    }


def hardware_label(snapshot: SystemSnapshot) -> str:
    """A short name for a machine's hardware: its GPUs' names, else the CPU's brand."""
    names = [g.name for g in snapshot.gpus if g.name and g.is_primary]
    if names:
        counts: dict[str, int] = {}
        for n in names:
            counts[n] = counts.get(n, 0) + 1
        return " + ".join(n if c == 1 else f"{c}x {n}" for n, c in counts.items())
    return snapshot.cpu.brand or "unknown CPU"


# --- parts -----------------------------------------------------------------------------------


def settings_to_dict(config: RunConfig, *, runtime: str = DEFAULT_RUNTIME) -> dict[str, Any]:
    """The run settings an estimate assumed, and the program assumed to run the model."""
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
        "threads": config.threads,
        "runtime": runtime,
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


def fit_to_dict(
    fit: Fit,
    *,
    catalog: Catalog | None,
    runtime: str = DEFAULT_RUNTIME,
    variant: ModelVariant | None = None,
    source_file: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One model object: a variant x quant under the report's settings.

    ``context_tokens`` is the context this answer used: the asked one, or the model's own
    maximum where that is shorter (``settings.context_tokens`` is what was asked).
    ``published``: Liquid AI publishes this variant in this quant (a community quant is
    answered from llama-quantize's rules, and a file asked about is published only when its
    tensors are Liquid AI's file's). ``runtime_command`` runs it in ``runtime``; its
    assumptions are added to ``assumptions``.
    """
    budget, short = shortfall(fit)
    model = variant if variant is not None else _catalog_variant(fit.variant_id, catalog)
    if source_file is not None:
        published = bool(source_file.get("matches_catalog")) and _published(model, fit.quant)
    else:
        published = _published(model, fit.quant)
    command, assumptions = _runtime_parts(fit, model, runtime, source_file)
    return {
        "variant": fit.variant_id,
        "name": model.name if model is not None else None,
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
        "assumptions": [*fit.assumptions, *assumptions],
        "context_tokens": fit.config.context_tokens,
        "budget_bytes": budget,
        "shortfall_bytes": short,
        "speed_class": speed_class(fit),
        "published": published,
        "n_cpu_moe": fit.n_cpu_moe,
        "runtime_command": command,
        "source_file": None if source_file is None else dict(source_file),
    }


def _catalog_variant(variant_id: str, catalog: Catalog | None) -> ModelVariant | None:
    if catalog is None:
        return None
    try:
        return catalog.variant(variant_id)
    except KeyError:
        return None


def _published(variant: ModelVariant | None, quant: str) -> bool:
    from llmcheck.catalog import is_published

    return variant is not None and is_published(variant, quant)


def _runtime_parts(
    fit: Fit, variant: ModelVariant | None, runtime: str, source_file: Mapping[str, Any] | None
) -> tuple[str, tuple[str, ...]]:
    """The command that runs ``fit`` in ``runtime``, and what that runtime adds to assume."""
    if runtime == DEFAULT_RUNTIME or variant is None:
        return fit.llama_cpp_command, ()
    from llmcheck.estimate.runtime import Runtime, runtime_assumptions, runtime_command

    chosen = Runtime(runtime)
    path = None if source_file is None else source_file.get("path")
    return (
        runtime_command(fit, variant, chosen, model_file=path),
        runtime_assumptions(fit, chosen),
    )


def source_file_to_dict(
    path: str,
    projector_path: str | None,
    *,
    matches_catalog: bool,
    catalog_variant: str | None,
    how: str,
    architecture: str,
) -> dict[str, Any]:
    """The GGUF file a check asked about (``model.source_file``)."""
    return {
        "path": path,
        "projector_path": projector_path,
        "architecture": architecture,
        "matches_catalog": matches_catalog,
        "catalog_variant": catalog_variant,
        "how": how,
    }


def shortfall(fit: Fit) -> tuple[int | None, int | None]:
    """(budget, shortfall) in bytes: what the devices the plan uses may hold (those holding
    layers or at least :data:`SIGNIFICANT_SHARE` of the model), and how much more than that a
    configuration that will not fit needs (None unless it is "won't fit").

    The shortfall is each device's need above its own budget, added up: a GPU 2 GiB over and a
    CPU with room to spare is 2 GiB short, never "fits in the sum".
    """
    # The devices the model is on: those holding layers, and any holding a real share of it
    # (MoE experts kept in RAM); not a CPU that only keeps llama.cpp's host buffers.
    share = fit.total_bytes * SIGNIFICANT_SHARE
    used = [d for d in fit.devices if d.layers > 0 or d.terms.total_bytes >= share] or [
        d for d in fit.devices if d.terms.total_bytes > 0
    ]
    if not used or any(d.budget_bytes is None for d in used):
        return None, None
    budget = sum(d.budget_bytes or 0 for d in used)
    if str(fit.verdict) != "wont_fit":
        return budget, None
    over = sum(max(0, d.terms.total_bytes - (d.budget_bytes or 0)) for d in used)
    return budget, over or max(0, fit.total_bytes - budget) or None


def speed_class(fit: Fit) -> str | None:
    """ "fast", "usable" or "slow": the generation range's low end against the floor.

    The floor is ``--min-speed`` (``min_decode_tokens_per_second``), or the default 10 tok/s when
    it is 0; "fast" is at least twice the floor. None when there is no speed (won't fit, unknown).
    """
    if fit.speed is None:
        return None
    from llmcheck.estimate.types import DEFAULT_MIN_DECODE_TOKENS_PER_SECOND

    floor = fit.config.min_decode_tokens_per_second or DEFAULT_MIN_DECODE_TOKENS_PER_SECOND
    low = fit.speed.low_tokens_per_second
    if low >= FAST_FACTOR * floor:
        return "fast"
    return "usable" if low >= floor else "slow"


def _usable(fit: Fit) -> bool:
    return str(fit.verdict) in ("runs_great", "tight")


def recommendations_to_dict(
    rec: Recommendations, fits: Sequence[Fit], config: RunConfig
) -> dict[str, Any]:
    """The answer at the top: the best pick and a pick per purpose (``summary`` is worded by
    ``llmcheck.render.words.summarize``, which the CLI and the window call)."""
    by_key = {(f.variant_id, f.quant): f for f in fits}
    if rec.best is not None:
        verdict = str(rec.best.verdict)
    elif any(str(f.verdict) == "unknown" for f in fits):
        verdict = "unknown"
    else:
        verdict = "wont_fit" if fits else "unknown"
    return {
        "summary": None,
        "verdict": verdict,
        "context_tokens": config.context_tokens,
        "best": _pick_dict(rec.best, by_key),
        "fastest": _pick_dict(rec.fastest, by_key),
        "longest_context": _pick_dict(rec.longest_context, by_key),
        "vision": _pick_dict(rec.vision, by_key),
        "tasks": [_pick_dict(p, by_key) for p in rec.tasks],
    }


def _pick_dict(pick: Pick | None, fits: dict[tuple[str, str], Fit]) -> dict[str, Any] | None:
    if pick is None:
        return None
    fit = fits.get((pick.variant_id, pick.quant))
    speed = None
    if pick.decode_low_tokens_per_second is not None:
        speed = {
            "low": pick.decode_low_tokens_per_second,
            "high": pick.decode_high_tokens_per_second,
        }
    return {
        "purpose": str(pick.purpose),
        "variant": pick.variant_id,
        "name": pick.variant_name,
        "task": pick.task,
        "quant": pick.quant,
        "verdict": str(pick.verdict),
        "reason": None if fit is None else fit.reason,
        "file_size_bytes": pick.file_size_bytes,
        "tokens_per_second": speed,
        "max_context": pick.max_context_tokens,
        "llama_cpp_command": None if fit is None else fit.llama_cpp_command,
    }


def alternative_to_dict(alt: Alternative, *, catalog: Catalog | None) -> dict[str, Any]:
    """A nearby configuration that fits: what changed, its settings, verdict and command."""
    fit = alt.fit
    return {
        "change": alt.change,
        "variant": alt.variant_id,
        "name": _variant_name(alt.variant_id, catalog),
        "quant": alt.quant,
        "verdict": str(fit.verdict),
        "context_tokens": fit.config.context_tokens,
        "kv_type": str(fit.config.kv_type),
        "device": fit.config.device,
        "placement": str(fit.placement),
        "total_bytes": fit.total_bytes,
        "max_context": fit.max_context_tokens,
        "tokens_per_second": None if fit.speed is None else speed_to_dict(fit.speed),
        "llama_cpp_command": fit.llama_cpp_command,
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
        "depth_tokens": speed.depth_tokens,
        "threads": speed.threads,
        "empty_low": speed.empty_low_tokens_per_second,
        "empty_high": speed.empty_high_tokens_per_second,
        "full_low": speed.full_low_tokens_per_second,
        "full_high": speed.full_high_tokens_per_second,
        "prompt_empty_low": speed.prompt_empty_low_tokens_per_second,
        "prompt_empty_high": speed.prompt_empty_high_tokens_per_second,
    }


def variant_to_dict(variant: ModelVariant) -> dict[str, Any]:
    """One catalog variant, for ``llmcheck list --json``: ``quants`` are the published ones,
    ``community_quants`` the others llmcheck sizes from llama-quantize's rules."""
    from llmcheck.catalog import community_quants

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
        "community_quants": list(community_quants(variant)),
    }


def quant_to_dict(quant: QuantType, *, published: bool) -> dict[str, Any]:
    """One quantization type, for ``llmcheck list --json``; ``published``: some variant is."""
    return {
        "name": quant.name,
        "nominal_bits_per_weight": quant.nominal_bits_per_weight,
        "quality_rank": quant.quality_rank,
        "quality_note": quant.quality_note,
        "published": published,
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
