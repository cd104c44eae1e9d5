"""Model weights: per-layer byte counts from the tensor plan, the file size, and the copies the
CPU backend repacks (AMX / CPU_REPACK buffers), by CPU (``docs/llama-cpp-memory.md`` §4, §9).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from llmcheck import calibration
from llmcheck.catalog import Architecture, ModelVariant, QuantTable, gguf_size
from llmcheck.catalog import variant_summary as _variant_summary
from llmcheck.snapshot import SystemSnapshot

# CPU weight repacking (ggml-cpu "CPU_REPACK" / "AMX" buffers), by CPU: the rule and its sizes are
# calibration.repack (AMX: dense Q8_0 / Q4_K / Q4_0 / Q6_K / F16 weights, some resized; AVX2 and
# AVX-512: Q4_0, Q4_K, IQ4_NL (+ Q2_K); ARM dotprod: Q4_0, IQ4_NL). Only a run without a GPU
# repacks (measured: -ngl 8 and -ngl 0 with the GPU visible repack nothing). With mmap on, the file
# pages of the repacked tensors stay mapped, so RSS shows them twice (that copy is droppable).
REPACK_TYPES_X86_AVX2 = calibration.REPACK_TYPES_AVX2
REPACK_TYPES_X86_AVX512 = calibration.REPACK_TYPES_AVX512
REPACK_TYPES_X86_AMX = frozenset(calibration.AMX_SIZE_FACTOR) | calibration.REPACK_TYPES_AVX512
REPACK_TYPES_ARM = calibration.REPACK_TYPES_ARM
# Weights whose matmuls make llama.cpp's CUDA backend load cuBLAS (calibration.uses_cublas).
FLOAT_WEIGHT_QUANTS = frozenset({"F16", "BF16", "F32"})


@dataclass(frozen=True, slots=True, kw_only=True)
class _Weights:
    """Per-layer byte counts of one variant x quant (from the tensor plan)."""

    layer_bytes: tuple[int, ...]  # blk.N tensors
    layer_expert_bytes: tuple[int, ...]  # of which routed experts
    layer_types: tuple[tuple[tuple[str, int], ...], ...]  # (ggml type, bytes) per layer
    token_embd_bytes: int
    token_embd_type: str
    output_norm_bytes: int
    data_bytes: int  # tensor data as in the file (token_embd once)


@functools.lru_cache(maxsize=512)
def _weights(arch: Architecture, quant: str, table: QuantTable) -> _Weights:
    summary = _variant_summary(arch, quant, table)
    # Each distinct block content is summed once; the blocks then share its sums.
    kind_bytes, kind_expert, kind_types = [], [], []
    for kind in summary.kinds:
        total = expert = 0
        types: dict[str, int] = {}
        for g in kind:
            total += g.padded_bytes * g.count
            types[g.ggml_type] = types.get(g.ggml_type, 0) + g.nbytes * g.count
            if g.is_expert:
                expert += g.padded_bytes * g.count
        kind_bytes.append(total)
        kind_expert.append(expert)
        kind_types.append(tuple(sorted(types.items())))
    embd = norm = 0
    embd_type = ""
    for g in summary.global_groups:
        if g.role == "token_embd":
            embd, embd_type = g.padded_bytes, g.ggml_type
        else:
            norm += g.padded_bytes * g.count
    layer = tuple(kind_bytes[k] for k in summary.layer_kinds)
    return _Weights(
        layer_bytes=layer,
        layer_expert_bytes=tuple(kind_expert[k] for k in summary.layer_kinds),
        layer_types=tuple(kind_types[k] for k in summary.layer_kinds),
        token_embd_bytes=embd,
        token_embd_type=embd_type,
        output_norm_bytes=norm,
        data_bytes=sum(layer) + embd + norm,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Facts:
    """Per variant x quant invariants the placement search reads again and again (cached).

    ``layer_prefix[i]`` is the bytes of layers 0..i-1 and ``attn_prefix[i]`` the number of
    attention layers among them, so any contiguous run of layers costs two lookups.
    """

    weights: _Weights
    layer_prefix: tuple[int, ...]
    attn_prefix: tuple[int, ...]


@functools.lru_cache(maxsize=512)
def _facts(arch: Architecture, quant: str, table: QuantTable) -> _Facts:
    w = _weights(arch, quant, table)
    layer_prefix, attn_prefix = [0], [0]
    for il in range(arch.n_layer):
        layer_prefix.append(layer_prefix[-1] + w.layer_bytes[il])
        attn_prefix.append(attn_prefix[-1] + arch.is_attention_layer(il))
    return _Facts(weights=w, layer_prefix=tuple(layer_prefix), attn_prefix=tuple(attn_prefix))


@functools.lru_cache(maxsize=512)
def _cpu_repack(arch: Architecture, quant: str, table: QuantTable, mode: str) -> calibration.Repack:
    """The repacked copies of a run without a GPU (every tensor on the CPU), by repack mode."""
    if mode == "none":
        return calibration.Repack()
    summary = _variant_summary(arch, quant, table)
    # calibration.repack sums per tensor, so n identical tensors repack as n times one of them.
    n_blocks = [0] * len(summary.kinds)
    for k in summary.layer_kinds:
        n_blocks[k] += 1
    groups = [(g, g.count, False) for g in summary.global_groups]
    for kind, n in zip(summary.kinds, n_blocks, strict=True):
        groups += [(g, g.count * n, True) for g in kind]
    amx = rep = src = 0
    for g, n, is_layer in groups:
        one = calibration.repack([(g.ggml_type, g.padded_bytes, is_layer, g.is_expert)], mode)
        amx += one.amx_bytes * n
        rep += one.cpu_repack_bytes * n
        src += one.source_layer_bytes * n
    return calibration.Repack(amx_bytes=amx, cpu_repack_bytes=rep, source_layer_bytes=src)


def file_size_bytes(variant: ModelVariant, quant: str) -> int:
    """The GGUF file size, computed from the architecture and llama-quantize's per-tensor rules.

    Tensor data (each tensor padded to 32 B) + tensor-info table + the metadata block measured
    for the vocabulary (docs/llama-cpp-memory.md §7). Raises KeyError for an unknown quant.
    """
    return gguf_size(variant, quant).file_bytes


def weights_bytes(variant: ModelVariant, quant: str, *, gpu_layers: int = 0) -> tuple[int, int]:
    """Model weights as (host bytes, GPU bytes) for ``-ngl gpu_layers`` (llama-cpp-memory.md §4).

    Layer il (0..n_layer, where n_layer is the output layer) is on the GPU iff
    il >= n_layer + 1 - ngl. token_embd always stays in host memory; with ngl >= 1 the output layer
    (a duplicate of the tied token_embd plus the final norm) is on the GPU as well, so a full
    offload holds the whole tensor data on the GPU and token_embd once more on the host
    (LFM2-1.2B Q4_0: CPU 105.00 MiB + CUDA0 661.25 MiB, PR #18641). With ngl = 0 the tensor data
    is loaded once.
    """
    arch = variant.architecture
    w = _weights(arch, quant, variant.quant_table)
    ngl = max(0, min(gpu_layers, arch.n_layer + 1))
    start = arch.n_layer + 1 - ngl
    gpu = sum(w.layer_bytes[start:])
    host = sum(w.layer_bytes[:start]) + w.token_embd_bytes
    if ngl >= 1:
        gpu += w.token_embd_bytes + w.output_norm_bytes
    else:
        host += w.output_norm_bytes
    return host, gpu


def repack_mode(machine: SystemSnapshot) -> str:
    """ "amx" | "avx512" | "avx2" | "arm" | "none": how ggml's CPU backend repacks weights on this
    CPU, from the probed features (:func:`llmcheck.calibration.cpu_repack_mode`)."""
    arch = machine.cpu.arch or machine.os.machine or ""
    return calibration.cpu_repack_mode(machine.cpu.features, arch)


def repack_types(machine: SystemSnapshot) -> frozenset[str]:
    """ggml types the CPU backend repacks on this CPU (see REPACK_TYPES_*)."""
    return {
        "amx": REPACK_TYPES_X86_AMX,
        "avx512": REPACK_TYPES_X86_AVX512,
        "avx2": REPACK_TYPES_X86_AVX2,
        "arm": REPACK_TYPES_ARM,
    }.get(repack_mode(machine), frozenset())


def repack_bytes(
    variant: ModelVariant, quant: str, cpu_layers: Sequence[int], types: frozenset[str]
) -> int:
    """Bytes of the CPU-resident layer weights whose type the CPU backend repacks.

    Measured (x86 AVX2, LFM2-1.2B): Q4_K_M 482.62 MiB, Q4_0 555.75 MiB, Q3_K_M 150.75 MiB
    repacked. token_embd is never repacked (it is read by row lookup).
    """
    w = _weights(variant.architecture, quant, variant.quant_table)
    return sum(nbytes for il in cpu_layers for t, nbytes in w.layer_types[il] if t in types)
