"""MoE experts in RAM: llama.cpp's ``--n-cpu-moe N`` / ``--cpu-moe`` for LFM2-MoE (issue #12).

With ``-ngl`` covering every layer and ``--n-cpu-moe N``, llama.cpp keeps the routed expert
tensors (``blk.i.ffn_{gate,up,down}_exps``) of layers ``i < N`` in host memory and everything else
(attention, short-conv, dense FFN, router, norms, KV cache, the output layer) on the GPU
(``common/arg.cpp`` at 0c1e57098: ``--n-cpu-moe`` adds, per layer ``i < N``, a CPU buffer-type
override for the names matching ``LLM_FFN_EXPS_REGEX`` of ``common/common.h``,
``\\.ffn_(up|down|gate|gate_up)_(ch|)exps``; ``--cpu-moe`` one for every layer). A token then
reads the non-expert weights and the active experts of layers >= N from VRAM, the active experts
of layers < N (``n_expert_used`` of ``n_expert``) from RAM, and crosses between the devices twice
per such MoE layer.

A plain layer split (``-ngl k``) instead keeps whole layers on the CPU: every tensor of those
layers, dense and attention included, is read from RAM, and the graph crosses once.

:func:`decode_seconds_per_token` prices both with one model, so the placement can choose between
them (:mod:`llmcheck.estimate.placement`), and :func:`offload_speed_factor` turns a full-offload
speed into the experts-in-RAM one. The per-crossing cost is an estimate (a device synchronisation
and a small activation copy), not a measurement: ``SPLIT_CROSSING_SECONDS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmcheck.catalog import ModelVariant
from llmcheck.estimate.weights import _weights

__all__ = [
    "SPLIT_CROSSING_SECONDS",
    "HybridReads",
    "decode_seconds_per_token",
    "expert_offload_reads",
    "layer_split_reads",
    "moved_expert_bytes",
    "offload_speed_factor",
]

# One GPU <-> CPU crossing of the decode graph: a synchronisation plus a copy of one token's
# hidden state (a few KiB over PCIe); tens of microseconds on CUDA. An estimate.
SPLIT_CROSSING_SECONDS = 30e-6


@dataclass(frozen=True, slots=True, kw_only=True)
class HybridReads:
    """What one generated token reads from each memory, and how often the graph changes device."""

    gpu_bytes: int
    cpu_bytes: int
    crossings: int


def _active(expert_bytes: int, variant: ModelVariant) -> int:
    arch = variant.architecture
    if not arch.n_expert:
        return expert_bytes
    return expert_bytes * arch.n_expert_used // arch.n_expert


def moved_expert_bytes(variant: ModelVariant, quant: str, n_cpu_moe: int) -> tuple[int, int]:
    """(all expert bytes of layers ``< n_cpu_moe``, the largest one layer's) for ``--n-cpu-moe``.

    The second is what a prompt batch copies to the GPU at once (the three ``*_exps`` tensors of
    one layer, offloaded for the matmul: ggml's op offload for batches of 32 or more).
    """
    w = _weights(variant.architecture, quant, variant.quant_table)
    moved = w.layer_expert_bytes[: max(0, n_cpu_moe)]
    return sum(moved), max(moved, default=0)


def expert_offload_reads(variant: ModelVariant, quant: str, n_cpu_moe: int) -> HybridReads:
    """Per token with every layer on the GPU and the experts of layers ``< n_cpu_moe`` in RAM."""
    arch = variant.architecture
    w = _weights(arch, quant, variant.quant_table)
    gpu = cpu = crossings = 0
    for il in range(arch.n_layer):
        expert = w.layer_expert_bytes[il]
        gpu += w.layer_bytes[il] - expert
        if il < n_cpu_moe and expert:
            cpu += _active(expert, variant)
            crossings += 2
        else:
            gpu += _active(expert, variant)
    gpu += w.token_embd_bytes + w.output_norm_bytes  # the tied output matrix, read whole
    return HybridReads(gpu_bytes=gpu, cpu_bytes=cpu, crossings=crossings)


def layer_split_reads(variant: ModelVariant, quant: str, gpu_layers: int) -> HybridReads:
    """Per token with ``-ngl gpu_layers``: layers below ``n_layer + 1 - gpu_layers`` on the CPU."""
    arch = variant.architecture
    w = _weights(arch, quant, variant.quant_table)
    n = arch.n_layer
    start = n + 1 - max(0, min(gpu_layers, n + 1))
    gpu = cpu = 0
    for il in range(n):
        read = w.layer_bytes[il] - w.layer_expert_bytes[il]
        read += _active(w.layer_expert_bytes[il], variant)
        if il < start:
            cpu += read
        else:
            gpu += read
    output = w.token_embd_bytes + w.output_norm_bytes
    if gpu_layers >= 1:
        gpu += output
    else:
        cpu += output
    crossings = 1 if start > 0 and gpu_layers >= 1 else 0
    return HybridReads(gpu_bytes=gpu, cpu_bytes=cpu, crossings=crossings)


def decode_seconds_per_token(
    reads: HybridReads, gpu_bandwidth_gb_s: float, cpu_bandwidth_gb_s: float
) -> float:
    """Seconds per generated token: bytes over each memory's bandwidth plus the crossings.

    The weights only (the KV cache is the same in both placements for LFM2's few attention
    layers at a chat context): the model llmcheck's speed estimate rests on (decode is bound by
    memory bandwidth), applied per device.
    """
    if gpu_bandwidth_gb_s <= 0 or cpu_bandwidth_gb_s <= 0:
        raise ValueError("bandwidths must be positive")
    return (
        reads.gpu_bytes / (gpu_bandwidth_gb_s * 1e9)
        + reads.cpu_bytes / (cpu_bandwidth_gb_s * 1e9)
        + reads.crossings * SPLIT_CROSSING_SECONDS
    )


def offload_speed_factor(
    variant: ModelVariant,
    quant: str,
    n_cpu_moe: int,
    gpu_bandwidth_gb_s: float,
    cpu_bandwidth_gb_s: float,
) -> float:
    """The experts-in-RAM decode speed as a fraction of the all-on-GPU one (0 < f <= 1)."""
    n = variant.architecture.n_layer
    full = decode_seconds_per_token(
        layer_split_reads(variant, quant, n + 1), gpu_bandwidth_gb_s, cpu_bandwidth_gb_s
    )
    hybrid = decode_seconds_per_token(
        expert_offload_reads(variant, quant, n_cpu_moe), gpu_bandwidth_gb_s, cpu_bandwidth_gb_s
    )
    return min(1.0, full / hybrid)
