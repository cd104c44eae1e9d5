"""The report: one plain dictionary that is the ``llmcheck --json`` contract.

:func:`build_report` turns a machine snapshot and the estimator's fits into the document that
``resources/json-schema/llmcheck-report.schema.json`` publishes and ``docs/json-output.md``
documents. The text table (:func:`format_text`) and the JSON are rendered from the same dict, so
they can never disagree.

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

# The report and the snapshot share one version number: a report is also a readable snapshot.
REPORT_SCHEMA_VERSION = SNAPSHOT_SCHEMA_VERSION

KIND_REPORT = "report"  # the whole machine: every variant x quant
KIND_CHECK = "check"  # one question: one variant x quant x settings
KIND_LIST = "list"  # the catalog: variants and quantizations

TERM_NAMES = ("weights", "repack", "kv_cache", "recurrent_state", "compute", "output",
              "overhead")


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


# --- text ------------------------------------------------------------------------------------

VERDICT_WORDS = {
    "runs_great": "runs great",
    "tight": "tight",
    "wont_fit": "won't fit",
    "unknown": "unknown",
}


def format_bytes(value: int | None) -> str:
    """Bytes for people: binary units, as llama.cpp prints them ("23.50 GiB")."""
    if value is None:
        return "unknown"
    if value < 1 << 20:
        return f"{value / (1 << 10):.0f} KiB" if value >= 1 << 10 else f"{value} B"
    if value < 1 << 30:
        return f"{value / (1 << 20):.0f} MiB"
    return f"{value / (1 << 30):.2f} GiB"


def format_tokens(value: int | None) -> str:
    """A context length for people: 32768 -> "32k", 128000 -> "128000" (not "125k")."""
    if value is None:
        return "unknown"
    if value >= 1024 and value % 1024 == 0 and value % 1000 != 0:
        return f"{value // 1024}k"
    return str(value)


def format_text(report: Mapping[str, Any]) -> str:
    """A human-readable rendering of a report, check or list document."""
    kind = report.get("kind", KIND_REPORT)
    if kind == KIND_LIST:
        return _format_list(report)
    lines = [*_machine_lines(report), ""]
    settings = report.get("settings")
    if settings is not None:
        lines.append(_settings_line(settings))
        lines.append("")
    if kind == KIND_CHECK:
        lines.extend(_check_lines(report["model"]))
    else:
        models = report.get("models", [])
        if models:
            lines.extend(_table(_MODEL_HEADERS, [_model_row(m) for m in models]))
        else:
            lines.append("No models were estimated.")
    problems = report.get("problems", [])
    if problems:
        lines.append("")
        lines.append("Problems:")
        for p in problems:
            where = "" if p.get("device_index") is None else f" (gpu:{p['device_index']})"
            lines.append(f"  [{p['source']}{where}] {p['code']}: {p['message']}")
            if p.get("hint"):
                lines.append(f"      hint: {p['hint']}")
    return "\n".join(lines) + "\n"


def _machine_lines(report: Mapping[str, Any]) -> list[str]:
    machine = report["machine"]
    os_doc, cpu, mem = machine["os"], machine["cpu"], machine["memory"]
    os_text = " ".join(x for x in (os_doc["system"], os_doc.get("release"), os_doc.get("machine"))
                       if x)
    extras = [w for w, on in (("WSL", os_doc.get("is_wsl")),
                              ("container", os_doc.get("in_container"))) if on]
    if extras:
        os_text += f" ({', '.join(extras)})"
    cores = cpu.get("cores")
    cpu_text = cpu.get("brand") or "unknown CPU"
    if cores is not None:
        cpu_text += f", {cores} cores"
    ram = (f"{format_bytes(mem.get('total_bytes'))} total, "
           f"{format_bytes(mem.get('available_bytes'))} available ({mem.get('source')})")
    if mem.get("limit_bytes") is not None:
        ram += f", container limit {format_bytes(mem['limit_bytes'])} ({mem.get('limit_source')})"
    lines = [f"llmcheck {report.get('llmcheck_version', '')}".rstrip(),
             f"OS:     {os_text}", f"CPU:    {cpu_text}", f"Memory: {ram}"]
    gpus = machine.get("gpus", [])
    if not gpus:
        lines.append("GPUs:   none found")
    for g in gpus:
        kind = "unified" if g.get("unified_memory") else g.get("memory_kind", "discrete")
        mem_text = (f"{format_bytes(g.get('total_bytes'))} {kind}, "
                    f"{format_bytes(g.get('free_bytes'))} free ({g.get('source')})")
        if g.get("working_set_cap_bytes") is not None:
            mem_text += (f", GPU cap {format_bytes(g['working_set_cap_bytes'])}"
                         f" ({g.get('working_set_cap_source')})")
        if g.get("bandwidth_gb_s") is not None:
            mem_text += f", {g['bandwidth_gb_s']:.0f} GB/s ({g.get('bandwidth_source')})"
        lines.append(f"GPU {g['index']}:  {g.get('name') or 'unknown GPU'}: {mem_text}")
    budgets = report.get("budgets", [])
    if budgets:
        parts = [f"{b['device']} {format_bytes(b['budget_bytes'])} ({b.get('source')})"
                 for b in budgets]
        lines.append(f"Budget: {'; '.join(parts)}")
    return lines


def _settings_line(settings: Mapping[str, Any]) -> str:
    return (f"Settings: context {format_tokens(settings['context_tokens'])}, "
            f"KV cache {settings['kv_type']}, flash attention "
            f"{'on' if settings['flash_attn'] else 'off'}, parallel {settings['parallel']}, "
            f"ubatch {settings['ubatch']}, device {settings.get('device', 'auto')}")


_MODEL_HEADERS = ("Model", "Quant", "File", "Verdict", "Needs", "Where", "Max ctx", "Decode tok/s")


def _speed_text(speed: Mapping[str, Any] | None) -> str:
    if speed is None or speed.get("low") is None or speed.get("high") is None:
        return "unknown"
    return f"{speed['low']:.0f}-{speed['high']:.0f}"


def _model_row(model: Mapping[str, Any]) -> tuple[str, ...]:
    placement = model.get("placement") or ""
    if placement == "split" and model.get("gpu_layers") is not None:
        placement = f"split ({model['gpu_layers']} layers on GPU)"
    return (
        model.get("name") or model["variant"],
        model["quant"],
        format_bytes(model.get("file_size_bytes")),
        VERDICT_WORDS.get(model["verdict"], model["verdict"]),
        format_bytes(model["memory"]["total_bytes"]),
        placement,
        format_tokens(model.get("max_context")),
        _speed_text(model.get("tokens_per_second")),
    )


def _check_lines(model: Mapping[str, Any]) -> list[str]:
    name = model.get("name") or model["variant"]
    lines = [f"{name} {model['quant']}: {VERDICT_WORDS.get(model['verdict'], model['verdict'])}"]
    if model.get("reason"):
        lines.append(f"  {model['reason']}")
    lines.append(f"  file {format_bytes(model.get('file_size_bytes'))}, needs "
                 f"{format_bytes(model['memory']['total_bytes'])} in all, placement "
                 f"{model.get('placement')}, largest context that fits "
                 f"{format_tokens(model.get('max_context'))}")
    for d in model["memory"]["devices"]:
        terms = ", ".join(f"{k} {format_bytes(v)}" for k, v in d["terms"].items())
        lines.append(f"  {d['device']}: {format_bytes(d.get('total_bytes'))} of "
                     f"{format_bytes(d.get('budget_bytes'))} ({terms})")
    speed = model.get("tokens_per_second")
    if speed is not None:
        lines.append(f"  decode {_speed_text(speed)} tok/s; {speed.get('basis', '')}")
    lines.append(f"  llama.cpp: {model['llama_cpp_command']}")
    for a in model.get("assumptions", []):
        lines.append(f"  assumes: {a}")
    return lines


def _format_list(doc: Mapping[str, Any]) -> str:
    rows = [
        (v["id"], v["name"], v["kind"], format_tokens(v.get("trained_context_tokens")),
         format_tokens(v.get("gguf_context_tokens")), " ".join(v["quants"]))
        for v in doc["variants"]
    ]
    lines = _table(("Variant", "Name", "Kind", "Trained ctx", "Max ctx", "Quants"), rows)
    lines.append("")
    lines.append("Quantizations: " + " ".join(q["name"] for q in doc["quants"]))
    return "\n".join(lines) + "\n"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
               for r in rows)
    return out
