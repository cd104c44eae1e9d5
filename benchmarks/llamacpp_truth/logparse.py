"""Parse llama.cpp's load / context log into the buffer sizes it reports.

llama.cpp prints every buffer it allocates; this module turns those lines into numbers. It
matches on the line *suffixes* (``model buffer size``, ``KV buffer size``, ``RS buffer size``,
``output buffer size``, ``compute buffer size``) so the prefixes of older builds
(``llm_load_tensors:``, ``llama_kv_cache_init:``, ``llama_kv_cache_unified:``,
``llama_new_context_with_model:``) parse the same as the current ones (``load_tensors:``,
``llama_kv_cache:``, ``llama_memory_recurrent:``, ``llama_context:``, ``sched_reserve:``).
Lines may carry a leading timestamp or syslog prefix; anything before the function prefix is
ignored. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MIB = 1 << 20

#: Buffer kinds, by the words that precede "buffer size".
KIND_MODEL = "model"
KIND_KV = "kv"
KIND_RS = "rs"
KIND_OUTPUT = "output"
KIND_COMPUTE = "compute"
KIND_INPUT = "input"  # older builds: "CUDA_Host input buffer size"

_NUM = r"[0-9]+(?:\.[0-9]+)?"


def _n(name: str) -> str:
    """A named number group."""
    return f"(?P<{name}>{_NUM})"


# "<prefix>: <BUFT> <kind> buffer size = <x> MiB"; <kind> absent in old llm_load_tensors lines.
_BUFFER_RE = re.compile(
    r"(?P<prefix>[A-Za-z_][A-Za-z0-9_]*):\s+(?P<buft>\S+)\s+"
    r"(?:(?P<kind>model|KV|RS|output|compute|input)\s+)?buffer size\s*=\s*" + _n("mib") + r"\s*MiB"
)
_KV_SUMMARY_RE = re.compile(
    r"(?P<prefix>llama_kv_cache\w*):\s+size\s*=\s*" + _n("size") + r"\s*MiB\s*\(\s*"
    r"(?P<cells>\d+)\s+cells,\s*(?P<layers>\d+)\s+layers,\s*(?P<seqs>[0-9/ ]+?)\s*seqs\)"
    r",\s*K\s*\((?P<ktype>\w+)\):\s*"
    + _n("k")
    + r"\s*MiB,\s*V\s*\((?P<vtype>\w+)\):\s*"
    + _n("v")
    + r"\s*MiB"
)
# Oldest form: "llama_kv_cache_init: ... KV self size  =  X MiB, K (f16): Y MiB, V (f16): Z MiB"
_KV_SELF_RE = re.compile(
    r"KV self size\s*=\s*"
    + _n("size")
    + r"\s*MiB,\s*K\s*\((?P<ktype>\w+)\):\s*"
    + _n("k")
    + r"\s*MiB,\s*V\s*\((?P<vtype>\w+)\):\s*"
    + _n("v")
    + r"\s*MiB"
)
_RS_SUMMARY_RE = re.compile(
    r"llama_memory_recurrent\w*:\s+size\s*=\s*"
    + _n("size")
    + r"\s*MiB\s*\(\s*(?P<cells>\d+)\s+cells,"
    r"\s*(?P<layers>\d+)\s+layers,\s*(?P<seqs>\d+)\s+seqs(?:\s+(?P<rs_seq>\d+)\s+rs_seq)?\s*\)"
    r",\s*R\s*\((?P<rtype>\w+)\):\s*"
    + _n("r")
    + r"\s*MiB,\s*S\s*\((?P<stype>\w+)\):\s*"
    + _n("s")
    + r"\s*MiB"
)
_CTX_PARAM_RE = re.compile(
    r"(?:llama_context|llama_new_context_with_model|llama_init_from_model):\s+"
    r"(?P<key>n_seq_max|n_ctx|n_ctx_seq|n_ctx_per_seq|n_batch|n_ubatch|causal_attn|flash_attn|"
    r"kv_unified|n_rs_seq|freq_base|freq_scale|offload_kqv|op_offload|swa_full)\s*=\s*(?P<val>\S+)\s*$"
)
_FA_RESOLVED_RE = re.compile(
    r"Flash Attention (?:was auto, set to )?(?P<state>enabled|disabled)", re.IGNORECASE
)
_OFFLOADED_RE = re.compile(r"offloaded\s+(?P<n>\d+)\s*/\s*(?P<total>\d+)\s+layers to GPU")
_INFO_RE = re.compile(
    r"(?:print_info|llm_load_print_meta):\s+(?P<key>[A-Za-z_][A-Za-z0-9_ ]*?)\s*=\s*"
    r"(?P<val>.*?)\s*$"
)
_FILE_SIZE_RE = re.compile(
    _n("size") + r"\s*(?P<unit>MiB|GiB)\s*\(\s*" + _n("bpw") + r"\s*BPW\s*\)"
)
_REPACK_RE = re.compile(r"repack(?:ing)?:?\s+repack tensor\s+(?P<name>\S+)\s+with\s+(?P<kind>\S+)")
_GRAPH_RE = re.compile(r"graph (?P<what>nodes|splits)\s*=\s*(?P<n>\d+)")
_BREAKDOWN_ROW_RE = re.compile(
    r"memory_breakdown_print:\s*\|\s*-\s*(?P<device>.+?)\s*\|\s*(?P<rest>[-0-9 =+()]+?)\s*\|\s*$"
)
_CUDA_DEVICE_RE = re.compile(
    r"Device\s+(?P<idx>\d+):\s+(?P<name>.+?),\s+compute capability\s+(?P<cc>[0-9.]+)"
)
_SYSTEM_INFO_RE = re.compile(r"system_info:\s*(?P<info>.*)$")
_ERROR_RE = re.compile(r"\b(error|failed|abort|exception)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class BufferLine:
    """One "... buffer size = X MiB" line.

    Attributes:
        kind: ``model``, ``kv``, ``rs``, ``output``, ``compute`` or ``input``.
        buffer_type: The ggml buffer type as printed (``CUDA0``, ``CPU_Mapped``, ``CUDA_Host``).
        mib: The printed size in MiB (2^20 bytes, two decimals).
        prefix: The function prefix llama.cpp printed (``load_tensors``, ``sched_reserve``...).
        line: The line as printed, stripped.
    """

    kind: str
    buffer_type: str
    mib: float
    prefix: str
    line: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedLog:
    """What one llama.cpp run reported.

    Attributes:
        buffers: Every buffer line, in order.
        kv_summary: The ``llama_kv_cache: size = ...`` line, parsed (None when absent).
        rs_summary: The ``llama_memory_recurrent: size = ...`` line, parsed.
        context_params: ``llama_context: key = value`` lines (strings as printed).
        flash_attn_resolved: ``enabled`` / ``disabled`` when llama.cpp resolved FA auto.
        offloaded_layers: ``(n, total)`` from ``offloaded n/total layers to GPU``.
        model_info: ``print_info`` key/values (strings as printed).
        file_size_mib: From ``file size = X MiB (Y BPW)``.
        bits_per_weight: The BPW from the same line.
        repacked_tensors: Count of ``repack tensor ...`` lines, by repack kind.
        graph: ``graph nodes`` / ``graph splits`` (last printed).
        memory_breakdown: Rows of ``llama_memory_breakdown_print`` (device and numbers).
        cuda_devices: ``Device i: name, compute capability x`` lines.
        system_info: The ``system_info:`` line's text.
        problem_lines: Lines that mention an error or a failure.
    """

    buffers: tuple[BufferLine, ...] = ()
    kv_summary: dict[str, Any] | None = None
    rs_summary: dict[str, Any] | None = None
    context_params: dict[str, str] = field(default_factory=dict)
    flash_attn_resolved: str | None = None
    offloaded_layers: tuple[int, int] | None = None
    model_info: dict[str, str] = field(default_factory=dict)
    file_size_mib: float | None = None
    bits_per_weight: float | None = None
    repacked_tensors: dict[str, int] = field(default_factory=dict)
    graph: dict[str, int] = field(default_factory=dict)
    memory_breakdown: tuple[dict[str, Any], ...] = ()
    cuda_devices: tuple[dict[str, Any], ...] = ()
    system_info: str | None = None
    problem_lines: tuple[str, ...] = ()

    def mib_by_type(self, kind: str) -> dict[str, float]:
        """Sum of the printed MiB per buffer type for one kind (e.g. ``{"CUDA0": 661.25}``)."""
        out: dict[str, float] = {}
        for b in self.buffers:
            if b.kind == kind:
                out[b.buffer_type] = round(out.get(b.buffer_type, 0.0) + b.mib, 2)
        return out

    def total_mib(self, kind: str) -> float:
        """Sum of all printed MiB of one kind."""
        return round(sum(b.mib for b in self.buffers if b.kind == kind), 2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``llama_log`` object of the measurement schema)."""
        return {
            "buffers": [
                {
                    "kind": b.kind,
                    "buffer_type": b.buffer_type,
                    "mib": b.mib,
                    "prefix": b.prefix,
                    "line": b.line,
                }
                for b in self.buffers
            ],
            "buffers_mib": {
                k: self.mib_by_type(k)
                for k in (KIND_MODEL, KIND_KV, KIND_RS, KIND_OUTPUT, KIND_COMPUTE, KIND_INPUT)
            },
            "kv_summary": self.kv_summary,
            "rs_summary": self.rs_summary,
            "context_params": dict(self.context_params),
            "flash_attn_resolved": self.flash_attn_resolved,
            "offloaded_layers": list(self.offloaded_layers) if self.offloaded_layers else None,
            "model_info": dict(self.model_info),
            "file_size_mib": self.file_size_mib,
            "bits_per_weight": self.bits_per_weight,
            "repacked_tensors": dict(self.repacked_tensors),
            "graph": dict(self.graph),
            "memory_breakdown": list(self.memory_breakdown),
            "cuda_devices": list(self.cuda_devices),
            "system_info": self.system_info,
            "problem_lines": list(self.problem_lines),
        }


def _kind(prefix: str, word: str | None) -> str | None:
    """Buffer kind from the word before "buffer size" (or, for old lines, the prefix)."""
    if word is not None:
        return {
            "model": KIND_MODEL,
            "KV": KIND_KV,
            "RS": KIND_RS,
            "output": KIND_OUTPUT,
            "compute": KIND_COMPUTE,
            "input": KIND_INPUT,
        }[word]
    if prefix in ("llm_load_tensors", "load_tensors"):
        return KIND_MODEL  # e.g. "llm_load_tensors:  CUDA0 buffer size = ..."
    return None


def _breakdown_row(device: str, rest: str) -> dict[str, Any] | None:
    """``total = free + (self = model + context + compute) + unaccounted`` or a host row."""
    nums = [int(n) for n in re.findall(r"-?\d+", rest)]
    if len(nums) == 7:
        keys = ("total", "free", "self", "model", "context", "compute", "unaccounted")
    elif len(nums) == 4:
        keys = ("self", "model", "context", "compute")
    else:
        return None
    row: dict[str, Any] = {"device": device}
    row.update({f"{k}_mib": v for k, v in zip(keys, nums, strict=True)})
    return row


def parse_log(text: str) -> ParsedLog:
    """Parse a llama.cpp stderr log.

    Args:
        text: The log (any mix of current and older llama.cpp prefixes).

    Returns:
        Everything recognised; unknown lines are ignored, never an exception.
    """
    buffers: list[BufferLine] = []
    kv_summary: dict[str, Any] | None = None
    rs_summary: dict[str, Any] | None = None
    ctx: dict[str, str] = {}
    fa: str | None = None
    offloaded: tuple[int, int] | None = None
    info: dict[str, str] = {}
    file_mib: float | None = None
    bpw: float | None = None
    repack: dict[str, int] = {}
    graph: dict[str, int] = {}
    breakdown: list[dict[str, Any]] = []
    cuda: list[dict[str, Any]] = []
    system_info: str | None = None
    problems: list[str] = []

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if m := _BUFFER_RE.search(line):
            kind = _kind(m["prefix"], m["kind"])
            if kind is not None:
                buffers.append(
                    BufferLine(
                        kind=kind,
                        buffer_type=m["buft"],
                        mib=float(m["mib"]),
                        prefix=m["prefix"],
                        line=line,
                    )
                )
                continue
        if m := _KV_SUMMARY_RE.search(line):
            seqs = [int(s) for s in re.findall(r"\d+", m["seqs"])]
            kv_summary = {
                "size_mib": float(m["size"]),
                "cells": int(m["cells"]),
                "layers": int(m["layers"]),
                "seqs": seqs,
                "k_type": m["ktype"],
                "k_mib": float(m["k"]),
                "v_type": m["vtype"],
                "v_mib": float(m["v"]),
                "line": line,
            }
            continue
        if m := _KV_SELF_RE.search(line):
            kv_summary = {
                "size_mib": float(m["size"]),
                "cells": None,
                "layers": None,
                "seqs": [],
                "k_type": m["ktype"],
                "k_mib": float(m["k"]),
                "v_type": m["vtype"],
                "v_mib": float(m["v"]),
                "line": line,
            }
            continue
        if m := _RS_SUMMARY_RE.search(line):
            rs_summary = {
                "size_mib": float(m["size"]),
                "cells": int(m["cells"]),
                "layers": int(m["layers"]),
                "seqs": int(m["seqs"]),
                "rs_seq": int(m["rs_seq"]) if m["rs_seq"] is not None else None,
                "r_type": m["rtype"],
                "r_mib": float(m["r"]),
                "s_type": m["stype"],
                "s_mib": float(m["s"]),
                "line": line,
            }
            continue
        if m := _CTX_PARAM_RE.search(line):
            ctx[m["key"]] = m["val"]
            continue
        if m := _FA_RESOLVED_RE.search(line):
            fa = m["state"].lower()
            continue
        if m := _OFFLOADED_RE.search(line):
            offloaded = (int(m["n"]), int(m["total"]))
            continue
        if m := _REPACK_RE.search(line):
            repack[m["kind"]] = repack.get(m["kind"], 0) + 1
            continue
        if m := _BREAKDOWN_ROW_RE.search(line):
            row = _breakdown_row(m["device"], m["rest"])
            if row is not None:
                breakdown.append(row)
            continue
        if m := _CUDA_DEVICE_RE.search(line):
            cuda.append({"index": int(m["idx"]), "name": m["name"], "compute_capability": m["cc"]})
            continue
        if m := _SYSTEM_INFO_RE.search(line):
            system_info = m["info"]
            continue
        if m := _INFO_RE.search(line):
            key = m["key"].strip()
            info[key] = m["val"]
            if key == "file size" and (fm := _FILE_SIZE_RE.search(m["val"])):
                scale = 1024.0 if fm["unit"] == "GiB" else 1.0
                file_mib = round(float(fm["size"]) * scale, 2)
                bpw = float(fm["bpw"])
            continue
        for gm in _GRAPH_RE.finditer(line):
            graph[gm["what"]] = int(gm["n"])
        if _ERROR_RE.search(line):
            problems.append(line)

    return ParsedLog(
        buffers=tuple(buffers),
        kv_summary=kv_summary,
        rs_summary=rs_summary,
        context_params=ctx,
        flash_attn_resolved=fa,
        offloaded_layers=offloaded,
        model_info=info,
        file_size_mib=file_mib,
        bits_per_weight=bpw,
        repacked_tensors=repack,
        graph=graph,
        memory_breakdown=tuple(breakdown),
        cuda_devices=tuple(cuda),
        system_info=system_info,
        problem_lines=tuple(problems),
    )
