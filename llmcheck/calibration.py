"""llama.cpp's compute buffers, CUDA context and CPU weight repacking, fitted to measurements.

Pure functions and named constants; imports only ``llmcheck.catalog``. The structure of every
formula comes from llama.cpp 0c1e57098's graph (``docs/llama-cpp-memory.md`` §6: the
reserve graph is the worst-case micro-batch, ``n_tok = min(n_kv, n_ubatch)``, f32 activations);
the few constants were read off the 106 runs recorded on an H100 + AMX Xeon
(``tests/data/llamacpp/llamacpp_truth_h100.json``, llama-cpp-python 0.3.36). Each constant names
the runs it came from (run ids abbreviated ``model/quant/device/ngl/ctx/ubatch/fa/kv/seqs``).
``benchmarks/llamacpp_truth/compare.py`` holds this module to every run (``docs/calibration.md``).

Symbols: ``n_kv`` = padded context seen by the KQ mask (``n_ctx``, or ``n_ctx / n_seq`` per
stream when the KV cache is not unified), ``T`` = tokens of the reserve micro-batch,
``d`` = n_embd, ``H`` = n_head, ``kvd`` = n_head_kv x head_dim, ``V`` = n_vocab, all bytes.

Compute buffer of the device that holds layers (``sched_reserve: <dev> compute buffer size``) is
the largest of these phases:

* logits: ``n_outputs x V x 4 + 2 x d x T x 4`` (logits + the two last d-wide activations);
* FFN: mask ``n_kv x T x 2`` (f16) + ``T x 4 x (W_ffn + k x d)``, W_ffn = 3 ff (dense; MoE: the
  routed width), k = 3 on the CPU backend, 2 on CUDA (one d-wide tensor fewer: CUDA fuses the
  residual add);
* FA off: KQ scores and f32 mask ``n_kv x T x (H + 1) x 4`` + ``T x 4 x (m x d + 2 kvd)``,
  m = 5 CPU, 4 CUDA;
* CUDA, FA on, when K/V are not f16 on that device (quantized cache, or attention layers left
  on the CPU whose K/V are copied over): the f16 K and V of one layer ``2 x n_kv x kvd x 2`` +
  mask + ``T x 4 x 4 d`` (the ~250 MiB "dequantization buffer" of q8_0 at 128k).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from llmcheck.catalog import Architecture

MIB = 1 << 20
F32_BYTES = 4
F16_BYTES = 2

# --- CUDA context (NVML process memory minus every printed CUDA buffer, after decoding) -------
# Measured per process on the H100 (driver 580.159.04, CUDA 13.0), 56 GPU runs in two clusters:
# 596.05-598.76 MiB when every matmul runs in ggml's own kernels (quantized weights, FA on), and
# 691.3-693.51 MiB when cuBLAS is loaded (FA off: the KQ / KQV matmuls in f16/f32; F16 weights;
# the MoE router, an F32 matmul). Values: CUDA_CONTEXT_SAMPLES_MIB below.
#: FA-on, quantized-weight runs of lfm2-350m/1.2b/2.6b (median of 35 runs; range 596.05-598.76).
CUDA_CONTEXT_BYTES = 598 * MIB
#: cuBLAS handle + workspace on top (median of the 19 cuBLAS runs 693.07 minus 598, range 691-694).
CUBLAS_WORKSPACE_BYTES = 95 * MIB
#: The ngl 0 runs with the GPU visible took 593-594 MiB (within 1 % of CUDA_CONTEXT_BYTES).

# --- constants of the compute-buffer model (structure above) ----------------------------------
#: d-wide f32 tensors live next to the FFN intermediates: CPU 3 (every CPU run with FA on at
#: 128k: 1.2B 185.03, 350M 158.02 MiB), CUDA 2 (the GPU runs at 128k: 181.03, 156.02 MiB).
FFN_EXTRA_D_CPU = 3
FFN_EXTRA_D_CUDA = 2
#: d-wide tensors next to the FA-off KQ scores: CPU 5, CUDA 4 (1.2B/350M, ctx 2k-128k and
#: ubatch 128/512/2048, FA off: e.g. 1.2B 32k ub512 CPU 2134.01, CUDA 2130.01 MiB).
SCORES_EXTRA_D_CPU = 5
SCORES_EXTRA_D_CUDA = 4
#: d-wide tensors next to the f16 K/V copies (q8_0 at 128k on CUDA: 1.2B 391.04, 350M 383.04).
KV_COPY_EXTRA_D = 4
#: Host (CUDA_Host) compute buffer, full offload: mask + 2 d-wide inputs (token embeddings looked
#: up on the CPU); FA off adds 4096 B per token (1.2B/350M full offload, every ctx and ubatch,
#: e.g. 1.2B 32k ub512 FA on 40.01, FA off 74.01 MiB; ub128 FA off 18.5 MiB).
HOST_INPUT_D = 2
HOST_FA_OFF_PER_TOKEN = 4096
#: Host compute with layers on the CPU (partial offload, ngl 0 with a GPU visible), FA on:
#: mask + T x 4 x (4 d - 2 kvd). Fitted to four runs: lfm2-1.2b ngl8 32k 46.01, ngl0 8k 22.01;
#: lfm2-350m ngl8 32k 38.01, ngl0 8k 14.01 MiB. Two model widths only: an empirical fit.
HOST_CPU_LAYERS_D = 4
HOST_CPU_LAYERS_KVD = -2
#: The same, FA off: scores n_kv x T x (H + 1) x 4 + T x 4 x (2 d + 4 kvd) (1.2B ngl8 32k
#: 2124.01, 350M ngl8 32k 1096.01 MiB).
HOST_SCORES_D = 2
HOST_SCORES_KVD = 4

# --- CPU weight repacking ---------------------------------------------------------------------
# Rule, measured (CPU runs with CUDA hidden; a run that uses a GPU repacks nothing, even for the
# layers it leaves on the CPU: ngl 8 and ngl 0 with the GPU visible show no AMX / CPU_REPACK):
# * x86 with AMX (AMX_INT8): dense matmul weights (layer tensors and the output matrix, a copy of
#   the tied token_embd) of the AMX types go to an ``AMX`` buffer, resized per type (below);
#   other repackable types and MoE experts (MUL_MAT_ID, which AMX does not run) go to
#   ``CPU_REPACK`` at their own size.
# * x86 AVX2 / AVX-512 without AMX: Q4_0, Q4_K, IQ4_NL (and Q2_K with AVX-512) to CPU_REPACK
#   at their own size (the CPU study: 1.2B Q4_K_M 482.62 MiB on an AVX2 EPYC).
# * ARM with dotprod: Q4_0, IQ4_NL (ggml's ARM kernels; not measured).
#: AMX size per file byte. Q8_0 38/34 (an int32 sum per 32-value block: 1.2B 1325.25, 350M
#: 401.38 MiB), Q4_K 148/144 (1.2B Q4_K_M 707.67, 350M 219.87, 2.6B 1519.58, 8B-A1B 362.02 MiB),
#: F16, Q4_0, Q6_K unchanged (2232.00 / 660.75 / 915.47 MiB). Q4_1, Q5_K, IQ4_XS have AMX kernels
#: but were not measured: assumed unchanged.
AMX_SIZE_FACTOR: dict[str, float] = {
    "F16": 1.0,
    "Q4_0": 1.0,
    "Q4_1": 1.0,
    "Q8_0": 38 / 34,
    "Q4_K": 148 / 144,
    "Q5_K": 1.0,
    "Q6_K": 1.0,
    "IQ4_XS": 1.0,
}
#: CPU_REPACK types next to AMX (AVX-512): Q2_K (1.2B Q2_K 230.34 MiB), Q4_K experts (8B-A1B
#: 3528.00 MiB); Q3_K and Q6_K experts were left alone.
REPACK_TYPES_AVX512 = frozenset({"Q4_0", "Q4_K", "IQ4_NL", "Q2_K"})
REPACK_TYPES_AVX2 = frozenset({"Q4_0", "Q4_K", "IQ4_NL"})
REPACK_TYPES_ARM = frozenset({"Q4_0", "IQ4_NL"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ComputeShape:
    """What the reserve graph's size depends on, beyond the architecture."""

    context_tokens: int  # padded n_ctx (a multiple of 256)
    ubatch: int = 512
    flash_attn: bool = True
    n_outputs: int = 1  # logit rows reserved (llama-server: n_parallel; libllama: n_ubatch)
    n_seq: int = 1
    kv_unified: bool = True
    kv_quantized: bool = False


def _n_kv_mask(s: ComputeShape) -> int:
    if s.kv_unified or s.n_seq <= 1:
        return s.context_tokens
    per = s.context_tokens // s.n_seq
    return -(-per // 256) * 256


def _n_tok(s: ComputeShape) -> int:
    return min(s.context_tokens, s.ubatch)


def ffn_width(arch: Architecture) -> int:
    """f32 values per token live at the FFN peak, without the d-wide residuals: 3 x ff, or for a
    MoE layer the k experts' gate/up/product + their outputs + the router logits."""
    widths = [3 * arch.ffn_size]
    if arch.is_moe:
        widths.append(
            3 * arch.n_expert_used * arch.expert_ffn_size
            + arch.n_expert_used * arch.hidden_size
            + 2 * arch.n_expert
        )
    return max(widths)


def logits_phase_bytes(arch: Architecture, s: ComputeShape) -> int:
    """n_outputs x V x 4 + 2 x d x T x 4."""
    t = _n_tok(s)
    return max(1, s.n_outputs) * arch.vocab_size * F32_BYTES + 2 * arch.hidden_size * t * F32_BYTES


def _scores(arch: Architecture, s: ComputeShape) -> int:
    return _n_kv_mask(s) * _n_tok(s) * (arch.n_head + 1) * F32_BYTES


def _kv_f16_copy(arch: Architecture, s: ComputeShape) -> int:
    return 2 * _n_kv_mask(s) * arch.n_head_kv * arch.head_dim * F16_BYTES


def cpu_compute_bytes(arch: Architecture, s: ComputeShape) -> int:
    """The CPU backend's compute buffer of a CPU-only run (see the module docstring)."""
    t, d = _n_tok(s), arch.hidden_size
    kvd = arch.n_head_kv * arch.head_dim
    mask16 = _n_kv_mask(s) * t * F16_BYTES
    need = max(
        logits_phase_bytes(arch, s),
        mask16 + t * F32_BYTES * (ffn_width(arch) + FFN_EXTRA_D_CPU * d),
    )
    if not s.flash_attn:
        need = max(need, _scores(arch, s) + t * F32_BYTES * (SCORES_EXTRA_D_CPU * d + 2 * kvd))
    return need


def cuda_compute_bytes(
    arch: Architecture,
    s: ComputeShape,
    *,
    cpu_attention_layers: bool = False,
    layers_on_gpu: bool = True,
    output_weight_bytes: int = 0,
) -> int:
    """The CUDA device's compute buffer (``CUDA0 compute buffer size``).

    ``cpu_attention_layers``: some attention layers stay on the CPU (partial offload); their K/V
    are copied to the GPU for the offloaded attention ops. ``layers_on_gpu`` False is ``-ngl 0``
    with the GPU visible: the GPU still runs the big matmuls (op offload), so it holds the logits
    phase plus a copy of the output matrix (``output_weight_bytes``): 1.2B 105 + 136 = 241.00,
    350M 52.5 + 132 = 184.50 MiB (8k, FA on).
    """
    t, d = _n_tok(s), arch.hidden_size
    kvd = arch.n_head_kv * arch.head_dim
    mask16 = _n_kv_mask(s) * t * F16_BYTES
    logits = logits_phase_bytes(arch, s)
    if not layers_on_gpu:
        # FA off with ngl 0 and a GPU visible was not measured: the partial-offload shape is used.
        cpu_attention_layers = True
        logits += output_weight_bytes
    need = max(logits, mask16 + t * F32_BYTES * (ffn_width(arch) + FFN_EXTRA_D_CUDA * d))
    copies = _kv_f16_copy(arch, s) if (s.kv_quantized or cpu_attention_layers) else 0
    if s.flash_attn:
        if copies:
            need = max(need, copies + mask16 + t * F32_BYTES * KV_COPY_EXTRA_D * d)
    else:
        scores = _scores(arch, s) + t * F32_BYTES * (SCORES_EXTRA_D_CUDA * d + 2 * kvd)
        need = max(need, scores + copies)
    return need


def cuda_host_compute_bytes(
    arch: Architecture, s: ComputeShape, *, cpu_layers: bool = False
) -> int:
    """The ``CUDA_Host`` compute buffer of a run that uses a CUDA GPU.

    Full offload: the KQ mask (f16 with FA, f32 without) + 2 d-wide inputs, + 4096 B per token
    with FA off. With layers on the CPU (``cpu_layers``: partial offload or ``-ngl 0``), their
    non-matmul ops run here: see HOST_CPU_LAYERS_* and HOST_SCORES_*.
    """
    t, d = _n_tok(s), arch.hidden_size
    kvd = arch.n_head_kv * arch.head_dim
    n_kv = _n_kv_mask(s)
    if cpu_layers:
        if s.flash_attn:
            width = HOST_CPU_LAYERS_D * d + HOST_CPU_LAYERS_KVD * kvd
            return n_kv * t * F16_BYTES + t * F32_BYTES * width
        return _scores(arch, s) + t * F32_BYTES * (HOST_SCORES_D * d + HOST_SCORES_KVD * kvd)
    mask = n_kv * t * (F16_BYTES if s.flash_attn else F32_BYTES)
    extra = 0 if s.flash_attn else HOST_FA_OFF_PER_TOKEN * t
    return mask + HOST_INPUT_D * d * t * F32_BYTES + extra


def uses_cublas(*, flash_attn: bool, float_matmul_weights: bool) -> bool:
    """Whether llama.cpp's CUDA backend loads cuBLAS: matmuls on f16/f32 operands (FA off's KQ and
    KQV, F16/BF16/F32 weights such as F16 models or the MoE router); quantized weights and FA run
    in ggml's own kernels."""
    return (not flash_attn) or float_matmul_weights


def cpu_repack_mode(features: Iterable[str], machine_arch: str) -> str:
    """ "amx" | "avx512" | "avx2" | "arm" | "none" from CPU feature flags (lower case)."""
    f = {x.lower() for x in features}
    a = machine_arch.lower()
    if a in ("x86_64", "amd64", "x86-64"):
        # llama.cpp keys on AMX-INT8; llmcheck's probe records the AMX tile unit as "amx"
        # (every CPU with AMX so far, Sapphire Rapids on, has AMX-INT8 as well).
        if f & {"amx_int8", "amx-int8", "amx"}:
            return "amx"
        if "avx512f" in f or "avx512" in f:
            return "avx512"
        if "avx2" in f:
            return "avx2"
        return "none"
    if a in ("arm64", "aarch64") and ("dotprod" in f or "asimddp" in f):
        return "arm"
    return "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Repack:
    """The extra CPU buffers of a CPU-only run, and the file bytes they replace."""

    amx_bytes: int = 0
    cpu_repack_bytes: int = 0
    source_layer_bytes: int = 0  # layer tensors moved out of the plain CPU buffer (no mmap)

    @property
    def total_bytes(self) -> int:
        """All repacked copies."""
        return self.amx_bytes + self.cpu_repack_bytes


def repack(
    tensors: Iterable[tuple[str, int, bool, bool]], mode: str, *, output_on_cpu: bool = True
) -> Repack:
    """Repacked copies for ``tensors`` = (ggml type, bytes, is a layer tensor, is an expert),
    token_embd passed once as a non-layer tensor (it is the tied output matrix as well).

    Only the dense matmul weights go to AMX; token_embd goes there as the output matrix's copy
    while the row lookup keeps the original (1.2B Q4_K_M no mmap: CPU 105.50 + AMX 707.67 MiB).
    """
    amx = rep = src = 0
    simple = {
        "avx512": REPACK_TYPES_AVX512,
        "avx2": REPACK_TYPES_AVX2,
        "arm": REPACK_TYPES_ARM,
    }.get(mode, frozenset())
    for ggml_type, nbytes, is_layer, is_expert in tensors:
        if not is_layer and not output_on_cpu:
            continue
        if mode == "amx":
            if not is_expert and ggml_type in AMX_SIZE_FACTOR:
                amx += round(nbytes * AMX_SIZE_FACTOR[ggml_type])
            elif ggml_type in REPACK_TYPES_AVX512:
                rep += nbytes
            else:
                continue
        elif ggml_type in simple and is_layer:
            rep += nbytes
        else:
            continue
        if is_layer:
            src += nbytes
    return Repack(amx_bytes=amx, cpu_repack_bytes=rep, source_layer_bytes=src)


#: The measured contexts (MiB) the two constants summarise, for the record.
CUDA_CONTEXT_SAMPLES_MIB = {"no_cublas": (596.05, 598.76), "cublas": (691.3, 693.51)}
