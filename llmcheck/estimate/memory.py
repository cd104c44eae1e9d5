"""The memory terms llama.cpp allocates for an LFM2 model, one function each (bytes).

Each docstring gives the formula and its units. The rules follow llama.cpp at commit 0c1e57098;
the facts, with their sources in llama.cpp's code and in recorded runs, are in
``docs/llama-cpp-memory.md`` (§ numbers below).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from llmcheck import calibration
from llmcheck.catalog import Architecture
from llmcheck.estimate.types import FrontEnd, KvType, RunConfig

MIB = 1 << 20
GIB = 1 << 30

# llama_context pads n_ctx to a multiple of 256 (GGML_PAD(n_ctx, 256), src/llama-context.cpp, §2).
CONTEXT_PAD_TOKENS = 256
# Activations, logits, masks and the recurrent state are f32 (§3, §5, §6).
F32_BYTES = 4
F16_BYTES = 2

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
# (elements per block, bytes per block): ggml-common.h (§2).
_KV_BLOCK = {KvType.F16: (1, 2), KvType.Q8_0: (32, 34), KvType.Q4_0: (32, 18)}


def padded_context(context_tokens: int) -> int:
    """n_ctx as llama.cpp allocates it: GGML_PAD(n_ctx, 256) tokens (§2)."""
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
    """KV cache of the attention layers only (§2), bytes.

    KV = n_attn x GGML_PAD(n_ctx, 256) x (Hkv x hd) x (bytes(K) + bytes(V)), with a unified cache
    across parallel sequences (``-kvu``), so the cell count is the padded context. Conv layers hold
    no KV. LFM2-1.2B, f16, 4096 tokens: 6 x 4096 x 512 x 4 = 48.00 MiB.
    """
    return padded_context(context_tokens) * kv_bytes_per_token(arch, kv_type, n_layers=n_layers)


def recurrent_state_bytes(
    arch: Architecture, parallel: int = 1, *, n_rs_seq: int = 0, n_layers: int | None = None
) -> int:
    """Short-conv state (§3), bytes: n_conv x (L - 1) x d x 4 B x max(1, n_seq) x (1 + n_rs_seq).

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
    """Host output (logits) buffer reserved at init (§5), bytes: n_vocab x n_outputs x 4 B.

    llama_context::output_reserve(n_seq_max): one row of logits per sequence (0.25 MiB for a
    65,536 vocabulary).
    """
    return arch.vocab_size * max(1, n_outputs) * F32_BYTES


def reserved_outputs(front_end: FrontEnd, parallel: int, ubatch: int) -> int:
    """Logit rows the compute-buffer reserve sizes for (§6).

    llama-server: n_outputs_max = n_parallel x (1 + n_draft), no drafting here -> ``parallel``.
    libllama callers that leave n_outputs_max at 0 (llama-cpp-python, llama-completion) get
    n_batch, i.e. a whole micro-batch of logits -> ``ubatch``.
    """
    if FrontEnd(front_end) is FrontEnd.LLAMA_SERVER:
        return parallel
    return ubatch


def compute_bytes(
    arch: Architecture,
    context_tokens: int,
    *,
    ubatch: int = 512,
    flash_attn: bool = True,
    n_outputs: int = 1,
) -> int:
    """The compute buffer llama.cpp reserves for the worst-case micro-batch (§6), bytes.

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
    """What a compute buffer's size depends on for ``config`` at ``context_tokens`` (§6).

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
