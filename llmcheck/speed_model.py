"""llama.cpp decode and prompt speed from architecture-generic numbers (issue #10 item 2).

Pure: numbers in, frozen dataclasses out; no I/O, no Qt, no llmcheck imports. The caller turns a
model (any architecture: LFM2, Llama, MoE) into a :class:`ModelLoad` and a machine into a
:class:`Hardware`; :func:`estimate_speed` returns a :class:`SpeedEstimate`.

Decode, seconds per token (one token of batch 1, ``depth`` tokens already in the KV cache)::

    t = max(t_memory, t_compute) + t_attention + n_layer x (layer_s + sync_s x (threads - 1))
    t_memory    = (weight bytes + KV bytes x depth) / min(bandwidth x efficiency,
                                                       threads x one thread's bandwidth)  (CPU)
    t_compute   = matmul FLOPs / (decode share of the matrix throughput)   (CPU only)
    t_attention = 4 x n_attn x n_head x head_dim x depth FLOPs / attention throughput

Prompt (pp512), seconds per token: matmul FLOPs / (matrix throughput x quant efficiency [x MoE
factor]) + attention FLOPs at the middle of the batch / attention throughput + per-layer cost of a
512-token batch / 512.

The range is the central time times fixed spreads (decode at most 2.5x wide, prompt at most 4x).
Every constant in :data:`FITTED` comes from ``benchmarks/speed_fit.py`` (see there and
``docs/speed-model.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

#: Width limits of a range, high / low (issue #10).
DECODE_MAX_WIDTH = 2.5
PROMPT_MAX_WIDTH = 4.0
#: Tokens of llama-bench's prompt test and llama.cpp's default micro-batch.
PROMPT_TOKENS = 512


class DeviceKind(StrEnum):
    """Where the layers run: the CPU or one of llama.cpp's GPU back ends."""

    CPU = "cpu"
    CUDA = "cuda"
    METAL = "metal"
    VULKAN = "vulkan"
    ROCM = "rocm"

    @property
    def is_gpu(self) -> bool:
        """True for every GPU back end."""
        return self is not DeviceKind.CPU


class BandwidthKind(StrEnum):
    """What a bandwidth figure is: a copy someone measured, or a peak from a table or the bus."""

    MEASURED = "measured"
    PEAK = "peak"


class CpuIsa(StrEnum):
    """The widest matrix-multiply instructions ggml-cpu uses on a CPU."""

    GENERIC = "generic"
    NEON = "neon"
    SVE = "sve"
    AVX2 = "avx2"
    AVX512 = "avx512"
    AVX512_VNNI = "avx512_vnni"
    AMX = "amx"


# Int8 dot-product operations per cycle per core that ggml-cpu's quantized matmul kernels issue
# (activations quantized to 8 bits), not the instruction-set peak. AVX-512 VNNI (vpdpbusd on 64
# bytes) is the unit: 128. AVX2 (vpmaddubsw + vpmaddwd on 32 bytes): 80, measured: ggml built
# without AVX-512 reached 0.49-0.81x (median 0.63x) of the VNNI build's int8 prompt speed on the
# same Zen 4 cores, one thread, quiet (tests/data/llamacpp/speed_cpu_small_avx2.json). AVX-512
# without VNNI gains little over AVX2 in ggml (its K-quant kernels are AVX2-shaped): 96. AMX tiles
# (TMUL peak 1,024 MACs per cycle) run only the types below and are bound by tile loads: 192,
# counted per core as the probe reports them. NEON sdot: 16 MACs x 2 pipes = 64; SVE / i8mm: 96. The
# fitted efficiencies below say how much of this llama.cpp reaches per quant. F16 / BF16 weights do
# not use these kernels: see X86_FLOAT_ISA.
CPU_INT8_OPS_PER_CYCLE: dict[CpuIsa, int] = {
    CpuIsa.GENERIC: 16,
    CpuIsa.NEON: 64,
    CpuIsa.SVE: 96,
    CpuIsa.AVX2: 80,
    CpuIsa.AVX512: 96,
    CpuIsa.AVX512_VNNI: 128,
    CpuIsa.AMX: 192,
}
# Weight types ggml's AMX back end multiplies with tiles (ggml-cpu/amx/common.h,
# qtype_has_amx_kernels); it takes only MUL_MAT (amx.cpp supports_op), so F16 / BF16 weights, the
# other types and MoE experts (MUL_MAT_ID) run the AVX-512 VNNI kernels of the same cores.
AMX_WEIGHT_TYPES = frozenset({"Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS"})
# F16 weights multiply in F32 FMAs (F16C conversion), whatever the int8 ISA: the same pp512 with and
# without AVX-512 on Zen 4 (0.90-1.04x: 350M 149 / 134 tok/s, 1.2B 44 / 46, 2.6B 18.5 / 17.7, one
# thread), which runs 512-bit FMAs as two 256-bit halves. x86 CPUs are counted at the AVX2 rate for
# them (an Intel core with two 512-bit FMA ports can do up to 2x: the range's upper spread).
X86_FLOAT_ISA = frozenset({CpuIsa.AVX2, CpuIsa.AVX512, CpuIsa.AVX512_VNNI, CpuIsa.AMX})
# Flash attention on a CPU (one query against the cached keys and values, F16 dot products in F32
# lanes) runs faster with ggml's AVX-512 kernels than with its AVX2 ones on the same core: the
# fitted ``cpu_attention_avx512_factor`` (prior 2: one 512-bit instruction for two 256-bit ones).
# On the Zen 4 VM, quiet, both builds interleaved in one session, a cached token cost LFM2-350M
# 11.9 us with the AVX2 build and 3.7 us with the native one after 8,192 tokens (3.2x; 5-6x
# against AVX2 runs of another session). The first comparison (2.0-2.6x) had the native runs
# taken on a busy machine. The fitted rate is per AVX2-wide thread.
CPU_ATTENTION_AVX512 = frozenset({CpuIsa.AVX512, CpuIsa.AVX512_VNNI, CpuIsa.AMX})
#: Clock assumed when the CPU's is unknown (GHz): a typical all-core clock under load.
DEFAULT_CPU_CLOCK_GHZ = 3.0

# Dense FP16 matrix throughput per GPU (TFLOPS; tensor cores where the family has them, FP16
# accumulate as llama.cpp's MMA / coopmat kernels use it), from the vendors' published
# specifications. Matched by a lower-case substring of the GPU name, first match wins.
GPU_FP16_TFLOPS: tuple[tuple[str, float], ...] = (
    ("h100", 989.0),  # NVIDIA H100 SXM5 datasheet, dense FP16 tensor
    ("h200", 989.0),
    ("a100", 312.0),  # NVIDIA A100 datasheet
    ("rtx 5090", 419.0),
    ("rtx 4090", 330.0),  # Ada whitepaper: 330.3 FP16 tensor, FP16 accumulate
    ("rtx 4080", 195.0),
    ("rtx 3090", 142.0),  # Ampere GA102 whitepaper, FP16 accumulate
    ("rtx 3080", 119.0),
    ("rtx 3060", 51.0),
    ("rtx 2080 ti", 108.0),  # Turing whitepaper: 107.6 FP16 tensor, FP16 accumulate
    # Apple GPUs by chip and GPU core count (the probe names them "Apple M2 Max (38-core GPU)",
    # matched with the brackets dropped; these keys come before the bare "m1 ultra"/"m1 max"/...
    # ones so the first match is the core-specific one).
    # FP16 = FP32 rate on M1 and later (philipturner/metal-benchmarks: 256 F16 and 256 F32 ops per
    # clock per core), so TFLOPS = cores x 128 ALUs x 2 (FMA) x GPU clock. Top GPU clocks, read off
    # powermetrics, not Apple figures: M1 1.278 GHz, M1 Pro/Max/Ultra 1.296 GHz
    # (philipturner/metal-benchmarks README table; philipturner/applegpuinfo issues #2, #7);
    # M2 family 1.398 GHz (metal-benchmarks; tlkh/asitop#47; applegpuinfo#10 M2 Max;
    # vladkens/macmon#68: the M2 Ultra GPU DVFS table tops at 1398 MHz); M3 family 1.38 GHz
    # (applegpuinfo#4 M3 Max powermetrics, applegpuinfo#15 M3; M3 Ultra assumed the same as M3 Max);
    # M4 family ~1.578 GHz (top bin of the M4-generation GPU DVFS table in public powermetrics logs;
    # Apple publishes no GPU clock for any of these).
    ("m1 7-core", 2.29),  # 7 x 128 x 2 x 1.278 GHz = 2.290
    ("m1 8-core", 2.62),  # 8 x 128 x 2 x 1.278 GHz = 2.617
    ("m1 pro 14-core", 4.64),  # 14 x 128 x 2 x 1.296 GHz = 4.645
    ("m1 pro 16-core", 5.31),  # 16 x 128 x 2 x 1.296 GHz = 5.308
    ("m1 max 24-core", 7.96),  # 24 x 128 x 2 x 1.296 GHz = 7.963
    ("m1 max 32-core", 10.62),  # 32 x 128 x 2 x 1.296 GHz = 10.617
    ("m1 ultra 48-core", 15.93),  # 48 x 128 x 2 x 1.296 GHz = 15.925
    ("m1 ultra 64-core", 21.23),  # 64 x 128 x 2 x 1.296 GHz = 21.234
    ("m2 8-core", 2.86),  # 8 x 128 x 2 x 1.398 GHz = 2.863
    ("m2 10-core", 3.58),  # 10 x 128 x 2 x 1.398 GHz = 3.579
    ("m2 pro 16-core", 5.73),  # 16 x 128 x 2 x 1.398 GHz = 5.726
    ("m2 pro 19-core", 6.8),  # 19 x 128 x 2 x 1.398 GHz = 6.800
    ("m2 max 30-core", 10.74),  # 30 x 128 x 2 x 1.398 GHz = 10.737
    ("m2 max 38-core", 13.6),  # 38 x 128 x 2 x 1.398 GHz = 13.600
    ("m2 ultra 60-core", 21.47),  # 60 x 128 x 2 x 1.398 GHz = 21.473
    ("m2 ultra 76-core", 27.2),  # 76 x 128 x 2 x 1.398 GHz = 27.199
    ("m3 10-core", 3.53),  # 10 x 128 x 2 x 1.38 GHz = 3.533
    ("m3 pro 14-core", 4.95),  # 14 x 128 x 2 x 1.38 GHz = 4.946
    ("m3 pro 18-core", 6.36),  # 18 x 128 x 2 x 1.38 GHz = 6.359
    ("m3 max 30-core", 10.6),  # 30 x 128 x 2 x 1.38 GHz = 10.598
    ("m3 max 40-core", 14.13),  # 40 x 128 x 2 x 1.38 GHz = 14.131
    ("m3 ultra 60-core", 21.2),  # 60 x 128 x 2 x 1.38 GHz = 21.197
    ("m3 ultra 80-core", 28.26),  # 80 x 128 x 2 x 1.38 GHz = 28.262
    ("m4 10-core", 4.04),  # 10 x 128 x 2 x 1.578 GHz = 4.040
    ("m4 pro 16-core", 6.46),  # 16 x 128 x 2 x 1.578 GHz = 6.463
    ("m4 pro 20-core", 8.08),  # 20 x 128 x 2 x 1.578 GHz = 8.079
    ("m4 max 32-core", 12.93),  # 32 x 128 x 2 x 1.578 GHz = 12.927
    ("m4 max 40-core", 16.16),  # 40 x 128 x 2 x 1.578 GHz = 16.159
    ("m1 ultra", 21.0),  # Apple: "up to 21 teraflops" (64-core GPU; FP16 runs at the FP32 rate)
    ("m2 ultra", 27.2),
    ("m1 max", 10.4),
    ("m1 pro", 5.2),
)


def gpu_fp16_tflops(name: str) -> float | None:
    """The table's dense FP16 matrix TFLOPS for a GPU name, or None when it is not listed.

    Brackets are dropped before matching, so the Apple probe's "Apple M2 Max (38-core GPU)"
    finds the "m2 max 38-core" row.
    """
    low = " ".join(name.lower().replace("(", " ").replace(")", " ").split())
    return next((tf for key, tf in GPU_FP16_TFLOPS if key in low), None)


def cpu_matrix_tflops(isa: CpuIsa, cores: int, clock_ghz: float | None = None) -> float:
    """Peak matrix throughput of ``cores`` cores: cores x ops per cycle (by ISA) x clock, TFLOPS."""
    clock = clock_ghz if clock_ghz and clock_ghz > 0 else DEFAULT_CPU_CLOCK_GHZ
    return max(cores, 1) * CPU_INT8_OPS_PER_CYCLE[isa] * clock * 1e9 / 1e12


def cpu_isa(features: tuple[str, ...] | frozenset[str]) -> CpuIsa:
    """The best ISA among lower-case CPU feature flags (llmcheck.snapshot.CpuInfo.features)."""
    f = {x.lower() for x in features}
    if f & {"amx", "amx_int8", "amx_tile"}:
        return CpuIsa.AMX
    if f & {"avx512vnni", "avx512_vnni"}:
        return CpuIsa.AVX512_VNNI
    if f & {"avx512f", "avx512bw"}:
        return CpuIsa.AVX512
    if "avx2" in f:
        return CpuIsa.AVX2
    if f & {"sve", "sve2"}:
        return CpuIsa.SVE
    if f & {"neon", "asimd", "asimddp", "dotprod"}:
        return CpuIsa.NEON
    return CpuIsa.GENERIC


def quant_class(quant: str) -> str:
    """The kernel family a quant name belongs to: "float", "q8", "k" (K-quants) or "legacy"."""
    q = quant.upper()
    if q in {"F16", "BF16", "F32"}:
        return "float"
    if q.startswith("Q8"):
        return "q8"
    if "_K" in q or q.startswith("IQ"):
        return "k"
    return "legacy"


QUANT_CLASSES = ("float", "q8", "k", "legacy")


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelLoad:
    """Per-token work of one model at one quantization, independent of the architecture."""

    weight_bytes_per_token: int  # weights read per decoded token (MoE: active experts only)
    kv_bytes_per_context_token: int  # KV cache bytes per cached token, all attention layers
    matmul_flops_per_token: int  # 2 x active parameters that take part in a matmul
    n_layer: int
    n_attention_layers: int
    n_head: int
    head_dim: int
    quant: str  # "Q4_K_M", "F16", ...
    is_moe: bool = False

    def attention_flops_per_token(self, depth_tokens: int) -> float:
        """QK^T and softmax(QK^T)V over ``depth_tokens`` cached tokens: 4 x n_attn x H x hd x n."""
        return 4.0 * self.n_attention_layers * self.n_head * self.head_dim * max(depth_tokens, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hardware:
    """The device that holds every layer, as the speed model needs it."""

    device: DeviceKind
    bandwidth_gb_s: float
    bandwidth_kind: BandwidthKind
    bandwidth_source: str  # where the figure came from, for the basis ("measured", "table", ...)
    matrix_tflops: float  # dense matrix throughput of the whole device (CPU: all its cores)
    cores: int = 1  # CPU: physical cores the matrix_tflops counts
    threads: int = 1  # CPU: llama.cpp threads (-t); ignored on a GPU
    isa: CpuIsa | None = None  # CPU: the ISA matrix_tflops counts (AMX: see uses_amx_tiles)


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeedConstants:
    """The fitted terms (seconds, fractions); see :data:`FITTED` for the values and their fit."""

    gpu_bandwidth_efficiency: float  # of the peak bandwidth
    cpu_bandwidth_efficiency: float  # of a measured copy bandwidth
    cpu_peak_to_copy: float  # a CPU RAM peak (table, SMBIOS) -> what a copy reaches
    gpu_layer_s: float  # per layer per decoded token (kernel launches, small matmuls)
    metal_layer_s: float  # the same on Apple GPUs (Metal command encoding per graph node)
    cpu_thread_bandwidth_gb_s: float  # what one CPU thread streams at most (GB/s)
    cpu_layer_s: float  # per layer per decoded token with one thread
    cpu_sync_s: float  # per layer per decoded token per extra thread (barriers)
    cpu_decode_compute_efficiency: float  # of the matrix throughput, batch-1 dot products
    gpu_attention_efficiency: float  # of the matrix throughput, flash attention
    cpu_attention_gflops_per_thread: float  # CPU flash attention per AVX2-wide thread
    cpu_attention_avx512_factor: float = 1.0  # ggml's AVX-512 attention over its AVX2 one
    gpu_prompt_efficiency: dict[str, float] = field(default_factory=dict)  # by quant_class
    cpu_prompt_efficiency: dict[str, float] = field(default_factory=dict)  # by quant_class
    gpu_moe_prompt_factor: float = 1.0  # MUL_MAT_ID over many experts, batched
    # Apple's table figure is a shader peak (no tensor cores), NVIDIA's a tensor-core peak:
    # llama.cpp's Metal kernels reach a larger share of theirs (x this on a Metal GPU).
    metal_prompt_factor: float = 1.0
    # A 512-token batch attends as blocks (K and V reused across the batch's queries), not one
    # query at a time as in decode: its own rate per AVX2-wide thread. LFM2-350M / 1.2B pp512
    # after 2,048 and 8,192 tokens on one Zen 4 thread (tests/data/llamacpp/
    # speed_cpu_small_prompt_depth.json) ran ~6x the decode rate per FLOP.
    cpu_prompt_attention_gflops_per_thread: float = 0.0  # 0: the decode rate
    cpu_moe_prompt_factor: float = 1.0
    gpu_prompt_layer_s: float = 0.0  # per layer per 512-token batch
    cpu_prompt_layer_s: float = 0.0
    decode_spread_low: float = 1.5  # low end = central / spread_low
    decode_spread_high: float = 1.5  # high end = central x spread_high
    prompt_spread_low: float = 2.0
    prompt_spread_high: float = 2.0


# Fitted by `python -m benchmarks.speed_fit --update` (all machines, no hold-out) on the data:
# tests/data/llamacpp/speed_h100.json (H100 + 16-vCPU AMX Xeon, llama.cpp 0c1e57098),
# tests/data/speed_public/*.json (llama-bench results published by others) and, when present,
# tests/data/llamacpp/speed_cpu_small.json. Log-space least squares on the central time, then the
# spreads set to the widest training residual (capped at the width limits). Regenerate with
# `python -m benchmarks.speed_fit --update`, which rewrites this block and docs/speed-model.md.
FITTED = SpeedConstants(
    gpu_bandwidth_efficiency=0.731,
    cpu_bandwidth_efficiency=0.726,
    cpu_peak_to_copy=0.7,
    gpu_layer_s=4.51e-05,
    metal_layer_s=0.000114,
    cpu_thread_bandwidth_gb_s=18.6,
    cpu_layer_s=2.26e-05,
    cpu_sync_s=1.91e-05,
    cpu_decode_compute_efficiency=0.187,
    gpu_attention_efficiency=0.034,
    cpu_attention_gflops_per_thread=2.22,
    cpu_attention_avx512_factor=3.69,
    gpu_prompt_efficiency={"float": 0.3, "q8": 0.32, "k": 0.343, "legacy": 0.25},
    cpu_prompt_efficiency={"float": 0.439, "q8": 0.288, "k": 0.401, "legacy": 0.387},
    gpu_moe_prompt_factor=0.459,
    metal_prompt_factor=2.26,
    cpu_prompt_attention_gflops_per_thread=6.84,
    cpu_moe_prompt_factor=0.486,
    gpu_prompt_layer_s=0.000509,
    cpu_prompt_layer_s=0.0068,
    decode_spread_low=1.59,
    decode_spread_high=1.572,
    prompt_spread_low=1.924,
    prompt_spread_high=2.078,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeedEstimate:
    """Decode and prompt speed ranges (tokens per second) with the terms behind them."""

    decode_low_tokens_per_second: float
    decode_high_tokens_per_second: float
    prompt_low_tokens_per_second: float
    prompt_high_tokens_per_second: float
    depth_tokens: int  # tokens already in the KV cache that the ranges assume
    decode_bound: str  # "memory" | "compute": which term of the roofline decided decode
    basis: str


def _effective_bandwidth(hw: Hardware, c: SpeedConstants) -> float:
    """Bytes per second a decode streams: GPU peak x eff; CPU copy (or peak x 0.70) x eff, and
    no more than the threads can pull (one core's outstanding cache misses bound what it reads:
    a 1-thread decode reads at about the same GB/s whatever the quant)."""
    bw = hw.bandwidth_gb_s * 1e9
    if not hw.device.is_gpu:
        if hw.bandwidth_kind is BandwidthKind.PEAK:
            bw *= c.cpu_peak_to_copy
        usable = min(max(hw.threads, 1), max(hw.cores, 1))
        return min(bw * c.cpu_bandwidth_efficiency, usable * c.cpu_thread_bandwidth_gb_s * 1e9)
    return bw * c.gpu_bandwidth_efficiency


def _cpu_active_share(hw: Hardware) -> float:
    """Share of the CPU's matrix throughput that ``threads`` threads reach (no gain past cores)."""
    return min(max(hw.threads, 1), max(hw.cores, 1)) / max(hw.cores, 1)


def uses_amx_tiles(quant: str) -> bool:
    """True when ggml's AMX tiles multiply a quant's main weights (Q4_K_M: Q4_K; F16: no)."""
    q = quant.upper()
    base = q[:-2] if q.endswith(("_S", "_M", "_L")) and "_K" in q else q
    return base in AMX_WEIGHT_TYPES


def _cpu_prompt_rate(load: ModelLoad, hw: Hardware) -> float:
    """FLOPs per second a CPU's prompt matmuls can reach before the fitted efficiency.

    On an AMX CPU only dense MUL_MAT of the AMX weight types uses the tiles; the rest runs at
    the AVX-512 VNNI rate of the same cores. F16 / BF16 weights run at the AVX2 rate on every
    x86 ISA (:data:`X86_FLOAT_ISA`).
    """
    rate = hw.matrix_tflops * 1e12 * _cpu_active_share(hw)
    if hw.isa is None:
        return rate
    ops = CPU_INT8_OPS_PER_CYCLE
    if quant_class(load.quant) == "float" and hw.isa in X86_FLOAT_ISA:
        return rate * ops[CpuIsa.AVX2] / ops[hw.isa]
    if hw.isa is CpuIsa.AMX and (load.is_moe or not uses_amx_tiles(load.quant)):
        rate *= ops[CpuIsa.AVX512_VNNI] / ops[CpuIsa.AMX]
    return rate


def _attention_flops_per_s(hw: Hardware, c: SpeedConstants, *, prompt: bool = False) -> float:
    if hw.device.is_gpu:
        # A prompt's attention runs on the same shader cores as its matmuls on a Metal GPU.
        metal = c.metal_prompt_factor if prompt and hw.device is DeviceKind.METAL else 1.0
        return hw.matrix_tflops * 1e12 * c.gpu_attention_efficiency * metal
    usable = min(max(hw.threads, 1), max(hw.cores, 1))
    width = c.cpu_attention_avx512_factor if hw.isa in CPU_ATTENTION_AVX512 else 1.0
    per_thread = c.cpu_attention_gflops_per_thread
    if prompt and c.cpu_prompt_attention_gflops_per_thread > 0:
        per_thread = c.cpu_prompt_attention_gflops_per_thread
    return usable * width * per_thread * 1e9


def decode_terms(
    load: ModelLoad, hw: Hardware, depth_tokens: int, c: SpeedConstants = FITTED
) -> dict[str, float]:
    """The decode time terms (seconds per token): memory, compute, attention, layers."""
    bytes_read = load.weight_bytes_per_token + load.kv_bytes_per_context_token * depth_tokens
    memory = bytes_read / _effective_bandwidth(hw, c)
    if hw.device.is_gpu:
        compute = 0.0
        per_layer = c.metal_layer_s if hw.device is DeviceKind.METAL else c.gpu_layer_s
        layers = load.n_layer * per_layer
    else:
        rate = hw.matrix_tflops * 1e12 * _cpu_active_share(hw) * c.cpu_decode_compute_efficiency
        compute = load.matmul_flops_per_token / rate
        layers = load.n_layer * (c.cpu_layer_s + c.cpu_sync_s * (max(hw.threads, 1) - 1))
    attention = load.attention_flops_per_token(depth_tokens) / _attention_flops_per_s(hw, c)
    return {"memory": memory, "compute": compute, "attention": attention, "layers": layers}


def decode_seconds_per_token(
    load: ModelLoad, hw: Hardware, depth_tokens: int, c: SpeedConstants = FITTED
) -> float:
    """Central decode time per token (seconds): the roofline max plus attention and layers."""
    t = decode_terms(load, hw, depth_tokens, c)
    return max(t["memory"], t["compute"]) + t["attention"] + t["layers"]


def prompt_seconds_per_token(
    load: ModelLoad, hw: Hardware, depth_tokens: int, c: SpeedConstants = FITTED
) -> float:
    """Central prompt time per token (seconds) for a 512-token batch after ``depth_tokens``."""
    qc = quant_class(load.quant)
    if hw.device.is_gpu:
        eff = c.gpu_prompt_efficiency.get(qc, 0.2)
        if hw.device is DeviceKind.METAL:
            eff *= c.metal_prompt_factor
        moe = c.gpu_moe_prompt_factor if load.is_moe else 1.0
        rate = hw.matrix_tflops * 1e12
        layer_s = c.gpu_prompt_layer_s
    else:
        eff = c.cpu_prompt_efficiency.get(qc, 0.1)
        moe = c.cpu_moe_prompt_factor if load.is_moe else 1.0
        rate = _cpu_prompt_rate(load, hw)
        layer_s = c.cpu_prompt_layer_s * (1.0 + 0.1 * (max(hw.threads, 1) - 1))
    matmul = load.matmul_flops_per_token / (rate * eff * moe)
    mid_depth = depth_tokens + PROMPT_TOKENS // 2
    attention = load.attention_flops_per_token(mid_depth) / _attention_flops_per_s(
        hw, c, prompt=True
    )
    return matmul + attention + load.n_layer * layer_s / PROMPT_TOKENS


def _check_widths(c: SpeedConstants) -> None:
    if c.decode_spread_low * c.decode_spread_high > DECODE_MAX_WIDTH * 1.0001:
        raise ValueError("decode spreads exceed DECODE_MAX_WIDTH")
    if c.prompt_spread_low * c.prompt_spread_high > PROMPT_MAX_WIDTH * 1.0001:
        raise ValueError("prompt spreads exceed PROMPT_MAX_WIDTH")


def estimate_speed(
    load: ModelLoad, hw: Hardware, *, depth_tokens: int = 0, constants: SpeedConstants = FITTED
) -> SpeedEstimate:
    """Decode and prompt (pp512) ranges for ``load`` on ``hw`` with ``depth_tokens`` cached.

    Raises:
        ValueError: a bandwidth or throughput that is not positive, or spreads wider than the
            width limits.
    """
    if hw.bandwidth_gb_s <= 0 or hw.matrix_tflops <= 0:
        raise ValueError("bandwidth and matrix throughput must be positive")
    _check_widths(constants)
    c = constants
    terms = decode_terms(load, hw, depth_tokens, c)
    t_dec = max(terms["memory"], terms["compute"]) + terms["attention"] + terms["layers"]
    t_pp = prompt_seconds_per_token(load, hw, depth_tokens, c)
    bound = "memory" if terms["memory"] >= terms["compute"] else "compute"
    where = (
        f"{hw.threads} thread{'s' if hw.threads != 1 else ''} of {hw.cores} cores"
        if not hw.device.is_gpu
        else str(hw.device)
    )
    basis = (
        f"decode: {load.weight_bytes_per_token / 2**20:.0f} MiB of weights"
        + (" (MoE: active experts)" if load.is_moe else "")
        + f" + {load.kv_bytes_per_context_token * depth_tokens / 2**20:.0f} MiB of KV"
        f" ({depth_tokens:,} tokens) per token over {hw.bandwidth_gb_s:.0f} GB/s"
        f" ({hw.bandwidth_source}), {bound}-bound, plus per-layer costs on {where}; prompt: "
        f"{load.matmul_flops_per_token / 1e9:.1f} GFLOP per token over"
        f" {hw.matrix_tflops:.1f} TFLOPS ({load.quant})."
    )
    return SpeedEstimate(
        decode_low_tokens_per_second=1.0 / (t_dec * c.decode_spread_low),
        decode_high_tokens_per_second=c.decode_spread_high / t_dec,
        prompt_low_tokens_per_second=1.0 / (t_pp * c.prompt_spread_low),
        prompt_high_tokens_per_second=c.prompt_spread_high / t_pp,
        depth_tokens=depth_tokens,
        decode_bound=bound,
        basis=basis,
    )


__all__ = [
    "AMX_WEIGHT_TYPES",
    "CPU_ATTENTION_AVX512",
    "CPU_INT8_OPS_PER_CYCLE",
    "DECODE_MAX_WIDTH",
    "FITTED",
    "GPU_FP16_TFLOPS",
    "PROMPT_MAX_WIDTH",
    "PROMPT_TOKENS",
    "X86_FLOAT_ISA",
    "BandwidthKind",
    "CpuIsa",
    "DeviceKind",
    "Hardware",
    "ModelLoad",
    "SpeedConstants",
    "SpeedEstimate",
    "cpu_isa",
    "cpu_matrix_tflops",
    "decode_seconds_per_token",
    "decode_terms",
    "estimate_speed",
    "gpu_fp16_tflops",
    "prompt_seconds_per_token",
    "quant_class",
    "uses_amx_tiles",
]
