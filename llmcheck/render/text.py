"""The text report: what ``llmcheck``, ``llmcheck check`` and ``llmcheck list`` print.

Rendered from the same document as ``--json`` (``llmcheck.report``), so the two never disagree.
Every number goes through :mod:`llmcheck.units`, every verdict and placement word through
:mod:`llmcheck.render.words`, and every string that came from the machine or a snapshot file
(GPU name, CPU brand, OS release, problem messages, sources) through
:func:`~llmcheck.units.clean_text`, so a newline or an escape sequence in a field can
neither forge a line nor drive the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmcheck.render.words import (
    CALM_NVIDIA_CODES,
    NO_NVIDIA_NOTE,
    PURPOSE_WORDS,
    SPEED_CLASS_WORDS,
    context_words,
    pick_words,
    placement_short,
    shortfall_words,
    summary_sentence,
    verdict_words,
)
from llmcheck.units import (
    UNKNOWN,
    clean_text,
    format_bandwidth,
    format_bytes,
    format_speed,
    format_tokens,
    os_name,
)

__all__ = ["alternative_line", "answer_lines", "format_text", "speed_text"]

# A problem message or a llama.cpp command may be long; a name or a source is not.
_LONG = 2000
COMMUNITY_WORDS = "community quant: not published by Liquid AI"


def format_text(document: Mapping[str, Any]) -> str:
    """A human-readable rendering of a report, check or list document."""
    kind = document.get("kind", "report")
    if kind == "list":
        return _format_list(document)
    if kind == "fleet":
        from llmcheck.render.fleet import fleet_text

        return fleet_text(document)
    lines = [*answer_lines(document.get("recommendations")), *_machine_lines(document), ""]
    settings = document.get("settings")
    if settings is not None:
        lines.append(_settings_line(settings))
        lines.append("")
    if kind == "scan":
        lines.extend(local_lines(document))
    elif kind == "check":
        lines.extend(
            _check_lines(
                document["model"],
                document.get("alternatives") or [],
                (settings or {}).get("runtime"),
            )
        )
    else:
        models = document.get("models", [])
        if models:
            asked = None if settings is None else settings.get("context_tokens")
            lines.extend(table_lines(_MODEL_HEADERS, [_model_row(m, asked) for m in models]))
            clamped = [m for m in models if _clamped(m, asked)]
            if clamped:
                lines.append(
                    f"* at the model's own maximum context, shorter than the"
                    f" {format_tokens(asked)} tokens asked"
                )
        else:
            lines.append("No models were estimated.")
        if "local_models" in document:
            lines.append("")
            lines.extend(local_lines(document))
    problems, notes = _loud_and_calm(document)
    if notes:
        lines.append("")
        lines.extend(f"Note: {note}" for note in notes)
    if problems:
        lines.append("")
        lines.append("Problems:")
        for p in problems:
            where = "" if p.get("device_index") is None else f" (gpu:{_t(p['device_index'])})"
            lines.append(
                f"  [{_t(p.get('source'))}{where}] {_t(p.get('code'))}: "
                f"{_t(p.get('message'), _LONG)}"
            )
            if p.get("hint"):
                lines.append(f"      hint: {_t(p['hint'], _LONG)}")
    return "\n".join(lines) + "\n"


def _loud_and_calm(document: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[str]]:
    """(problems, calm notes): "no NVIDIA library" on a machine where no NVIDIA GPU was seen
    needs nothing from the user, so it is a one-line note, not a problem (as in the window)."""
    gpus = (document.get("machine") or {}).get("gpus") or []
    nvidia_seen = any("nvidia" in str(g.get("vendor", "")).lower() for g in gpus)
    loud: list[Mapping[str, Any]] = []
    notes: list[str] = []
    for p in document.get("problems", []):
        if not nvidia_seen and p.get("code") in CALM_NVIDIA_CODES:
            note = NO_NVIDIA_NOTE if p.get("code") == "nvml_library_not_found" else None
            notes.append(note or _t(p.get("message"), _LONG))
        else:
            loud.append(p)
    return loud, list(dict.fromkeys(notes))


def answer_lines(recommendations: Mapping[str, Any] | None) -> list[str]:
    """The answer at the top: one sentence, then the pick for each purpose (empty without)."""
    if not recommendations:
        return []
    summary = recommendations.get("summary") or summary_sentence(recommendations)
    lines = [_t(summary, _LONG)]
    picks = [
        (PURPOSE_WORDS.get(key, key), recommendations.get(key))
        for key in ("fastest", "longest_context", "vision")
    ]
    picks += [(_t(p.get("task")), p) for p in recommendations.get("tasks") or []]
    shown = [(label, p) for label, p in picks if p is not None]
    width = max((len(label) for label, _ in shown), default=0)
    lines.extend(f"  {(label + ':').ljust(width + 1)} {pick_words(p)}" for label, p in shown)
    best = recommendations.get("best")
    if best is not None and best.get("llama_cpp_command"):
        lines.append(f"  command: {_t(best['llama_cpp_command'], _LONG)}")
    lines.append("")
    return lines


def speed_assumes(speed: Mapping[str, Any]) -> str:
    """What a speed assumes, in one short line: threads, the filled context, the bandwidth."""
    parts = []
    threads = speed.get("threads")
    if isinstance(threads, int):
        parts.append(f"{threads} thread{'s' if threads != 1 else ''}")
    depth = speed.get("depth_tokens")
    if isinstance(depth, int) and depth > 0:
        parts.append(f"{format_tokens(depth)} tokens already in context")
    bandwidth = speed.get("bandwidth_gb_s")
    if isinstance(bandwidth, int | float):
        parts.append(
            f"{format_bandwidth(bandwidth)} ({_t(speed.get('bandwidth_source') or 'unknown')})"
        )
    return "assumes " + ", ".join(parts) if parts else "assumptions unknown"


def speed_ends(speed: Mapping[str, Any]) -> str:
    """Prompt speed and decode at both ends of a conversation, in one line ("" when unknown)."""
    parts = []
    if speed.get("prompt_low") is not None:
        prompt = f"prompt {format_speed(speed.get('prompt_low'), speed.get('prompt_high'))}"
        if speed.get("prompt_empty_low") is not None:
            empty = format_speed(speed.get("prompt_empty_low"), speed.get("prompt_empty_high"))
            prompt += f" ({empty} as the first prompt)"
        parts.append(prompt)
    if speed.get("empty_low") is not None and speed.get("full_low") is not None:
        parts.append(
            f"decode {format_speed(speed.get('empty_low'), speed.get('empty_high'))} on an empty"
            f" context, {format_speed(speed.get('full_low'), speed.get('full_high'))} when full"
        )
    return "; ".join(parts)


def speed_text(speed: Mapping[str, Any] | None) -> str:
    """A decode speed range from a document's ``tokens_per_second``: "27-109 tok/s"."""
    if speed is None:
        return UNKNOWN
    return format_speed(speed.get("low"), speed.get("high"))


def _t(value: object, limit: int = 200) -> str:
    """A field from the machine or a file, safe for a terminal."""
    return clean_text(value, limit=limit)


def _memory_text(mem: Mapping[str, Any]) -> str:
    ram = (
        f"{format_bytes(mem.get('total_bytes'))} total, "
        f"{format_bytes(mem.get('available_bytes'))} available ({_t(mem.get('source'))})"
    )
    limit, total = mem.get("limit_bytes"), mem.get("total_bytes")
    if limit is None:
        return ram
    source = _t(mem.get("limit_source"))
    if total is not None and limit > total:
        # A cgroup with no limit reports a huge number (or one above the host's RAM): the RAM is
        # the bound, so say so instead of printing "512 TiB".
        return f"{ram}, container limit: no limit ({source})"
    return f"{ram}, container limit {format_bytes(limit)} ({source})"


def _machine_lines(document: Mapping[str, Any]) -> list[str]:
    machine = document["machine"]
    os_doc, cpu, mem = machine["os"], machine["cpu"], machine["memory"]
    os_text = " ".join(
        _t(x)
        for x in (os_name(os_doc.get("system")), os_doc.get("release"), os_doc.get("machine"))
        if x
    )
    extras = [
        w
        for w, on in (("WSL", os_doc.get("is_wsl")), ("container", os_doc.get("in_container")))
        if on
    ]
    if extras:
        os_text += f" ({', '.join(extras)})"
    cores = cpu.get("cores")
    cpu_text = _t(cpu.get("brand")) if cpu.get("brand") else "unknown CPU"
    if cores is not None:
        cpu_text += f", {_t(cores)} cores"
    lines = [
        f"llmcheck {_t(document.get('llmcheck_version', ''))}".rstrip(),
        f"OS:     {os_text}",
        f"CPU:    {cpu_text}",
        f"Memory: {_memory_text(mem)}",
    ]
    if mem.get("bandwidth_gb_s") is not None:
        lines[-1] += (
            f"; bandwidth {format_bandwidth(mem['bandwidth_gb_s'])}"
            f" ({_t(mem.get('bandwidth_source'))})"
        )
    gpus = machine.get("gpus", [])
    if not gpus:
        lines.append("GPUs:   none found")
    for g in gpus:
        kind = "unified" if g.get("unified_memory") else _t(g.get("memory_kind") or "discrete")
        mem_text = (
            f"{format_bytes(g.get('total_bytes'))} {kind}, "
            f"{format_bytes(g.get('free_bytes'))} free ({_t(g.get('source'))})"
        )
        if g.get("working_set_cap_bytes") is not None:
            mem_text += (
                f", GPU cap {format_bytes(g['working_set_cap_bytes'])}"
                f" ({_t(g.get('working_set_cap_source'))})"
            )
        if g.get("bandwidth_gb_s") is not None:
            mem_text += (
                f", {format_bandwidth(g['bandwidth_gb_s'])} ({_t(g.get('bandwidth_source'))})"
            )
        name = _t(g.get("name")) if g.get("name") else "unknown GPU"
        lines.append(f"GPU {_t(g.get('index'))}:  {name}: {mem_text}")
    budgets = document.get("budgets", [])
    if budgets:
        parts = [
            f"{_t(b.get('device'))} {format_bytes(b.get('budget_bytes'))} ({_t(b.get('source'))})"
            for b in budgets
        ]
        lines.append(f"Budget: {'; '.join(parts)}")
    return lines


def _settings_line(settings: Mapping[str, Any]) -> str:
    return (
        f"Settings: context {format_tokens(settings.get('context_tokens'))}, "
        f"KV cache {_t(settings.get('kv_type'))}, flash attention "
        f"{'on' if settings.get('flash_attn') else 'off'}, "
        f"parallel {_t(settings.get('parallel'))}, ubatch {_t(settings.get('ubatch'))}, "
        f"device {_t(settings.get('device') or 'auto')}"
        + (
            ""
            if settings.get("runtime") in (None, "llama-server")
            else f", runtime {_t(settings.get('runtime'))}"
        )
    )


_MODEL_HEADERS = (
    "Model",
    "Quant",
    "File",
    "Verdict",
    "Needs",
    "Where",
    "Max ctx",
    "Decode",
    "Speed",
)


def _clamped(model: Mapping[str, Any], asked: object) -> bool:
    used = model.get("context_tokens")
    return isinstance(asked, int) and isinstance(used, int) and used < asked


def _model_row(model: Mapping[str, Any], asked: object = None) -> tuple[str, ...]:
    needs = format_bytes(model["memory"]["total_bytes"])
    if model.get("shortfall_bytes") is not None:
        needs += f" ({format_bytes(model['shortfall_bytes'])} short)"
    speed = model.get("tokens_per_second")
    return (
        _t(model.get("name") or model.get("variant")),
        _t(model.get("quant")),
        format_bytes(model.get("file_size_bytes")),
        verdict_words(model.get("verdict")),
        needs,
        placement_short(
            model.get("placement"), verdict=model.get("verdict"), gpu_layers=model.get("gpu_layers")
        ),
        context_words(model) + ("*" if _clamped(model, asked) else ""),
        "-" if speed is None else speed_text(speed),
        SPEED_CLASS_WORDS.get(str(model.get("speed_class")), "-"),
    )


def model_origin_lines(model: Mapping[str, Any]) -> list[str]:
    """Where an answer comes from, when it is not Liquid AI's published file: the file asked
    about, and "community quant: not published by Liquid AI"."""
    lines = []
    source = model.get("source_file")
    if source:
        lines.append(f"file: {_t(source.get('path'), _LONG)} ({_t(source.get('how'), _LONG)})")
        if source.get("projector_path"):
            lines.append(f"vision projector: {_t(source['projector_path'], _LONG)}")
    if model.get("published") is False:
        lines.append(COMMUNITY_WORDS)
    return lines


def moe_words(n_cpu_moe: object) -> str:
    """The MoE experts-on-the-CPU plan in words: "experts of 12 layers in RAM (--n-cpu-moe 12)"."""
    return (
        f"MoE: experts of {_t(n_cpu_moe)} layers in RAM (--n-cpu-moe {_t(n_cpu_moe)}); the"
        " rest on the GPU"
    )


def command_lines(model: Mapping[str, Any], runtime: object = None) -> list[str]:
    """The command that runs the answer, labelled by its runtime (one line per command)."""
    label = "llama.cpp" if runtime in (None, "llama-server") else _t(runtime)
    if str(model.get("verdict")) == "wont_fit":
        return [f"{label}: no command: it does not fit here"]
    command = model.get("runtime_command") or model.get("llama_cpp_command")
    parts = str(command).splitlines() or [""]
    return [f"{label}: {_t(part, _LONG)}" for part in parts]


def _check_lines(
    model: Mapping[str, Any],
    alternatives: Sequence[Mapping[str, Any]] = (),
    settings_runtime: object = None,
) -> list[str]:
    name = _t(model.get("name") or model.get("variant"))
    lines = [f"{name} {_t(model.get('quant'))}: {verdict_words(model.get('verdict'))}"]
    lines.extend(f"  {line}" for line in model_origin_lines(model))
    if model.get("reason"):
        lines.append(f"  {_t(model['reason'], _LONG)}")
    short = shortfall_words(model)
    if short is not None:
        lines.append(f"  {short}")
    where = placement_short(
        model.get("placement"), verdict=model.get("verdict"), gpu_layers=model.get("gpu_layers")
    )
    lines.append(
        f"  file {format_bytes(model.get('file_size_bytes'))}, needs "
        f"{format_bytes(model['memory']['total_bytes'])} in all, placement "
        f"{where}, largest context that fits {context_words(model)}"
    )
    if model.get("n_cpu_moe"):
        lines.append(f"  {moe_words(model['n_cpu_moe'])}")
    for d in model["memory"]["devices"]:
        terms = ", ".join(f"{_t(k)} {format_bytes(v)}" for k, v in d["terms"].items())
        lines.append(
            f"  {_t(d.get('device'))}: {format_bytes(d.get('total_bytes'))} of "
            f"{format_bytes(d.get('budget_bytes'))} ({terms})"
        )
    speed = model.get("tokens_per_second")
    if speed is not None:
        speed_class = SPEED_CLASS_WORDS.get(str(model.get("speed_class")))
        label = f" ({speed_class})" if speed_class else ""
        lines.append(f"  decode {speed_text(speed)}{label}; {speed_assumes(speed)}")
        ends = speed_ends(speed)
        if ends:
            lines.append(f"  {ends}")
        lines.append(f"  speed basis: {_t(speed.get('basis', ''), _LONG)}")
    lines.extend(f"  {line}" for line in command_lines(model, settings_runtime))
    for a in model.get("assumptions", []):
        lines.append(f"  assumes: {_t(a, _LONG)}")
    if str(model.get("verdict")) == "wont_fit":
        lines.append("")
        if alternatives:
            lines.append("What would fit:")
            lines.extend(f"  {alternative_line(a)}" for a in alternatives)
        else:
            lines.append("What would fit: nothing near this configuration fits here.")
    return lines


def alternative_line(alt: Mapping[str, Any]) -> str:
    """One nearby configuration that fits, in one line with its verdict and its own command."""
    name = _t(alt.get("name") or alt.get("variant"))
    parts = [
        verdict_words(alt.get("verdict")),
        f"{format_tokens(alt.get('context_tokens'))} tokens",
        f"KV {_t(alt.get('kv_type'))}",
        f"needs {format_bytes(alt.get('total_bytes'))}",
    ]
    speed = alt.get("tokens_per_second")
    if speed is not None:
        parts.append(speed_text(speed))
    return (
        f"{_t(alt.get('change'))}: {name} {_t(alt.get('quant'))} ({', '.join(parts)}):"
        f" {_t(alt.get('llama_cpp_command'), _LONG)}"
    )


_LOCAL_HEADERS = (
    "Model",
    "Quant",
    "File",
    "Verdict",
    "Needs",
    "Where",
    "Max ctx",
    "Decode",
    "Found",
)


def local_lines(document: Mapping[str, Any]) -> list[str]:
    """The LFM2-family files on this machine (``local_models``), each with its verdict, and
    what the scan skipped."""
    found = document.get("local_models") or []
    scan = document.get("scan") or {}
    models = [f for f in found if f.get("kind") == "model"]
    lines = [
        f"On this machine: {len(models)} LFM2-family model file{'' if len(models) == 1 else 's'}"
    ]
    rows: list[tuple[str, ...]] = []
    for f in models:
        m = f.get("model")
        where = f"{_t(f.get('store'))}: {_t(f.get('label'), 300)}"
        if m is None:
            rows.append(
                (
                    _t(f.get("label"), 60),
                    "-",
                    format_bytes(f.get("file_size_bytes")),
                    "not answered",
                    "-",
                    "-",
                    "-",
                    "-",
                    where,
                )
            )
            continue
        row = _model_row(m)
        if m.get("published") is False:
            row = (row[0], row[1] + "*", *row[2:])
        rows.append((*row[:8], where))
    if rows:
        lines.extend(table_lines(_LOCAL_HEADERS, rows))
    if any(f.get("model") and f["model"].get("published") is False for f in models):
        lines.append(f"* {COMMUNITY_WORDS}, or the file's own tensor types")
    for f in models:
        if f.get("error"):
            lines.append(f"  {_t(f.get('path'), 300)}: {_t(f['error'], _LONG)}")
        elif f.get("model") and f["model"].get("n_cpu_moe"):
            lines.append(f"  {_t(f.get('label'), 300)}: {moe_words(f['model']['n_cpu_moe'])}")
    others = scan.get("other_architecture_files") or 0
    if others:
        lines.append(
            f"  {others} GGUF file{'' if others == 1 else 's'} of other architectures not listed"
        )
    for note in scan.get("notes") or []:
        where = f"{_t(note.get('path'), 300)}: " if note.get("path") else ""
        lines.append(f"  note: {where}{_t(note.get('message'), _LONG)}")
    folders = scan.get("folders") or []
    if not folders:
        lines.append(
            "  no model store found (LM Studio, llama.cpp, Hugging Face, Ollama);"
            " add one with --folder DIR"
        )
    return lines


def _format_list(document: Mapping[str, Any]) -> str:
    rows = [
        (
            _t(v.get("id")),
            _t(v.get("name")),
            _t(v.get("kind")),
            format_tokens(v.get("trained_context_tokens")),
            format_tokens(v.get("gguf_context_tokens")),
            " ".join(_t(q) for q in v["quants"]),
        )
        for v in document["variants"]
    ]
    lines = table_lines(("Variant", "Name", "Kind", "Trained ctx", "Max ctx", "Quants"), rows)
    lines.append("")
    published = [q for q in document["quants"] if q.get("published", True)]
    lines.append(
        "Quantizations published for some variant: "
        + " ".join(_t(q.get("name")) for q in published)
    )
    lines.extend(_community_lines(document["variants"]))
    return "\n".join(lines) + "\n"


def _community_lines(variants: Sequence[Mapping[str, Any]]) -> list[str]:
    """The community quants llmcheck answers (sized from llama-quantize's rules), per variant;
    one line when every variant has the same."""
    lists = {tuple(v.get("community_quants") or ()) for v in variants}
    lists.discard(())
    if not lists:
        return []
    head = (
        "Community quants (answered, sized from llama-quantize's rules; not published by Liquid AI)"
    )
    if len(lists) == 1:
        return [f"{head}, for every variant: {' '.join(_t(q) for q in next(iter(lists)))}"]
    groups: dict[tuple[str, ...], list[str]] = {}
    for v in variants:
        if v.get("community_quants"):
            groups.setdefault(tuple(v["community_quants"]), []).append(_t(v.get("id")))
    lines = [f"{head}:"]
    for quants, ids in groups.items():
        lines.append(f"  {', '.join(ids)}:")
        lines.append(f"    {' '.join(_t(q) for q in quants)}")
    return lines


def table_lines(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A plain-text table: a header, a rule, one padded line per row."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
    return out
