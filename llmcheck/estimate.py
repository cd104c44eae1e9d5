"""What llama.cpp will allocate for an LFM2 model, where, and whether this machine holds it.

Pure functions: dataclasses in, dataclasses out; no I/O, no logging, no global state. Each memory
term is its own function whose docstring gives the formula and its units (bytes). The rules follow
llama.cpp at commit 0c1e57098 (vendored in llama-cpp-python 0.3.36), as collected with sources in
``shared/reference/lfm2-and-llama-cpp.md`` (§ numbers below) and measured in
``shared/reference/llama-cpp-measured.md`` ("measured" below).

VERDICT_RULES
=============
Per device, ``need`` is the sum of the terms placed there and ``budget`` is what the device may
still allocate (free VRAM, Apple's working-set cap, usable RAM; see :func:`budgets`).

* fits with margin: ``need + margin <= budget``. The margin is ``GREAT_MARGIN_BYTES`` (1024 MiB:
  llama.cpp's own ``--fit`` keeps that much free per device, ``fit_params_target`` in
  ``common/fit.cpp``), and for RAM-backed budgets (CPU, unified memory) at least
  ``GREAT_MARGIN_RAM_FRACTION`` of the budget, because available RAM moves with other programs.
* fits: ``need <= budget``.

``runs_great``: the whole model (weights, KV, state, compute) fits with margin on the fastest memory
the machine has: one GPU / unified device, or several GPUs of one backend split by layer (llama.cpp
``--split-mode layer``), or the CPU when the machine has no usable GPU.
``tight``: it fits, but only without the margin, or only by splitting layers between a GPU and the
CPU (``-ngl`` below all layers), or only on the CPU while a GPU exists.
``wont_fit``: no placement fits. ``unknown``: a budget the answer depends on was not read (never a
guess): the RAM budget, or a GPU's free memory when the model does not run great elsewhere.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from llmcheck import calibration
from llmcheck.catalog import Architecture, Catalog, ModelVariant, QuantTable, gguf_size
from llmcheck.catalog import variant_summary as _variant_summary
from llmcheck.snapshot import GpuInfo, GpuVendor, MemoryKind, SystemSnapshot

MIB = 1 << 20
GIB = 1 << 30

# The llama.cpp build whose allocation rules these functions follow (reference §0).
LLAMA_CPP_COMMIT = "0c1e57098"
LLAMA_CPP_PYTHON_VERSION = "0.3.36"

# llama_context pads n_ctx to a multiple of 256 (GGML_PAD(n_ctx, 256), src/llama-context.cpp, §3.2).
CONTEXT_PAD_TOKENS = 256
# Activations, logits, masks and the recurrent state are f32 (§3.3, §3.5, §3.6).
F32_BYTES = 4
F16_BYTES = 2

# --- verdict thresholds (see VERDICT_RULES in the module docstring) ---------------------------
# llama.cpp --fit keeps 1024 MiB free per device by default (common/fit.cpp fit_params_target).
GREAT_MARGIN_BYTES = 1024 * MIB
# Available RAM moves with the page cache and other programs; 10% of it is kept free as well.
GREAT_MARGIN_RAM_FRACTION = 0.10

# --- fixed per-backend overhead that llama.cpp does not print ("unaccounted") -----------------
# CUDA context per process, measured on an H100 (median 598 MiB, 596-599; +95 MiB when cuBLAS
# loads: FA off, F16 weights, MoE router): calibration.CUDA_CONTEXT_BYTES. HIP assumed alike.
CUDA_OVERHEAD_BYTES = calibration.CUDA_CONTEXT_BYTES
ROCM_OVERHEAD_BYTES = 450 * MIB
# Metal / Vulkan / SYCL: no measurement was available; a clearly marked estimate.
METAL_OVERHEAD_BYTES = 128 * MIB
OTHER_GPU_OVERHEAD_BYTES = 256 * MIB
# The host process: measured 48-50 MiB of Python + libraries before load plus 12-30 MiB of loader
# heap (vocab, metadata) that no buffer prints; a C++ llama-server is smaller. Rounded up.
CPU_OVERHEAD_BYTES = 64 * MIB

# --- speed model (see tokens_per_second) ------------------------------------------------------
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
# literature's 0.45 (peer-tools.md (c)) and 90 us per layer (LFM2-24B-A2B's card: 293 tok/s on an
# H100, ~85 us per layer) for slower GPUs; the high end's 35 us is 20 % under the fastest layer
# measured. Width: ~2.1x between low and high.
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

_DEVICE_RE = re.compile(r"^(auto|cpu|gpu:(\d+))$")


class KvType(StrEnum):
    """KV cache element type (llama.cpp ``-ctk`` / ``-ctv``)."""

    F16 = "f16"
    Q8_0 = "q8_0"
    Q4_0 = "q4_0"


# (elements per block, bytes per block): ggml-common.h (§3.2).
_KV_BLOCK = {KvType.F16: (1, 2), KvType.Q8_0: (32, 34), KvType.Q4_0: (32, 18)}


class Verdict(StrEnum):
    """The answer for one variant x quant x config on this machine."""

    RUNS_GREAT = "runs_great"
    TIGHT = "tight"
    WONT_FIT = "wont_fit"
    UNKNOWN = "unknown"


class Placement(StrEnum):
    """Where the model's layers go."""

    GPU = "gpu"  # one or more discrete GPUs hold every layer
    UNIFIED = "unified"  # a unified-memory GPU (Apple, GB10, Strix Halo) holds every layer
    CPU = "cpu"  # no layer offloaded
    SPLIT = "split"  # some layers on a GPU, the rest on the CPU
    NONE = "none"  # nothing fits, or the budget is unknown


class FrontEnd(StrEnum):
    """The llama.cpp front end, which decides how many logits the compute buffer reserves."""

    LLAMA_SERVER = "llama-server"  # n_outputs_max = n_parallel (server_output_limits)
    LIBLLAMA = "libllama"  # llama-cpp-python, llama-completion: n_outputs_max = n_batch


@dataclass(frozen=True, slots=True, kw_only=True)
class RunConfig:
    """How llama.cpp is asked to run the model (the flags of the command we print).

    Defaults follow llama-server at llama.cpp 0c1e57098 except the context (4096 rather than the
    GGUF's 128000, which llama-server's ``--fit`` would shrink anyway) and ``parallel`` (1 rather
    than the server's automatic 4).

    Raises:
        ValueError: an impossible value, or a quantized V cache without flash attention (llama.cpp
            refuses it: "quantized V cache was requested, but this requires Flash Attention").
    """

    context_tokens: int = 4096
    kv_type: KvType = KvType.F16
    flash_attn: bool = True
    parallel: int = 1
    ubatch: int = 512
    device: str = "auto"  # "auto" | "cpu" | "gpu:I"
    mmap: bool = True  # llama.cpp's default; --no-mmap when False
    front_end: FrontEnd = FrontEnd.LLAMA_SERVER
    # None: the estimator picks -ngl (every layer on the fastest device that holds them, else the
    # most layers that fit). N: llama.cpp's -ngl N as given (above the layer count = all layers;
    # 0 with a GPU visible keeps it for the big matmuls: CUDA context + compute buffer).
    gpu_layers: int | None = None

    def __post_init__(self) -> None:
        """Reject configurations llama.cpp would refuse."""
        if self.context_tokens < 1:
            raise ValueError(f"context must be at least 1 token, got {self.context_tokens}")
        if not 1 <= self.parallel <= 256:
            raise ValueError(f"parallel must be 1..256, got {self.parallel}")
        if not 1 <= self.ubatch <= 65536:
            raise ValueError(f"ubatch must be 1..65536, got {self.ubatch}")
        if not _DEVICE_RE.match(self.device):
            raise ValueError(f"device must be auto, cpu or gpu:N, got {self.device!r}")
        if self.gpu_layers is not None:
            if not 0 <= self.gpu_layers <= 9999:
                raise ValueError(f"gpu layers must be 0..9999, got {self.gpu_layers}")
            if self.gpu_layers > 0 and self.device == "cpu":
                raise ValueError(
                    f"{self.gpu_layers} GPU layers asked for with device cpu: "
                    "use --device auto or gpu:N, or --ngl 0"
                )
        if KvType(self.kv_type) is not KvType.F16 and not self.flash_attn:
            raise ValueError(
                f"a quantized V cache ({self.kv_type}) requires flash attention: "
                "use --flash-attn on or --kv-type f16"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryTerms:
    """What llama.cpp allocates on one device, by term (bytes)."""

    weights_bytes: int = 0
    kv_cache_bytes: int = 0
    recurrent_state_bytes: int = 0
    compute_bytes: int = 0
    output_bytes: int = 0
    overhead_bytes: int = 0
    # The CPU's repacked copies of weights (ggml's AMX / CPU_REPACK buffers); the tensors they
    # replace are then not in weights_bytes.
    repack_bytes: int = 0
    # Under mmap, the file pages of CPU-repacked tensors stay resident next to the repacked copy:
    # RSS shows them, but the kernel may drop them, so they are not part of total_bytes.
    mmap_cache_bytes: int = 0

    @property
    def total_bytes(self) -> int:
        """The memory this device must provide (mmap page cache excluded)."""
        return (
            self.weights_bytes
            + self.repack_bytes
            + self.kv_cache_bytes
            + self.recurrent_state_bytes
            + self.compute_bytes
            + self.output_bytes
            + self.overhead_bytes
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceBudget:
    """What one device may hold, where that number came from, and the margin asked of it."""

    device: str  # "gpu:0", "gpu:0/mig:1", "unified:0", "cpu"
    name: str
    kind: str  # "gpu" | "unified" | "cpu"
    backend: str  # "cuda" | "rocm" | "metal" | "sycl" | "vulkan" | "cpu"
    budget_bytes: int | None
    budget_source: str
    margin_bytes: int
    bandwidth_gb_s: float | None
    bandwidth_source: str | None
    overhead_bytes: int
    gpu_index: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceUse:
    """One device's share of the model."""

    device: str
    name: str
    budget_bytes: int | None
    budget_source: str
    terms: MemoryTerms
    layers: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeedRange:
    """Estimated generation and prompt speed, with the model behind the numbers."""

    low_tokens_per_second: float
    high_tokens_per_second: float
    prompt_low_tokens_per_second: float
    prompt_high_tokens_per_second: float
    basis: str
    bandwidth_gb_s: float
    bandwidth_source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fit:
    """The answer for one variant x quant x config on one machine."""

    variant_id: str
    quant: str
    config: RunConfig
    verdict: Verdict
    placement: Placement
    devices: tuple[DeviceUse, ...]
    total_bytes: int
    max_context_tokens: int | None
    gpu_layers: int | None
    speed: SpeedRange | None
    llama_cpp_command: str
    assumptions: tuple[str, ...]
    reason: str
    file_size_bytes: int


# ----------------------------------------------------------------------------------------------
# Memory terms, one function each
# ----------------------------------------------------------------------------------------------


def padded_context(context_tokens: int) -> int:
    """n_ctx as llama.cpp allocates it: GGML_PAD(n_ctx, 256) tokens (§3.2)."""
    return -(-context_tokens // CONTEXT_PAD_TOKENS) * CONTEXT_PAD_TOKENS


def kv_bytes_per_token(arch: Architecture, kv_type: KvType, *, n_layers: int | None = None) -> int:
    """KV bytes per context token: n_attn x 2 (K, V) x (Hkv x hd / block) x bytes per block.

    ``n_layers`` is the number of attention layers counted (default: all of them).
    """
    per_block, block_bytes = _KV_BLOCK[KvType(kv_type)]
    n = arch.n_attention_layers if n_layers is None else n_layers
    row = arch.n_head_kv * arch.head_dim // per_block * block_bytes
    return n * 2 * row


def kv_cache_bytes(
    arch: Architecture,
    context_tokens: int,
    kv_type: KvType = KvType.F16,
    *,
    n_layers: int | None = None,
) -> int:
    """KV cache of the attention layers only (§3.2), bytes.

    KV = n_attn x GGML_PAD(n_ctx, 256) x (Hkv x hd) x (bytes(K) + bytes(V)), with a unified cache
    across parallel sequences (``-kvu``), so the cell count is the padded context. Conv layers hold
    no KV. LFM2-1.2B, f16, 4096 tokens: 6 x 4096 x 512 x 4 = 48.00 MiB.
    """
    return padded_context(context_tokens) * kv_bytes_per_token(arch, kv_type, n_layers=n_layers)


def recurrent_state_bytes(
    arch: Architecture, parallel: int = 1, *, n_rs_seq: int = 0, n_layers: int | None = None
) -> int:
    """Short-conv state (§3.3), bytes: n_conv x (L - 1) x d x 4 B x max(1, n_seq) x (1 + n_rs_seq).

    Independent of the context length. LFM2-1.2B, one sequence: 10 x 2 x 2048 x 4 = 160 KiB.
    """
    n = arch.n_conv_layers if n_layers is None else n_layers
    return (
        n
        * (arch.conv_l_cache - 1)
        * arch.hidden_size
        * F32_BYTES
        * max(1, parallel)
        * (1 + n_rs_seq)
    )


def output_bytes(arch: Architecture, n_outputs: int = 1) -> int:
    """Host output (logits) buffer reserved at init (§3.5), bytes: n_vocab x n_outputs x 4 B.

    llama_context::output_reserve(n_seq_max): one row of logits per sequence (0.25 MiB for a
    65,536 vocabulary).
    """
    return arch.vocab_size * max(1, n_outputs) * F32_BYTES


def reserved_outputs(front_end: FrontEnd, parallel: int, ubatch: int) -> int:
    """Logit rows the compute-buffer reserve sizes for (§3.6).

    llama-server: n_outputs_max = n_parallel x (1 + n_draft), no drafting here -> ``parallel``.
    libllama callers that leave n_outputs_max at 0 (llama-cpp-python, llama-completion) get
    n_batch, i.e. a whole micro-batch of logits -> ``ubatch``.
    """
    if FrontEnd(front_end) is FrontEnd.LLAMA_SERVER:
        return parallel
    return ubatch


def _ffn_activation_width(arch: Architecture) -> int:
    """Floats per token live at the FFN peak: 3 x ff (gate, up, their product) + 3 x d."""
    widths = [3 * arch.ffn_size]
    if arch.is_moe:
        # Routed: gate/up/product of k experts, the k expert outputs, and the router logits.
        widths.append(
            3 * arch.n_expert_used * arch.expert_ffn_size
            + arch.n_expert_used * arch.hidden_size
            + 2 * arch.n_expert
        )
    return max(widths) + 3 * arch.hidden_size


def compute_bytes(
    arch: Architecture,
    context_tokens: int,
    *,
    ubatch: int = 512,
    flash_attn: bool = True,
    n_outputs: int = 1,
) -> int:
    """The compute buffer llama.cpp reserves for the worst-case micro-batch (§3.6), bytes.

    With n_kv = GGML_PAD(n_ctx, 256) and n_tok = min(n_kv, ubatch), f32 activations:

    * logits phase: n_outputs x n_vocab x 4 + 2 x d x n_tok x 4;
    * layer phase: KQ mask n_kv x n_tok x 2 (f16) + n_tok x 4 x (3 ff + 3 d) (FFN peak);
    * without flash attention also the f32 KQ scores and mask, n_kv x n_tok x (H + 1) x 4, plus
      n_tok x 4 x (5 d + 2 Hkv hd).

    The buffer is the largest phase. Fitted to the measured CPU runs of LFM2-350M / 1.2B
    (llama-cpp-python, n_outputs = n_ubatch): FA on 132 / 136 MiB at 8k-32k and 158 / 185 MiB at
    128k; FA off 284 / 550 MiB at 8k, 4262 / 8272 MiB at 128k; n_ubatch 128..2048 sweep. The one
    run it misses is LFM2-1.2B FA on at 2048 tokens (measured 142.01 MiB, this gives 136).
    Delegates to :func:`llmcheck.calibration.cpu_compute_bytes`.
    """
    shape = calibration.ComputeShape(
        context_tokens=padded_context(context_tokens),
        ubatch=ubatch,
        flash_attn=flash_attn,
        n_outputs=n_outputs,
    )
    # The CPU backend's figure: CUDA's is at most this minus n_tok x 4 x d, except a quantized
    # cache at long context (calibration.cuda_compute_bytes); docs/calibration.md has the errors.
    return calibration.cpu_compute_bytes(arch, shape)


def host_compute_bytes(
    arch: Architecture, *, ubatch: int = 512, context_tokens: int = 4096, flash_attn: bool = True
) -> int:
    """Host-side compute buffer when every layer is on a GPU (``CUDA_Host``), bytes.

    KQ mask (f16 with FA, f32 without) + 2 x d x n_tok x 4 (+ 4096 B per token with FA off):
    :func:`llmcheck.calibration.cuda_host_compute_bytes`, fitted to 58 H100 runs.
    """
    shape = calibration.ComputeShape(
        context_tokens=padded_context(context_tokens), ubatch=ubatch, flash_attn=flash_attn
    )
    return calibration.cuda_host_compute_bytes(arch, shape)


def compute_shape(config: RunConfig, context_tokens: int) -> calibration.ComputeShape:
    """What a compute buffer's size depends on for ``config`` at ``context_tokens`` (§3.6).

    llama-server shares one KV cache across sequences (``-kvu``, in the command we print);
    libllama callers keep llama.cpp's default of one KV stream per sequence, whose KQ mask spans
    n_ctx / n_seq cells.
    """
    return calibration.ComputeShape(
        context_tokens=padded_context(context_tokens),
        ubatch=config.ubatch,
        flash_attn=config.flash_attn,
        n_outputs=reserved_outputs(config.front_end, config.parallel, config.ubatch),
        n_seq=config.parallel,
        kv_unified=FrontEnd(config.front_end) is FrontEnd.LLAMA_SERVER,
        kv_quantized=KvType(config.kv_type) is not KvType.F16,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ComputeRole:
    """Which compute buffer a device reserves in a placement (formulas: llmcheck.calibration).

    ``kind``: "cpu" (the CPU of a run without a GPU), "gpu" (a GPU's own buffer) or "host" (the
    CPU side of a run that uses a GPU: CUDA_Host). ``cpu_layers``: gpu, some attention layers
    stay on the CPU (their K/V are copied over); host, some layers stay on the CPU.
    ``layers_on_gpu`` False is ``-ngl 0`` with the GPU visible: it still runs the big matmuls and
    holds a copy of the output matrix (``output_weight_bytes``).
    """

    kind: str
    cpu_layers: bool = False
    layers_on_gpu: bool = True
    output_weight_bytes: int = 0


def device_compute_bytes(
    arch: Architecture, config: RunConfig, role: ComputeRole, context_tokens: int | None = None
) -> int:
    """One device's compute buffer in a placement, bytes (see :class:`ComputeRole`).

    "cpu": :func:`llmcheck.calibration.cpu_compute_bytes`; "gpu":
    :func:`llmcheck.calibration.cuda_compute_bytes` (measured on CUDA; other GPU backends are
    assumed alike); "host": :func:`llmcheck.calibration.cuda_host_compute_bytes`.
    """
    tokens = config.context_tokens if context_tokens is None else context_tokens
    return _device_compute_bytes(arch, config, role, tokens)


# Compute buffers depend on the architecture, not the quant: variants and quants that share a
# backbone ask for the same few sizes again and again (pure, so cached).
@functools.lru_cache(maxsize=4096)
def _device_compute_bytes(
    arch: Architecture, config: RunConfig, role: ComputeRole, context_tokens: int
) -> int:
    shape = compute_shape(config, context_tokens)
    if role.kind == "cpu":
        return calibration.cpu_compute_bytes(arch, shape)
    if role.kind == "gpu":
        return calibration.cuda_compute_bytes(
            arch,
            shape,
            cpu_attention_layers=role.cpu_layers,
            layers_on_gpu=role.layers_on_gpu,
            output_weight_bytes=role.output_weight_bytes,
        )
    return calibration.cuda_host_compute_bytes(arch, shape, cpu_layers=role.cpu_layers)


def overhead_bytes(backend: str, *, cublas: bool = False) -> int:
    """The backend's fixed cost that llama.cpp does not print, bytes (named constants above).

    ``cublas``: the CUDA backend loads cuBLAS (:func:`llmcheck.calibration.uses_cublas`), whose
    handle and workspace add ``calibration.CUBLAS_WORKSPACE_BYTES``.
    """
    base = {
        "cuda": CUDA_OVERHEAD_BYTES,
        "rocm": ROCM_OVERHEAD_BYTES,
        "metal": METAL_OVERHEAD_BYTES,
        "cpu": CPU_OVERHEAD_BYTES,
    }.get(backend, OTHER_GPU_OVERHEAD_BYTES)
    if cublas and backend == "cuda":
        base += calibration.CUBLAS_WORKSPACE_BYTES
    return base


# ----------------------------------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------------------------------


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
    for the vocabulary (reference §4.5). Raises KeyError for an unknown quant.
    """
    return gguf_size(variant, quant).file_bytes


def weights_bytes(
    variant: ModelVariant, quant: str, *, gpu_layers: int = 0
) -> tuple[int, int]:
    """Model weights as (host bytes, GPU bytes) for ``-ngl gpu_layers`` (§3.4).

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
    """"amx" | "avx512" | "avx2" | "arm" | "none": how ggml's CPU backend repacks weights on this
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
    return sum(
        nbytes for il in cpu_layers for t, nbytes in w.layer_types[il] if t in types
    )


# ----------------------------------------------------------------------------------------------
# Budgets
# ----------------------------------------------------------------------------------------------


def _backend(gpu: GpuInfo) -> str:
    return {
        GpuVendor.NVIDIA: "cuda",
        GpuVendor.AMD: "rocm",
        GpuVendor.APPLE: "metal",
        GpuVendor.INTEL: "sycl",
    }.get(gpu.vendor, "vulkan")


def _ram_margin(budget: int | None) -> int:
    if budget is None:
        return GREAT_MARGIN_BYTES
    return max(GREAT_MARGIN_BYTES, int(budget * GREAT_MARGIN_RAM_FRACTION))


def _min_known(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def budgets(machine: SystemSnapshot) -> tuple[DeviceBudget, ...]:
    """What each device may hold, accelerators first and the CPU last.

    * discrete GPU: its free memory (never total, never summed); a GPU in MIG mode gives one
      budget per MIG instance (its own free memory);
    * unified GPU: Apple -> Metal's working-set cap, capped by usable RAM; others (GB10, Strix
      Halo) -> usable RAM, capped by the GPU's free figure when there is one;
    * integrated GPUs (carve-out + GTT) are left out: llmcheck does not offload to them;
    * CPU -> ``memory.usable_bytes`` (a container limit respected).
    None where the number was not read.
    """
    usable = machine.memory.usable_bytes
    out: list[DeviceBudget] = []
    for gpu in machine.gpus:
        backend = _backend(gpu)
        name = gpu.name or f"{gpu.vendor} GPU {gpu.index}"
        bw = gpu.bandwidth_gb_s
        bw_src = str(gpu.bandwidth_source) if gpu.bandwidth_source else None
        if gpu.memory_kind is MemoryKind.INTEGRATED:
            continue
        if gpu.memory_kind is MemoryKind.UNIFIED:
            if gpu.vendor is GpuVendor.APPLE:
                budget = _min_known(gpu.working_set_cap_bytes, usable)
                if gpu.working_set_cap_bytes is None:
                    budget = None
                src = f"Metal working-set cap ({gpu.working_set_cap_source or 'unknown'})"
            else:
                budget = _min_known(usable, gpu.free_bytes) if usable is not None else None
                src = "unified memory: usable RAM"
            out.append(
                DeviceBudget(
                    device=f"unified:{gpu.index}",
                    name=name,
                    kind="unified",
                    backend=backend,
                    budget_bytes=budget,
                    budget_source=src,
                    margin_bytes=_ram_margin(budget),
                    bandwidth_gb_s=bw if bw is not None else machine.memory.bandwidth_gb_s,
                    bandwidth_source=bw_src,
                    overhead_bytes=overhead_bytes(backend),
                    gpu_index=gpu.index,
                )
            )
            continue
        if gpu.mig_enabled and gpu.mig_instances:
            out.extend(
                DeviceBudget(
                    device=f"gpu:{gpu.index}/mig:{m.index}",
                    name=f"{name} MIG {m.name or m.index}",
                    kind="gpu",
                    backend=backend,
                    budget_bytes=m.free_bytes,
                    budget_source="MIG instance free memory",
                    margin_bytes=GREAT_MARGIN_BYTES,
                    bandwidth_gb_s=None,  # a slice's share of the bandwidth is not read
                    bandwidth_source=None,
                    overhead_bytes=overhead_bytes(backend),
                    gpu_index=gpu.index,
                )
                for m in gpu.mig_instances
            )
            continue
        out.append(
            DeviceBudget(
                device=f"gpu:{gpu.index}",
                name=name,
                kind="gpu",
                backend=backend,
                budget_bytes=gpu.free_bytes,
                budget_source=f"free VRAM ({gpu.memory_source})",
                margin_bytes=GREAT_MARGIN_BYTES,
                bandwidth_gb_s=bw,
                bandwidth_source=bw_src,
                overhead_bytes=overhead_bytes(backend),
                gpu_index=gpu.index,
            )
        )
    mem = machine.memory
    limited = mem.limit_bytes is not None
    out.append(
        DeviceBudget(
            device="cpu",
            name=machine.cpu.brand or "CPU",
            kind="cpu",
            backend="cpu",
            budget_bytes=usable,
            budget_source=(
                f"usable RAM ({mem.limit_source or 'cgroup'} limit)"
                if limited
                else f"available RAM ({mem.source})"
            ),
            margin_bytes=_ram_margin(usable),
            bandwidth_gb_s=mem.bandwidth_gb_s,
            bandwidth_source=str(mem.bandwidth_source) if mem.bandwidth_source else None,
            overhead_bytes=CPU_OVERHEAD_BYTES,
        )
    )
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# Placement
# ----------------------------------------------------------------------------------------------

_GREAT, _FITS, _NO = 2, 1, 0


def _level(need: int, budget: DeviceBudget) -> int:
    """2: fits with the margin, 1: fits, 0: does not or the budget is unknown."""
    if budget.budget_bytes is None:
        return _NO
    if need + budget.margin_bytes <= budget.budget_bytes:
        return _GREAT
    if need <= budget.budget_bytes:
        return _FITS
    return _NO


@dataclass(frozen=True, slots=True, kw_only=True)
class _Plan:
    """One candidate placement: the devices used and their terms."""

    placement: Placement
    uses: tuple[tuple[DeviceBudget, MemoryTerms, int], ...]  # budget, terms, layers
    gpu_layers: int
    level: int
    # Per use, what the context does not change: (bytes, attention layers, compute role).
    # max_context re-prices a plan at another context from these alone.
    shape: tuple[tuple[int, int, ComputeRole], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Machine:
    """What the placement search needs from a snapshot, read once per call, not per plan."""

    budgets: tuple[DeviceBudget, ...]
    repack: frozenset[str]
    repack_mode: str


def _machine(machine: SystemSnapshot) -> _Machine:
    return _Machine(
        budgets=budgets(machine), repack=repack_types(machine), repack_mode=repack_mode(machine)
    )


def _layer_split(n_items: int, weights: Sequence[int]) -> list[int]:
    """llama.cpp's layer split: item i goes to the first device whose cumulative share exceeds
    i / n_items (tensor split proportional to free memory, --split-mode layer)."""
    if len(weights) == 1:
        return [n_items]
    total = sum(weights)
    cum, acc = [], 0
    for w in weights:
        acc += w
        cum.append(acc / total)
    counts = [0] * len(weights)
    last = len(weights) - 1
    dev = 0  # i / n_items grows with i, so the first device whose share exceeds it never goes back
    for i in range(n_items):
        f = i / n_items
        while dev < last and not f < cum[dev]:
            dev += 1
        counts[dev] += 1
    return counts


def _cublas(variant: ModelVariant, quant: str, config: RunConfig) -> bool:
    """Whether a CUDA run of this model loads cuBLAS (FA off, float weights, the MoE router)."""
    floats = quant in FLOAT_WEIGHT_QUANTS or variant.architecture.is_moe
    return calibration.uses_cublas(flash_attn=config.flash_attn, float_matmul_weights=floats)


def _terms_for_layers(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    first: int,
    stop: int,
    *,
    has_output: bool,
    budget: DeviceBudget,
    has_input: bool,
    role: ComputeRole,
    repack_mode: str = "none",
) -> tuple[MemoryTerms, tuple[int, int, ComputeRole]]:
    """The terms of one device that holds layers ``first..stop-1`` (and the output / input layer
    if asked), and the plan ``shape`` entry (bytes that do not grow with the context, attention
    layers, compute role).

    ``repack_mode`` other than "none" only for the CPU of a run without a GPU, which holds every
    tensor: the repacked copies go to ``repack_bytes`` and the layer tensors they replace leave
    ``weights_bytes`` (under mmap their file pages stay as ``mmap_cache_bytes``).
    """
    arch = variant.architecture
    facts = _facts(arch, quant, variant.quant_table)
    w = facts.weights
    weights = facts.layer_prefix[stop] - facts.layer_prefix[first]
    if has_output:
        weights += w.token_embd_bytes + w.output_norm_bytes
    if has_input and not has_output:
        weights += w.token_embd_bytes  # when the CPU holds both, the tied matrix loads once
    n_attn = facts.attn_prefix[stop] - facts.attn_prefix[first]
    n_conv = stop - first - n_attn
    kv = kv_cache_bytes(arch, config.context_tokens, config.kv_type, n_layers=n_attn)
    rs = recurrent_state_bytes(arch, config.parallel, n_layers=n_conv)
    compute = device_compute_bytes(arch, config, role)
    out = output_bytes(arch, config.parallel) if budget.kind == "cpu" else 0
    repacked = mmap_cache = 0
    if budget.kind == "cpu" and repack_mode != "none":
        rp = _cpu_repack(arch, quant, variant.quant_table, repack_mode)
        repacked = rp.total_bytes
        weights -= rp.source_layer_bytes
        mmap_cache = rp.source_layer_bytes if config.mmap else 0
    if budget.kind != "cpu" and variant.vision is not None and has_output:
        weights += variant.vision.size_bytes
    overhead = budget.overhead_bytes
    if budget.backend == "cuda":
        overhead = overhead_bytes("cuda", cublas=_cublas(variant, quant, config))
    terms = MemoryTerms(
        weights_bytes=weights,
        kv_cache_bytes=kv,
        recurrent_state_bytes=rs,
        compute_bytes=compute,
        output_bytes=out,
        overhead_bytes=overhead,
        repack_bytes=repacked,
        mmap_cache_bytes=mmap_cache,
    )
    fixed = terms.total_bytes - kv - compute
    return terms, (fixed, n_attn, role)


def _plan_gpus(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    gpus: Sequence[DeviceBudget],
    cpu: DeviceBudget,
    ngl: int,
    repack_mode: str = "none",
) -> _Plan:
    """:func:`_build_plan`, cached: the verdict and the context search of one fit ask for the
    same whole-offload and CPU plans (pure, frozen result)."""
    return _cached_plan(variant, quant, config, tuple(gpus), cpu, ngl, repack_mode)


@functools.lru_cache(maxsize=1024)
def _cached_plan(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    gpus: tuple[DeviceBudget, ...],
    cpu: DeviceBudget,
    ngl: int,
    repack_mode: str,
) -> _Plan:
    return _build_plan(variant, quant, config, gpus, cpu, ngl, repack_mode)


def _build_plan(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    gpus: Sequence[DeviceBudget],
    cpu: DeviceBudget,
    ngl: int,
    repack_mode: str = "none",
) -> _Plan:
    """``-ngl ngl`` with the offloaded layers split over ``gpus`` by budget; the rest on the CPU.

    No ``gpus``: a run without a GPU (``-dev none``), whose CPU repacks per ``repack_mode``.
    ``ngl`` 0 with ``gpus``: ``-ngl 0`` with the first GPU visible, which llama.cpp still uses
    for the big matmuls (CUDA context and a compute buffer there, nothing repacked).
    """
    arch = variant.architecture
    n = arch.n_layer
    ngl = max(0, min(ngl, n + 1))
    start = n + 1 - ngl  # items start..n are offloaded; item n is the output layer
    cpu_stop = min(start, n)
    facts = _facts(arch, quant, variant.quant_table)
    cpu_attention = facts.attn_prefix[cpu_stop] > 0
    weights = [g.budget_bytes or 1 for g in gpus]
    counts = _layer_split(ngl, weights) if gpus else []
    uses: list[tuple[DeviceBudget, MemoryTerms, int]] = []
    shape: list[tuple[int, int, ComputeRole]] = []
    pos = start
    for i, (g, c) in enumerate(zip(gpus, counts, strict=True)):
        if not c and not (ngl == 0 and i == 0):
            continue
        first, end = pos, pos + c  # items first..end-1
        pos = end
        stop = min(end, n)
        role = ComputeRole(kind="gpu", cpu_layers=cpu_attention)
        if ngl == 0:
            first = stop = n  # no layer: the op-offload buffer only
            w = facts.weights
            role = ComputeRole(
                kind="gpu",
                cpu_layers=True,
                layers_on_gpu=False,
                output_weight_bytes=w.token_embd_bytes + w.output_norm_bytes,
            )
        terms, form = _terms_for_layers(
            variant,
            quant,
            config,
            first,
            stop,
            has_output=c > 0 and end > n,
            budget=g,
            has_input=False,
            role=role,
        )
        uses.append((g, terms, stop - first))
        shape.append(form)
    with_gpu = bool(uses)
    cpu_role = (
        ComputeRole(kind="host", cpu_layers=start > 0) if with_gpu else ComputeRole(kind="cpu")
    )
    cpu_terms, cpu_form = _terms_for_layers(
        variant,
        quant,
        config,
        0,
        cpu_stop,
        has_output=ngl == 0,
        budget=cpu,
        has_input=True,
        role=cpu_role,
        repack_mode="none" if with_gpu else repack_mode,
    )
    if ngl == 0 and variant.vision is not None:
        cpu_terms = replace(
            cpu_terms, weights_bytes=cpu_terms.weights_bytes + variant.vision.size_bytes
        )
        cpu_form = (cpu_form[0] + variant.vision.size_bytes, *cpu_form[1:])
    uses.append((cpu, cpu_terms, cpu_stop))
    shape.append(cpu_form)
    level = _GREAT
    for budget, terms, _ in uses:
        need = terms.total_bytes
        if budget.kind == "cpu":
            # A unified GPU draws from the same RAM as the host side.
            need += sum(t.total_bytes for b, t, _ in uses if b.kind == "unified")
        level = min(level, _level(need, budget))
    if ngl == 0:
        placement = Placement.CPU
    elif ngl < n + 1:
        placement = Placement.SPLIT
    elif any(g.kind == "unified" for g in gpus):
        placement = Placement.UNIFIED
    else:
        placement = Placement.GPU
    return _Plan(
        placement=placement, uses=tuple(uses), gpu_layers=ngl, level=level, shape=tuple(shape)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Judgement:
    verdict: Verdict
    plan: _Plan | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Candidates:
    """The devices a config may use on a machine, or why the answer is unknown."""

    cpu: DeviceBudget
    known: tuple[DeviceBudget, ...]
    unknown: tuple[DeviceBudget, ...]
    unanswerable: str | None  # the reason when the verdict is unknown whatever the model


def _candidates(config: RunConfig, machine: _Machine) -> _Candidates:
    cpu = machine.budgets[-1]
    accels = [b for b in machine.budgets if b.kind != "cpu"]
    reason: str | None = None
    if config.device.startswith("gpu:"):
        index = int(config.device.split(":", 1)[1])
        accels = [b for b in accels if b.gpu_index == index]
        if not accels:
            reason = f"this machine has no usable GPU {index} ({config.device})"
    elif config.device == "cpu":
        accels = []
    if reason is None and cpu.budget_bytes is None:
        reason = "the usable RAM could not be read"
    return _Candidates(
        cpu=cpu,
        known=tuple(b for b in accels if b.budget_bytes is not None),
        unknown=tuple(b for b in accels if b.budget_bytes is None),
        unanswerable=reason,
    )


def _whole_plans(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    c: _Candidates,
    mode: str,
    ngl: int | None = None,
) -> list[_Plan]:
    """``-ngl ngl`` (default: every layer) on one accelerator, or split by layer over several
    GPUs of one backend."""
    n_all = variant.architecture.n_layer + 1 if ngl is None else ngl
    plans = [_plan_gpus(variant, quant, config, [g], c.cpu, n_all, mode) for g in c.known]
    discrete = [g for g in c.known if g.kind == "gpu"]
    for backend in sorted({g.backend for g in discrete}):
        group = [g for g in discrete if g.backend == backend]
        if len(group) > 1 and n_all > 0:
            plans.append(_plan_gpus(variant, quant, config, group, c.cpu, n_all, mode))
    return plans


def _forced_plans(
    variant: ModelVariant, quant: str, config: RunConfig, c: _Candidates, mode: str
) -> list[_Plan]:
    """The plans of a config that pins ``-ngl`` (``config.gpu_layers``): on each known
    accelerator (or GPU group); ``-ngl 0`` keeps the first GPU visible; without a GPU, the CPU."""
    assert config.gpu_layers is not None
    if not c.known and not c.unknown:
        # No GPU to offload to: llama.cpp runs every layer on the CPU whatever -ngl says.
        return [_plan_gpus(variant, quant, config, [], c.cpu, 0, mode)]
    if config.gpu_layers == 0:
        return [_plan_gpus(variant, quant, config, c.known[:1], c.cpu, 0, mode)] if c.known else []
    return _whole_plans(variant, quant, config, c, mode, config.gpu_layers)


def _best(plans: list[_Plan]) -> _Plan | None:
    fitting = [p for p in plans if p.level > _NO]
    return max(fitting, key=lambda p: (p.level, _plan_bandwidth(p)), default=None)


def _judge_forced(
    variant: ModelVariant, quant: str, config: RunConfig, c: _Candidates, mode: str
) -> _Judgement:
    """The verdict for a pinned ``-ngl`` (VERDICT_RULES, with the placement given)."""
    plans = _forced_plans(variant, quant, config, c, mode)
    plan = _best(plans)
    if c.unknown and (plan is None or plan.level != _GREAT):
        names = ", ".join(b.device for b in c.unknown)
        return _Judgement(
            verdict=Verdict.UNKNOWN, plan=None, reason=f"free memory of {names} could not be read"
        )
    if plan is None:
        worst = plans[0]
        return _Judgement(
            verdict=Verdict.WONT_FIT, plan=worst, reason=_wont_fit_reason(variant, quant, worst)
        )
    whole = plan.placement in (Placement.GPU, Placement.UNIFIED)
    cpu_only = plan.placement is Placement.CPU and len(plan.uses) == 1 and not c.known
    great = plan.level == _GREAT and (whole or cpu_only)
    verdict = Verdict.RUNS_GREAT if great else Verdict.TIGHT
    return _Judgement(verdict=verdict, plan=plan, reason=_reason(variant, plan, great=great))


def _judge(
    variant: ModelVariant, quant: str, config: RunConfig, machine: _Machine
) -> _Judgement:
    """The verdict and placement per VERDICT_RULES (no max context, no speed)."""
    c = _candidates(config, machine)
    if c.unanswerable is not None:
        return _Judgement(verdict=Verdict.UNKNOWN, plan=None, reason=c.unanswerable)
    cpu, known, unknown, mode = c.cpu, c.known, c.unknown, machine.repack_mode
    if config.gpu_layers is not None:
        return _judge_forced(variant, quant, config, c, mode)

    # 1. one accelerator holds every layer; 2. several GPUs of one backend split by free memory
    whole = _best(_whole_plans(variant, quant, config, c, mode))
    if whole is not None and whole.level == _GREAT:
        return _Judgement(
            verdict=Verdict.RUNS_GREAT, plan=whole, reason=_reason(variant, whole, great=True)
        )
    if unknown:
        names = ", ".join(b.device for b in unknown)
        return _Judgement(
            verdict=Verdict.UNKNOWN,
            plan=None,
            reason=f"free memory of {names} could not be read",
        )
    if whole is not None:
        return _Judgement(verdict=Verdict.TIGHT, plan=whole, reason=_reason(variant, whole))
    # 3. partial offload: as many layers as fit on the best accelerator, the rest on the CPU
    split: list[_Plan] = []
    for g in known:
        ngl = _max_gpu_layers(variant, quant, config, g, cpu)
        if ngl >= 1:
            split.append(_plan_gpus(variant, quant, config, [g], cpu, ngl, mode))
    partial = _best(split)
    if partial is not None:
        return _Judgement(verdict=Verdict.TIGHT, plan=partial, reason=_reason(variant, partial))
    # 4. the CPU alone (-dev none: the GPU hidden)
    cpu_plan = _plan_gpus(variant, quant, config, [], cpu, 0, mode)
    if cpu_plan.level > _NO:
        verdict = Verdict.RUNS_GREAT if cpu_plan.level == _GREAT else Verdict.TIGHT
        if known:
            verdict = Verdict.TIGHT  # a GPU exists but cannot take even the output layer
        return _Judgement(
            verdict=verdict,
            plan=cpu_plan,
            reason=_reason(variant, cpu_plan, great=verdict is Verdict.RUNS_GREAT),
        )
    return _Judgement(
        verdict=Verdict.WONT_FIT,
        plan=cpu_plan,
        reason=_wont_fit_reason(variant, quant, cpu_plan),
    )


def _max_gpu_layers(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    gpu: DeviceBudget,
    cpu: DeviceBudget,
) -> int:
    """The largest -ngl whose GPU share fits with the margin and whose CPU share fits.

    GPU need grows with ngl and CPU need shrinks, so the GPU bound is found by bisection.
    """
    assert gpu.budget_bytes is not None

    def gpu_ok(ngl: int) -> bool:
        # Built, not cached: a cached plan may hold an equal budget of another machine, and
        # these bisection steps are not asked for again.
        plan = _build_plan(variant, quant, config, [gpu], cpu, ngl)
        return all(_level(t.total_bytes, b) == _GREAT for b, t, _ in plan.uses if b is gpu)

    lo, hi = 0, variant.architecture.n_layer  # full offload was judged already
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if gpu_ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _plan_bandwidth(plan: _Plan) -> float:
    """The slowest bandwidth among the devices holding layers (0 when unknown)."""
    values = [b.bandwidth_gb_s or 0.0 for b, _, n in plan.uses if n or b.kind != "cpu"]
    return min(values, default=0.0)


def _reason(variant: ModelVariant, plan: _Plan, *, great: bool = False) -> str:
    where = {
        Placement.GPU: "on the GPU" + ("s" if len(plan.uses) > 2 else ""),
        Placement.UNIFIED: "in unified memory",
        Placement.CPU: "on the CPU",
        Placement.SPLIT: f"with {plan.gpu_layers} of {variant.architecture.n_layer + 1} layers "
        "on the GPU and the rest on the CPU",
        Placement.NONE: "",
    }[plan.placement]
    if great:
        return f"fits {where} with room to spare"
    if plan.level == _GREAT:
        return f"fits only {where}"
    return f"fits {where}, but with less than the safety margin free"


def _wont_fit_reason(variant: ModelVariant, quant: str, plan: _Plan) -> str:
    need = sum(t.total_bytes for _, t, _ in plan.uses)
    return (
        f"{variant.name} {quant} needs {need / GIB:.2f} GiB and no device (or GPU + CPU split) "
        "has that much free"
    )


# ----------------------------------------------------------------------------------------------
# Speed
# ----------------------------------------------------------------------------------------------


def decode_bytes_per_token(
    variant: ModelVariant, quant: str, context_tokens: int, kv_type: KvType = KvType.F16
) -> tuple[int, int]:
    """(weight bytes, KV bytes) read per generated token (reference §6).

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
    shares: Sequence[tuple[float, float | None, bool]],
) -> SpeedRange | None:
    """Decode and prompt speed ranges for a placement; None when a bandwidth is unknown.

    ``shares`` is (fraction of the layers, bandwidth GB/s, is_gpu) per device holding layers. Per
    token, each device streams its share of the bytes: t = sum(bytes x share / (bw x eff)) +
    n_layer x per-layer latency. High end: efficiency 0.80, empty KV, low latency; low end:
    efficiency 0.45, KV read at the full context, high latency. An estimate, not a measurement.
    """
    if not shares or any(bw is None or bw <= 0 for _, bw, _ in shares):
        return None
    arch = variant.architecture
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
    basis = (
        f"decode: {weights / MIB:.0f} MiB of {variant.name} {quant} weights"
        + (" (MoE: k/E of the experts)" if arch.is_moe else "")
        + f" + up to {kv / MIB:.0f} MiB of KV per token over {bw_min:.0f} GB/s plus per-layer "
        f"latency, fitted to llama.cpp on an H100 and a 16-core Xeon; prompt: "
        f"{ratio[0]:.0f}-{ratio[1]:.0f}x the middle of the decode range."
    )
    return SpeedRange(
        low_tokens_per_second=round(low, 1),
        high_tokens_per_second=round(high, 1),
        prompt_low_tokens_per_second=round(middle * ratio[0], 1),
        prompt_high_tokens_per_second=round(middle * ratio[1], 1),
        basis=basis,
        bandwidth_gb_s=bw_min,
        bandwidth_source="snapshot",
    )


# ----------------------------------------------------------------------------------------------
# Command line and assumptions
# ----------------------------------------------------------------------------------------------


def llama_cpp_command(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    *,
    gpu_layers: int,
    split: Sequence[int] = (),
    main_gpu: int | None = None,
    gpu_hidden: bool | None = None,
) -> str:
    """The llama-server command the verdict assumes, with every flag that changes memory pinned.

    ``-fit off`` keeps llama-server (which fits by default) from changing -c / -ngl; ``-kvu``
    makes parallel sequences share one KV cache of -c cells; ``-dev none`` keeps a CPU-only run
    off the GPU (``gpu_hidden``, default: ``gpu_layers == 0``; ``-ngl 0`` with a GPU visible
    still uses it for the big matmuls).
    """
    parts = [
        "llama-server",
        "-m",
        variant.gguf_file_name(quant),
    ]
    if variant.vision is not None:
        parts += ["--mmproj", f"mmproj-{variant.gguf_file_prefix}-{variant.vision.ggml_type}.gguf"]
    parts += ["-c", str(config.context_tokens), "-ngl", str(gpu_layers)]
    if gpu_hidden if gpu_hidden is not None else gpu_layers == 0:
        parts += ["-dev", "none"]
    if len(split) > 1:
        parts += ["-sm", "layer", "-ts", ",".join(str(s) for s in split)]
    elif main_gpu is not None:
        parts += ["-sm", "none", "-mg", str(main_gpu)]
    parts += [
        "-fa",
        "on" if config.flash_attn else "off",
        "-ctk",
        str(config.kv_type),
        "-ctv",
        str(config.kv_type),
        "-np",
        str(config.parallel),
    ]
    if config.parallel > 1:
        parts.append("-kvu")
    parts += ["-ub", str(config.ubatch), "-fit", "off"]
    if not config.mmap:
        parts.append("--no-mmap")
    return " ".join(parts)


def _assumptions(
    variant: ModelVariant, config: RunConfig, repack: frozenset[str], *, cpu_only: bool
) -> list[str]:
    arch = variant.architecture
    out = [
        f"llama.cpp {LLAMA_CPP_COMMIT} allocation rules "
        f"(llama-cpp-python {LLAMA_CPP_PYTHON_VERSION})",
        f"front end: {config.front_end} "
        + (
            "(logits reserved for one token per sequence)"
            if config.front_end is FrontEnd.LLAMA_SERVER
            else "(logits reserved for a whole micro-batch, as llama-cpp-python does)"
        ),
        f"context padded to a multiple of {CONTEXT_PAD_TOKENS}; KV only on the "
        f"{arch.n_attention_layers} attention layers, "
        + (
            "unified across parallel sequences"
            if config.front_end is FrontEnd.LLAMA_SERVER
            else "one KV stream per parallel sequence"
        ),
        "mmap on (llama.cpp default)" if config.mmap else "mmap off (--no-mmap)",
        f"compute buffers, CUDA context ({calibration.CUDA_CONTEXT_BYTES // MIB} MiB, "
        f"+{calibration.CUBLAS_WORKSPACE_BYTES // MIB} MiB when cuBLAS loads) and CPU "
        "repacking as measured on an H100 + AMX Xeon "
        "(docs/calibration.md); other GPU backends' overhead is an estimate",
        f"safety margin: {GREAT_MARGIN_BYTES // MIB} MiB per device (llama.cpp --fit default), "
        f"at least {GREAT_MARGIN_RAM_FRACTION:.0%} of RAM budgets",
    ]
    if repack and cpu_only:
        out.append(
            "this CPU repacks " + ", ".join(sorted(repack)) + " weights (AMX / CPU_REPACK "
            "copies, counted as repack)"
            + (
                ": under mmap the file pages stay cached as well (counted as droppable page "
                "cache, not as need)"
                if config.mmap
                else ""
            )
        )
    if not arch.attention_layers_verified:
        out.append("attention-layer indices are a placeholder (only their count is verified)")
    if not variant.verified:
        out.append(f"{variant.name}: architecture not fully verified ({arch.note or variant.note})")
    if variant.vision is not None:
        out.append(
            "vision projector size estimated from the encoder's parameter count; the image "
            "encoder's compute buffer is not counted"
        )
    return out


# ----------------------------------------------------------------------------------------------
# Public entry points
# ----------------------------------------------------------------------------------------------


def _resolve_quant(variant: ModelVariant, quant_name: str) -> str:
    return variant.quant_table.quant(quant_name).name


def max_context(
    variant: ModelVariant, quant: str, config: RunConfig, machine: SystemSnapshot
) -> int | None:
    """The largest context (a multiple of 256, at most the GGUF's) that still fits, else None.

    Memory never shrinks as the context grows, so "fits" is monotone in the context and the
    answer is the one context k x 256 that fits while (k + 1) x 256 does not.
    """
    return _max_context(variant, _resolve_quant(variant, quant), config, _machine(machine))


def _max_context(
    variant: ModelVariant, quant: str, config: RunConfig, machine: _Machine
) -> int | None:
    """:func:`max_context`: a direct guess from the plans' shapes, checked by the full verdict.

    The guess (:func:`_context_guess`) solves the whole-offload and CPU plans for the context;
    the full verdict then checks k (fits) and k + 1 (does not). A partial offload, which the
    guess leaves out, can only raise the answer: then bisection goes on above k, as it would
    have done from the start, so the answer is always what bisection on the verdict gives.
    """
    top = variant.gguf_context_tokens // CONTEXT_PAD_TOKENS
    if top < 1:
        return None

    def fits(k: int) -> bool:
        cfg = replace(config, context_tokens=k * CONTEXT_PAD_TOKENS)
        return _judge(variant, quant, cfg, machine).verdict in (Verdict.RUNS_GREAT, Verdict.TIGHT)

    lo, hi = 0, top  # fits(lo) (or lo == 0); no k above hi fits
    guess = _context_guess(variant, quant, config, machine, top)
    if guess >= 1:
        if fits(guess):
            lo = guess
        else:
            hi = guess - 1
    if lo == guess and guess < hi:
        if fits(guess + 1):
            lo = guess + 1
        else:
            hi = guess
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo * CONTEXT_PAD_TOKENS if lo >= 1 else None


def _context_guess(
    variant: ModelVariant, quant: str, config: RunConfig, machine: _Machine, top: int
) -> int:
    """The largest k <= top at which a whole-offload or CPU-only plan fits (0: none does).

    A plan's devices keep their layers at every context; only the KV cache (linear in the padded
    context) and the compute buffer grow. So each plan, built once, is re-priced per k from its
    ``shape`` with a few multiplications, and k is found by bisection on that cheap test.
    """
    c = _candidates(config, machine)
    if c.unanswerable is not None:
        return 0
    mode = machine.repack_mode
    want = _GREAT  # with an unreadable GPU only "runs great" elsewhere is an answer
    if config.gpu_layers is not None:
        plans = _forced_plans(variant, quant, config, c, mode)
        if not c.unknown:
            want = _FITS
    else:
        plans = _whole_plans(variant, quant, config, c, mode)
        if not c.unknown:
            want = _FITS
            plans.append(_plan_gpus(variant, quant, config, [], c.cpu, 0, mode))
    if not plans:
        return 0
    arch = variant.architecture
    kv_per_token = kv_bytes_per_token(arch, config.kv_type, n_layers=1)
    priced = [
        [
            (b, b.kind, fixed, n_attn * kv_per_token, role)
            for (b, _, _), (fixed, n_attn, role) in zip(p.uses, p.shape, strict=True)
        ]
        for p in plans
    ]

    def any_fits(k: int) -> bool:
        tokens = k * CONTEXT_PAD_TOKENS
        compute: dict[ComputeRole, int] = {}
        for uses in priced:
            needs = []
            for b, kind, fixed, per_token, role in uses:
                if role not in compute:
                    compute[role] = device_compute_bytes(arch, config, role, tokens)
                needs.append((b, kind, fixed + per_token * tokens + compute[role]))
            unified = sum(need for _, kind, need in needs if kind == "unified")
            if all(
                _level(need + unified if kind == "cpu" else need, b) >= want
                for b, kind, need in needs
            ):
                return True
        return False

    lo, hi = 0, top
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if any_fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def estimate(
    variant: ModelVariant, quant_name: str, config: RunConfig, machine: SystemSnapshot
) -> Fit:
    """The full answer for one variant x quant x config on ``machine``.

    Raises:
        KeyError: ``quant_name`` is not a known quantization.
    """
    return _estimate(variant, quant_name, config, _machine(machine))


def _estimate(variant: ModelVariant, quant_name: str, config: RunConfig, machine: _Machine) -> Fit:
    quant = _resolve_quant(variant, quant_name)
    if config.context_tokens > variant.gguf_context_tokens:
        # A context beyond the GGUF's context_length (a script's 131072 for "128K"): llama.cpp
        # would accept it (with a warning), but the model was not built for it, so the answer is
        # for the model's own maximum (the CLI refuses such a --ctx with a clear message).
        config = replace(config, context_tokens=variant.gguf_context_tokens)
    judgement = _judge(variant, quant, config, machine)
    repack = machine.repack
    plan = judgement.plan
    if plan is None:
        # Unknown budget: still report what llama.cpp would allocate for a CPU run.
        cpu = machine.budgets[-1]
        plan = _plan_gpus(variant, quant, config, [], cpu, 0, machine.repack_mode)
        placement = Placement.NONE
    else:
        placement = plan.placement if judgement.verdict is not Verdict.WONT_FIT else Placement.NONE
    devices = tuple(
        DeviceUse(
            device=b.device,
            name=b.name,
            budget_bytes=b.budget_bytes,
            budget_source=b.budget_source,
            terms=t,
            layers=n,
        )
        for b, t, n in plan.uses
    )
    speed: SpeedRange | None = None
    if judgement.verdict in (Verdict.RUNS_GREAT, Verdict.TIGHT):
        n_all = variant.architecture.n_layer
        shares = [
            (n / n_all, _effective_bandwidth_gb_s(b), b.kind != "cpu")
            for b, _, n in plan.uses
            if n > 0
        ]
        speed = tokens_per_second(variant, quant, config, shares)
        used = [b for b, _, n in plan.uses if n > 0]
        peaks = [b for b in used if _effective_bandwidth_gb_s(b) != b.bandwidth_gb_s]
        if speed is not None:
            # Report the slowest device's bandwidth as read, with its source; the basis says how
            # a RAM peak was discounted.
            slowest = min(used, key=lambda b: b.bandwidth_gb_s or 0.0)
            speed = replace(
                speed,
                bandwidth_gb_s=slowest.bandwidth_gb_s or speed.bandwidth_gb_s,
                bandwidth_source=slowest.bandwidth_source or speed.bandwidth_source,
                basis=speed.basis + (
                    f" RAM: the {peaks[0].bandwidth_gb_s:.0f} GB/s peak"
                    f" ({peaks[0].bandwidth_source or 'unknown source'}) counted as"
                    f" {RAM_PEAK_TO_COPY:.0%} of it, what a copy reaches; --measure-bandwidth"
                    " measures it instead." if peaks else ""
                ),
            )
    gpus = [b for b, _, n in plan.uses if b.kind != "cpu"]
    split = [n for b, _, n in plan.uses if b.kind != "cpu"] if len(gpus) > 1 else []
    main_gpu = gpus[0].gpu_index if len(gpus) == 1 else None
    command = llama_cpp_command(
        variant,
        quant,
        config,
        gpu_layers=plan.gpu_layers,
        split=split,
        main_gpu=main_gpu,
        gpu_hidden=not gpus,
    )
    return Fit(
        variant_id=variant.id,
        quant=quant,
        config=config,
        verdict=judgement.verdict,
        placement=placement,
        devices=devices,
        total_bytes=sum(d.terms.total_bytes for d in devices),
        max_context_tokens=_max_context(variant, quant, config, machine),
        gpu_layers=plan.gpu_layers if placement is not Placement.NONE else None,
        speed=speed,
        llama_cpp_command=command,
        assumptions=tuple(_assumptions(variant, config, repack, cpu_only=not gpus)),
        reason=judgement.reason,
        file_size_bytes=file_size_bytes(variant, quant),
    )


def estimate_all(catalog: Catalog, machine: SystemSnapshot, config: RunConfig) -> tuple[Fit, ...]:
    """:func:`estimate` for every variant x published quant of the catalog, in catalog order."""
    facts = _machine(machine)
    return tuple(
        _estimate(variant, quant, config, facts)
        for variant in catalog.variants
        for quant in variant.quants
    )


# Above Q8_0 quality no longer buys anything a user can notice (Q8_0 is "practically
# indistinguishable from F16", quants.toml), while F16/BF16 double the memory and halve decode
# speed on bandwidth-bound hardware. So the recommendation ranks every quant at or above Q8_0's
# quality as equal and takes the smallest of them.
RECOMMENDATION_QUALITY_CAP_QUANT = "Q8_0"


def best_quant(variant: ModelVariant, machine: SystemSnapshot, config: RunConfig) -> str | None:
    """The best published quant that runs great, else the best that is tight, else None.

    "Best" is the highest quality up to Q8_0's (:data:`RECOMMENDATION_QUALITY_CAP_QUANT`); among
    quants at or above that cap the smallest file wins, so F16/BF16 are recommended only where
    no Q8_0 is published.
    """
    facts = _machine(machine)
    table = variant.quant_table
    cap = table.quant(RECOMMENDATION_QUALITY_CAP_QUANT).quality_rank

    def rank(q: str) -> tuple[int, int]:
        return (min(table.quant(q).quality_rank, cap), -file_size_bytes(variant, q))

    ranked = sorted(variant.quants, key=rank, reverse=True)
    tight: str | None = None
    for q in ranked:
        verdict = _judge(variant, q, config, facts).verdict
        if verdict is Verdict.RUNS_GREAT:
            return q
        if verdict is Verdict.TIGHT and tight is None:
            tight = q
    return tight


__all__ = [
    "CONTEXT_PAD_TOKENS",
    "CPU_OVERHEAD_BYTES",
    "CUDA_OVERHEAD_BYTES",
    "GREAT_MARGIN_BYTES",
    "GREAT_MARGIN_RAM_FRACTION",
    "LLAMA_CPP_COMMIT",
    "DeviceBudget",
    "DeviceUse",
    "Fit",
    "FrontEnd",
    "KvType",
    "MemoryTerms",
    "Placement",
    "RunConfig",
    "SpeedRange",
    "Verdict",
    "best_quant",
    "budgets",
    "compute_bytes",
    "decode_bytes_per_token",
    "estimate",
    "estimate_all",
    "file_size_bytes",
    "host_compute_bytes",
    "kv_bytes_per_token",
    "kv_cache_bytes",
    "llama_cpp_command",
    "max_context",
    "output_bytes",
    "overhead_bytes",
    "padded_context",
    "recurrent_state_bytes",
    "repack_bytes",
    "repack_types",
    "reserved_outputs",
    "tokens_per_second",
    "weights_bytes",
]
