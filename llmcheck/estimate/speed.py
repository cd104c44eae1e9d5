"""Decode and prompt speed: the bytes read per generated token over the memory bandwidth of the
devices that hold the layers, plus a per-layer latency (``docs/llama-cpp-memory.md`` §8).

An estimate, not a measurement: the constants below were fitted to runs recorded with llama.cpp.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmcheck.catalog import ModelVariant
from llmcheck.estimate.memory import MIB, kv_cache_bytes
from llmcheck.estimate.types import DeviceBudget, KvType, RunConfig, SpeedRange
from llmcheck.estimate.weights import _weights

# Measured against llama.cpp 0c1e57098 on an H100 80GB + 16-vCPU AMX Xeon with 138 GB/s of copy
# bandwidth (tests/data/llamacpp/speed_h100.json, benchmarks/llamacpp_truth/speed.py: pp512 and
# tg128 at 4k context, FA on, 16 threads; tests/test_speed_truth.py holds every run inside).
# Each pair is (high end, low end) of the decode range.
#
# Decode streams the weights once per token: t = weight bytes / (bandwidth x efficiency) +
# n_layer x per-layer latency (the low end also reads the whole KV cache at the full context).
# GPU: every H100 run fits 0.80 of 3,352 GB/s plus 43-63 us per layer (CUDA graphs on; kernel
# time of the many small matmuls of a layer, not bandwidth: 350M 1,289 tok/s, 1.2B Q4_K_M 880,
# Q8_0 824, 2.6B 503, 8B-A1B 643; 1.2B with 16k tokens in the cache 734). The low end keeps the
# peer tool whichllm's 0.45 and 90 us per layer (LFM2-24B-A2B's card: 293 tok/s on an H100, ~85 us
# per layer; docs/llama-cpp-memory.md §8) for slower GPUs; the high end's 35 us is 20 % under the
# fastest layer measured. Width: ~2.1x between low and high.
GPU_DECODE_EFFICIENCY = (0.80, 0.45)
GPU_LAYER_LATENCY_S = (35e-6, 90e-6)
# CPU: the Xeon runs fit ~150 us per layer (16 threads meet at a barrier after every graph node,
# ~25 nodes per LFM2 layer) plus 0.41-0.60 of the measured copy bandwidth (Q4_K_M 0.41-0.45:
# this CPU is compute-bound on K-quant dot products; Q8_0 0.60): 350M 165 tok/s, 1.2B Q4_K_M
# 65, Q8_0 57, 2.6B 33, 8B-A1B 50. The old 5-20 us per layer and 0.45-0.80 put four of five
# runs above the measurement. A CPU with less bandwidth per core is bandwidth-bound and reaches
# the high end (0.70, 80 us); the low end (0.40, 200 us) sits under the slowest run measured.
# Width: ~2x.
CPU_DECODE_EFFICIENCY = (0.70, 0.40)
# CPU_DECODE_EFFICIENCY is relative to a MEASURED copy bandwidth (threads copying memory, as
# `--measure-bandwidth` does). A RAM bandwidth from a table or from the DIMMs' SMBIOS data is the
# theoretical peak, which a copy reaches only in part: STREAM-style copies on DDR4/DDR5 desktops
# and servers typically reach 65-80% of the peak. Such a peak is scaled by this factor before the
# efficiencies apply, so table-based CPU speeds are not optimistic.
RAM_PEAK_TO_COPY = 0.70
CPU_LAYER_LATENCY_S = (80e-6, 200e-6)
# Prompt processing (pp512) is compute-bound and the snapshot has no FLOP rate, so it is a
# multiple of the middle of the decode range (geometric mean of low and high). Measured
# multiples of the measured decode: GPU 27-55x (H100, dense and MoE), CPU 8-13x for dense models
# and 3.4x for LFM2-8B-A1B (the CPU's MUL_MAT_ID path over 32 experts). Ranges below are those of
# pp512 / middle of the estimated decode range, widened 1.3x each way for other hardware.
PROMPT_TO_DECODE_GPU = (20.0, 80.0)
PROMPT_TO_DECODE_CPU = (5.0, 20.0)
PROMPT_TO_DECODE_CPU_MOE = (2.0, 8.0)

def decode_bytes_per_token(
    variant: ModelVariant, quant: str, context_tokens: int, kv_type: KvType = KvType.F16
) -> tuple[int, int]:
    """(weight bytes, KV bytes) read per generated token (docs/llama-cpp-memory.md §8).

    Weights: every layer tensor plus the output matrix (the token_embd lookup reads one row);
    MoE layers read the non-expert part and k/E of the expert bytes. KV: the whole cache up to
    ``context_tokens``.
    """
    arch = variant.architecture
    w = _weights(arch, quant, variant.quant_table)
    read = w.token_embd_bytes + w.output_norm_bytes
    for il in range(arch.n_layer):
        dense = w.layer_bytes[il] - w.layer_expert_bytes[il]
        read += dense
        if w.layer_expert_bytes[il]:
            read += w.layer_expert_bytes[il] * arch.n_expert_used // arch.n_expert
    return read, kv_cache_bytes(arch, context_tokens, kv_type)


def _effective_bandwidth_gb_s(budget: DeviceBudget) -> float | None:
    """The bandwidth the speed model uses: a CPU RAM peak (not measured) x RAM_PEAK_TO_COPY."""
    bw = budget.bandwidth_gb_s
    if bw is None or budget.kind != "cpu" or budget.bandwidth_source == "measured":
        return bw
    return bw * RAM_PEAK_TO_COPY


def tokens_per_second(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    used: Sequence[tuple[DeviceBudget, int]],
) -> SpeedRange | None:
    """Decode and prompt speed ranges for a placement; None when a bandwidth is unknown.

    ``used`` is (device budget, layers it holds) per device holding layers. Per token, each device
    streams its share of the bytes: t = sum(bytes x share / (bw x eff)) + n_layer x per-layer
    latency. High end: the high efficiency, empty KV, low latency; low end: the low efficiency,
    KV read at the full context, high latency. The reported bandwidth is the slowest device's as
    read (``SpeedRange.device``); a RAM peak counts as ``RAM_PEAK_TO_COPY`` of it, as the basis
    says.
    """
    arch = variant.architecture
    n_all = arch.n_layer
    shares = [(n / n_all, _effective_bandwidth_gb_s(b), b.kind != "cpu") for b, n in used]
    if not shares or any(bw is None or bw <= 0 for _, bw, _ in shares):
        return None
    weights, kv = decode_bytes_per_token(variant, quant, config.context_tokens, config.kv_type)
    slow = fast = 0.0
    for share, bw, is_gpu in shares:
        assert bw is not None
        rate = bw * 1e9
        eff = GPU_DECODE_EFFICIENCY if is_gpu else CPU_DECODE_EFFICIENCY
        lat = GPU_LAYER_LATENCY_S if is_gpu else CPU_LAYER_LATENCY_S
        layers = share * arch.n_layer
        fast += weights * share / (rate * eff[0]) + layers * lat[0]
        slow += (weights + kv) * share / (rate * eff[1]) + layers * lat[1]
    high, low = 1.0 / fast, 1.0 / slow
    gpu_bound = all(is_gpu for _, _, is_gpu in shares)
    if gpu_bound:
        ratio = PROMPT_TO_DECODE_GPU
    else:
        ratio = PROMPT_TO_DECODE_CPU_MOE if arch.is_moe else PROMPT_TO_DECODE_CPU
    middle = (low * high) ** 0.5
    bw_min = min(bw for _, bw, _ in shares if bw is not None)
    peaks = [b for b, _ in used if _effective_bandwidth_gb_s(b) != b.bandwidth_gb_s]
    basis = (
        f"decode: {weights / MIB:.0f} MiB of {variant.name} {quant} weights"
        + (" (MoE: k/E of the experts)" if arch.is_moe else "")
        + f" + up to {kv / MIB:.0f} MiB of KV per token over {bw_min:.0f} GB/s plus per-layer "
        f"latency, fitted to llama.cpp on an H100 and a 16-core Xeon; prompt: "
        f"{ratio[0]:.0f}-{ratio[1]:.0f}x the middle of the decode range."
    )
    if peaks:
        basis += (
            f" RAM: the {peaks[0].bandwidth_gb_s:.0f} GB/s peak"
            f" ({peaks[0].bandwidth_source or 'unknown source'}) counted as"
            f" {RAM_PEAK_TO_COPY:.0%} of it, what a copy reaches; --measure-bandwidth"
            " measures it instead."
        )
    # Report the slowest device's bandwidth as read, with its source.
    slowest = min((b for b, _ in used), key=lambda b: b.bandwidth_gb_s or 0.0)
    return SpeedRange(
        low_tokens_per_second=round(low, 1),
        high_tokens_per_second=round(high, 1),
        prompt_low_tokens_per_second=round(middle * ratio[0], 1),
        prompt_high_tokens_per_second=round(middle * ratio[1], 1),
        basis=basis,
        bandwidth_gb_s=slowest.bandwidth_gb_s or bw_min,
        bandwidth_source=slowest.bandwidth_source or "snapshot",
        device=slowest.device,
        weights_read_bytes_per_token=weights,
        kv_read_bytes_per_token_full_context=kv,
        prompt_to_decode_low=ratio[0],
        prompt_to_decode_high=ratio[1],
    )
