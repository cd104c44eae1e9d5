"""The text report: what ``llmcheck``, ``llmcheck check`` and ``llmcheck list`` print.

Rendered from the same document as ``--json`` (``llmcheck.report``), so the two never disagree.
Every number goes through :mod:`llmcheck.render.units`, every verdict and placement word through
:mod:`llmcheck.render.words`, and every string that came from the machine or a snapshot file
(GPU name, CPU brand, OS release, problem messages, sources) through
:func:`~llmcheck.render.units.clean_text`, so a newline or an escape sequence in a field can
neither forge a line nor drive the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmcheck.render.units import (
    UNKNOWN,
    clean_text,
    format_bandwidth,
    format_bytes,
    format_speed,
    format_tokens,
)
from llmcheck.render.words import placement_short, verdict_words

__all__ = ["format_text", "speed_text"]

# A problem message or a llama.cpp command may be long; a name or a source is not.
_LONG = 2000


def format_text(document: Mapping[str, Any]) -> str:
    """A human-readable rendering of a report, check or list document."""
    kind = document.get("kind", "report")
    if kind == "list":
        return _format_list(document)
    lines = [*_machine_lines(document), ""]
    settings = document.get("settings")
    if settings is not None:
        lines.append(_settings_line(settings))
        lines.append("")
    if kind == "check":
        lines.extend(_check_lines(document["model"]))
    else:
        models = document.get("models", [])
        if models:
            lines.extend(_table(_MODEL_HEADERS, [_model_row(m) for m in models]))
        else:
            lines.append("No models were estimated.")
    problems = document.get("problems", [])
    if problems:
        lines.append("")
        lines.append("Problems:")
        for p in problems:
            where = "" if p.get("device_index") is None else f" (gpu:{_t(p['device_index'])})"
            lines.append(f"  [{_t(p.get('source'))}{where}] {_t(p.get('code'))}: "
                         f"{_t(p.get('message'), _LONG)}")
            if p.get("hint"):
                lines.append(f"      hint: {_t(p['hint'], _LONG)}")
    return "\n".join(lines) + "\n"


def speed_text(speed: Mapping[str, Any] | None) -> str:
    """A decode speed range from a document's ``tokens_per_second``: "27-109 tok/s"."""
    if speed is None:
        return UNKNOWN
    return format_speed(speed.get("low"), speed.get("high"))


def _t(value: object, limit: int = 200) -> str:
    """A field from the machine or a file, safe for a terminal."""
    return clean_text(value, limit=limit)


def _memory_text(mem: Mapping[str, Any]) -> str:
    ram = (f"{format_bytes(mem.get('total_bytes'))} total, "
           f"{format_bytes(mem.get('available_bytes'))} available ({_t(mem.get('source'))})")
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
    os_text = " ".join(_t(x) for x in (os_doc.get("system"), os_doc.get("release"),
                                       os_doc.get("machine")) if x)
    extras = [w for w, on in (("WSL", os_doc.get("is_wsl")),
                              ("container", os_doc.get("in_container"))) if on]
    if extras:
        os_text += f" ({', '.join(extras)})"
    cores = cpu.get("cores")
    cpu_text = _t(cpu.get("brand")) if cpu.get("brand") else "unknown CPU"
    if cores is not None:
        cpu_text += f", {_t(cores)} cores"
    lines = [f"llmcheck {_t(document.get('llmcheck_version', ''))}".rstrip(),
             f"OS:     {os_text}", f"CPU:    {cpu_text}", f"Memory: {_memory_text(mem)}"]
    gpus = machine.get("gpus", [])
    if not gpus:
        lines.append("GPUs:   none found")
    for g in gpus:
        kind = "unified" if g.get("unified_memory") else _t(g.get("memory_kind") or "discrete")
        mem_text = (f"{format_bytes(g.get('total_bytes'))} {kind}, "
                    f"{format_bytes(g.get('free_bytes'))} free ({_t(g.get('source'))})")
        if g.get("working_set_cap_bytes") is not None:
            mem_text += (f", GPU cap {format_bytes(g['working_set_cap_bytes'])}"
                         f" ({_t(g.get('working_set_cap_source'))})")
        if g.get("bandwidth_gb_s") is not None:
            mem_text += (f", {format_bandwidth(g['bandwidth_gb_s'])}"
                         f" ({_t(g.get('bandwidth_source'))})")
        name = _t(g.get("name")) if g.get("name") else "unknown GPU"
        lines.append(f"GPU {_t(g.get('index'))}:  {name}: {mem_text}")
    budgets = document.get("budgets", [])
    if budgets:
        parts = [f"{_t(b.get('device'))} {format_bytes(b.get('budget_bytes'))}"
                 f" ({_t(b.get('source'))})" for b in budgets]
        lines.append(f"Budget: {'; '.join(parts)}")
    return lines


def _settings_line(settings: Mapping[str, Any]) -> str:
    return (f"Settings: context {format_tokens(settings.get('context_tokens'))}, "
            f"KV cache {_t(settings.get('kv_type'))}, flash attention "
            f"{'on' if settings.get('flash_attn') else 'off'}, "
            f"parallel {_t(settings.get('parallel'))}, ubatch {_t(settings.get('ubatch'))}, "
            f"device {_t(settings.get('device') or 'auto')}")


_MODEL_HEADERS = ("Model", "Quant", "File", "Verdict", "Needs", "Where", "Max ctx", "Decode")


def _model_row(model: Mapping[str, Any]) -> tuple[str, ...]:
    return (
        _t(model.get("name") or model.get("variant")),
        _t(model.get("quant")),
        format_bytes(model.get("file_size_bytes")),
        verdict_words(model.get("verdict")),
        format_bytes(model["memory"]["total_bytes"]),
        placement_short(model.get("placement"), verdict=model.get("verdict"),
                        gpu_layers=model.get("gpu_layers")),
        format_tokens(model.get("max_context")),
        speed_text(model.get("tokens_per_second")),
    )


def _check_lines(model: Mapping[str, Any]) -> list[str]:
    name = _t(model.get("name") or model.get("variant"))
    lines = [f"{name} {_t(model.get('quant'))}: {verdict_words(model.get('verdict'))}"]
    if model.get("reason"):
        lines.append(f"  {_t(model['reason'], _LONG)}")
    where = placement_short(model.get("placement"), verdict=model.get("verdict"),
                            gpu_layers=model.get("gpu_layers"))
    lines.append(f"  file {format_bytes(model.get('file_size_bytes'))}, needs "
                 f"{format_bytes(model['memory']['total_bytes'])} in all, placement "
                 f"{where}, largest context that fits {format_tokens(model.get('max_context'))}")
    for d in model["memory"]["devices"]:
        terms = ", ".join(f"{_t(k)} {format_bytes(v)}" for k, v in d["terms"].items())
        lines.append(f"  {_t(d.get('device'))}: {format_bytes(d.get('total_bytes'))} of "
                     f"{format_bytes(d.get('budget_bytes'))} ({terms})")
    speed = model.get("tokens_per_second")
    if speed is not None:
        lines.append(f"  decode {speed_text(speed)}; {_t(speed.get('basis', ''), _LONG)}")
    lines.append(f"  llama.cpp: {_t(model.get('llama_cpp_command'), _LONG)}")
    for a in model.get("assumptions", []):
        lines.append(f"  assumes: {_t(a, _LONG)}")
    return lines


def _format_list(document: Mapping[str, Any]) -> str:
    rows = [
        (_t(v.get("id")), _t(v.get("name")), _t(v.get("kind")),
         format_tokens(v.get("trained_context_tokens")),
         format_tokens(v.get("gguf_context_tokens")), " ".join(_t(q) for q in v["quants"]))
        for v in document["variants"]
    ]
    lines = _table(("Variant", "Name", "Kind", "Trained ctx", "Max ctx", "Quants"), rows)
    lines.append("")
    lines.append("Quantizations: " + " ".join(_t(q.get("name")) for q in document["quants"]))
    return "\n".join(lines) + "\n"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
               for r in rows)
    return out
