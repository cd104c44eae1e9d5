"""Decode and prompt speed of a placement: llmcheck's model file in, llmcheck.speed_model out.

The model (``llmcheck/speed_model.py``, ``docs/speed-model.md``) is architecture-generic: per
generated token it reads the weights (MoE: the active experts) and the KV cache over the memory
bandwidth, with per-layer and per-thread costs and attention work that grows with the filled
context; a prompt is FLOPs over the device's matrix throughput (the ISA and cores of a CPU, a table
of GPUs). This module turns a variant x quant x placement into that model's inputs:

- **Which context.** Decode and prompt are estimated with the chosen context half full
  (``depth_tokens``): the middle of a conversation that grows to the context. The two ends of
  that conversation come with it: decode on an empty cache and with the whole context in it.
  The prompt is a 512-token batch (llama-bench's pp512) at the same half-full cache, so both
  ranges describe one moment of the conversation; the first prompt (an empty cache) comes with
  it. The basis says so.
- **Several devices.** A split placement runs each device's share of the layers in turn, so the
  time per token is the sum of each device's time for its share.
- **Threads.** llama.cpp's default, one per physical core (``cpu_get_num_math``).
- **Throughput of a GPU the table does not list** is estimated from its bandwidth (Apple: from its
  GPU core count) and the basis says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmcheck.catalog import ModelVariant
from llmcheck.estimate.memory import kv_bytes_per_token, kv_cache_bytes
from llmcheck.estimate.types import DeviceBudget, KvType, RunConfig, SpeedRange
from llmcheck.estimate.weights import _weights
from llmcheck.snapshot import CpuInfo
from llmcheck.speed_model import (
    FITTED,
    BandwidthKind,
    DeviceKind,
    Hardware,
    ModelLoad,
    cpu_isa,
    cpu_matrix_tflops,
    decode_seconds_per_token,
    decode_terms,
    gpu_fp16_tflops,
    prompt_seconds_per_token,
)
from llmcheck.units import format_bandwidth, format_bytes

# A GPU missing from speed_model.GPU_FP16_TFLOPS: dense FP16 TFLOPS per GB/s of its bandwidth.
# Consumer and data-centre NVIDIA / AMD cards of 2020-2025 sit at 0.14-0.33 (RTX 3060 51 / 360,
# RTX 4090 330 / 1,008, H100 989 / 3,352); 0.12 errs on the slow side.
UNLISTED_GPU_TFLOPS_PER_GB_S = 0.12
# Apple GPUs: FP16 runs at the FP32 rate, ~0.33 TFLOPS per GPU core (M1 8 cores 2.6 TFLOPS,
# M1 Ultra 64 cores 21 TFLOPS: Apple's figures).
APPLE_TFLOPS_PER_GPU_CORE = 0.33
# Apple GPUs of unknown core count: what the bandwidth implies at the M1 Ultra's ratio (21 / 800).
APPLE_TFLOPS_PER_GB_S = 0.026
# llama.cpp's default thread count when the probe could not count cores.
DEFAULT_THREADS = 4

_BACKEND_KIND = {
    "cuda": DeviceKind.CUDA,
    "rocm": DeviceKind.ROCM,
    "metal": DeviceKind.METAL,
    "vulkan": DeviceKind.VULKAN,
    "sycl": DeviceKind.VULKAN,  # no SYCL data: the Vulkan constants are the nearest
    "cpu": DeviceKind.CPU,
}


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


def model_load(variant: ModelVariant, quant: str, kv_type: KvType = KvType.F16) -> ModelLoad:
    """The speed model's per-token work of one variant x quant."""
    arch = variant.architecture
    weights, _ = decode_bytes_per_token(variant, quant, 1, kv_type)
    return ModelLoad(
        weight_bytes_per_token=weights,
        kv_bytes_per_context_token=kv_bytes_per_token(arch, kv_type),
        matmul_flops_per_token=2 * arch.parameter_count(active=True),
        n_layer=arch.n_layer,
        n_attention_layers=arch.n_attention_layers,
        n_head=arch.n_head,
        head_dim=arch.head_dim,
        quant=quant,
        is_moe=arch.is_moe,
    )


def threads_for(cpu: CpuInfo | None) -> int:
    """llama.cpp's default thread count: the physical cores."""
    if cpu is None:
        return DEFAULT_THREADS
    return cpu.physical_cores or cpu.logical_cores or DEFAULT_THREADS


def hardware(
    budget: DeviceBudget, cpu: CpuInfo | None, threads: int | None = None
) -> tuple[Hardware, str] | None:
    """The speed model's view of one device, and a note on how its throughput was found.

    None when its bandwidth is unknown.
    """
    bw = budget.bandwidth_gb_s
    if bw is None or bw <= 0:
        return None
    kind = _BACKEND_KIND.get(budget.backend, DeviceKind.VULKAN)
    cores = threads_for(cpu)
    threads = cores if threads is None else threads
    if kind is DeviceKind.CPU:
        features = cpu.features if cpu is not None else ()
        isa = cpu_isa(features)
        measured = budget.bandwidth_source == "measured"
        return (
            Hardware(
                device=kind,
                bandwidth_gb_s=bw,
                bandwidth_kind=BandwidthKind.MEASURED if measured else BandwidthKind.PEAK,
                bandwidth_source=budget.bandwidth_source or "unknown source",
                matrix_tflops=cpu_matrix_tflops(isa, cores),
                cores=cores,
                threads=threads,
                isa=isa,
            ),
            f"{isa.value} x {cores} cores",
        )
    tflops = gpu_fp16_tflops(budget.name)
    note = "FP16 table"
    if tflops is None:
        if kind is DeviceKind.METAL:
            tflops, note = bw * APPLE_TFLOPS_PER_GB_S, "estimated from its bandwidth"
        else:
            tflops, note = bw * UNLISTED_GPU_TFLOPS_PER_GB_S, "estimated from its bandwidth"
    return (
        Hardware(
            device=kind,
            bandwidth_gb_s=bw,
            bandwidth_kind=BandwidthKind.PEAK,
            bandwidth_source=budget.bandwidth_source or "unknown source",
            matrix_tflops=tflops,
            cores=threads,
            threads=threads,
        ),
        note,
    )


def tokens_per_second(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    used: Sequence[tuple[DeviceBudget, int]],
    cpu: CpuInfo | None = None,
) -> SpeedRange | None:
    """Decode and prompt speed ranges for a placement; None when a bandwidth is unknown.

    ``used`` is (device budget, layers it holds) per device holding layers; ``cpu`` the machine's
    CPU (ISA and cores for its throughput and thread count).
    """
    arch = variant.architecture
    devices = [(b, n, hardware(b, cpu, config.threads)) for b, n in used if n > 0]
    if not devices or any(h is None for _, _, h in devices):
        return None
    load = model_load(variant, quant, config.kv_type)
    depth = config.context_tokens // 2
    t_decode = t_prompt = t_prompt_empty = t_decode_empty = t_decode_full = 0.0
    bound = "memory"
    notes: list[str] = []
    for _budget, n, found in devices:
        assert found is not None
        hw, note = found
        share = n / arch.n_layer if arch.n_layer else 1.0
        t_decode += share * decode_seconds_per_token(load, hw, depth)
        t_decode_empty += share * decode_seconds_per_token(load, hw, 0)
        t_decode_full += share * decode_seconds_per_token(load, hw, config.context_tokens)
        t_prompt += share * prompt_seconds_per_token(load, hw, depth)
        t_prompt_empty += share * prompt_seconds_per_token(load, hw, 0)
        terms = decode_terms(load, hw, depth)
        if terms["compute"] > terms["memory"]:
            bound = "compute"
        notes.append(f"{hw.device.value} {hw.matrix_tflops:.1f} TFLOPS ({note})")
    c = FITTED
    decode_spreads = (c.decode_spread_low, c.decode_spread_high)
    prompt_spreads = (c.prompt_spread_low, c.prompt_spread_high)
    low, high = _ends(t_decode, *decode_spreads)
    # The prompt at the decode's depth: one condition, the model's own spread (a fold from the
    # empty cache to the half-full one cannot keep within PROMPT_MAX_WIDTH at long contexts).
    p_low, p_high = _ends(t_prompt, *prompt_spreads)
    empty_low, empty_high = _ends(t_decode_empty, *decode_spreads)
    full_low, full_high = _ends(t_decode_full, *decode_spreads)
    first_low, first_high = _ends(t_prompt_empty, *prompt_spreads)
    slowest_budget, _, slowest = min(
        devices, key=lambda d: d[2][0].bandwidth_gb_s if d[2] is not None else 0.0
    )
    assert slowest is not None
    slow_hw = slowest[0]
    weights, kv_full = decode_bytes_per_token(variant, quant, config.context_tokens, config.kv_type)
    threads = config.threads or threads_for(cpu)
    on_cpu = any(hw_note[0].device is DeviceKind.CPU for _, _, hw_note in devices if hw_note)
    peak = slow_hw.device is DeviceKind.CPU and slow_hw.bandwidth_kind is BandwidthKind.PEAK
    basis = (
        f"with the {config.context_tokens:,}-token context half full: decode reads "
        f"{format_bytes(weights)} of {variant.name} {quant} weights"
        + (" (MoE: the active experts)" if arch.is_moe else "")
        + f" + {format_bytes(load.kv_bytes_per_context_token * depth)} of KV per token over"
        f" {format_bandwidth(slow_hw.bandwidth_gb_s)} ({slow_hw.bandwidth_source}), {bound}-bound,"
        " plus"
        " per-layer costs"
        + (f" with {threads} thread{'s' if threads != 1 else ''}" if on_cpu else "")
        + f"; a 512-token prompt at the same depth: "
        f"{load.matmul_flops_per_token / 1e9:.1f} GFLOP per token over "
        + ", ".join(notes)
        + ". Fitted to llama.cpp on several machines (docs/speed-model.md)."
    )
    if peak:
        basis += (
            f" The RAM bandwidth is a peak ({slow_hw.bandwidth_source}), counted as"
            f" {c.cpu_peak_to_copy:.0%} of it, what a copy reaches; --measure-bandwidth"
            " measures it."
        )
    middle = (low * high) ** 0.5
    return SpeedRange(
        low_tokens_per_second=round(low, 1),
        high_tokens_per_second=round(high, 1),
        prompt_low_tokens_per_second=round(p_low, 1),
        prompt_high_tokens_per_second=round(p_high, 1),
        basis=basis,
        bandwidth_gb_s=slow_hw.bandwidth_gb_s,
        bandwidth_source=slowest_budget.bandwidth_source or "snapshot",
        device=slowest_budget.device,
        weights_read_bytes_per_token=weights,
        kv_read_bytes_per_token_full_context=kv_full,
        prompt_to_decode_low=round(p_low / middle, 2),
        prompt_to_decode_high=round(p_high / middle, 2),
        depth_tokens=depth,
        threads=threads if on_cpu else None,
        empty_low_tokens_per_second=round(empty_low, 1),
        empty_high_tokens_per_second=round(empty_high, 1),
        full_low_tokens_per_second=round(full_low, 1),
        full_high_tokens_per_second=round(full_high, 1),
        prompt_empty_low_tokens_per_second=round(first_low, 1),
        prompt_empty_high_tokens_per_second=round(first_high, 1),
    )


def _ends(seconds_per_token: float, spread_low: float, spread_high: float) -> tuple[float, float]:
    """(low, high) tok/s around a central time per token, by the model's spreads."""
    return 1.0 / (seconds_per_token * spread_low), spread_high / seconds_per_token
