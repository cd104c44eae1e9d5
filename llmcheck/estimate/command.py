"""The llama-server command a verdict assumes, and the assumptions listed with every answer."""

from __future__ import annotations

from collections.abc import Sequence

from llmcheck import calibration
from llmcheck.catalog import FileQuantTable, ModelVariant
from llmcheck.catalog.rules import IMATRIX_FTYPES
from llmcheck.estimate.budget import GREAT_MARGIN_BYTES, GREAT_MARGIN_RAM_FRACTION
from llmcheck.estimate.memory import CONTEXT_PAD_TOKENS, MIB
from llmcheck.estimate.types import FrontEnd, RunConfig
from llmcheck.units import format_bytes

# The llama.cpp build whose allocation rules these functions follow (docs/llama-cpp-memory.md §1).
LLAMA_CPP_COMMIT = "0c1e57098"
LLAMA_CPP_PYTHON_VERSION = "0.3.36"


def llama_cpp_command(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    *,
    gpu_layers: int,
    split: Sequence[int] = (),
    main_gpu: int | None = None,
    gpu_hidden: bool | None = None,
    model_file: str | None = None,
    mmproj_file: str | None = None,
    n_cpu_moe: int = 0,
) -> str:
    """The llama-server command the verdict assumes, with every flag that changes memory pinned.

    ``-fit off`` keeps llama-server (which fits by default) from changing -c / -ngl; ``-kvu``
    makes parallel sequences share one KV cache of -c cells; ``-dev none`` keeps a CPU-only run
    off the GPU (``gpu_hidden``, default: ``gpu_layers == 0``; ``-ngl 0`` with a GPU visible
    still uses it for the big matmuls). ``model_file`` / ``mmproj_file``: the user's own files
    (already shell-quoted) instead of the published names. ``n_cpu_moe`` N > 0: the routed
    experts of the first N layers stay in RAM (``--n-cpu-moe N``; ``--cpu-moe`` when N covers
    every layer).
    """
    parts = [
        "llama-server",
        "-m",
        model_file if model_file is not None else variant.gguf_file_name(quant),
    ]
    if mmproj_file is not None:
        parts += ["--mmproj", mmproj_file]
    elif variant.vision is not None:
        parts += ["--mmproj", f"mmproj-{variant.gguf_file_prefix}-{variant.vision.ggml_type}.gguf"]
    parts += ["-c", str(config.context_tokens), "-ngl", str(gpu_layers)]
    if n_cpu_moe >= variant.architecture.n_layer:
        parts.append("--cpu-moe")
    elif n_cpu_moe > 0:
        parts += ["--n-cpu-moe", str(n_cpu_moe)]
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
    if config.threads is not None:
        parts += ["-t", str(config.threads)]
    if not config.mmap:
        parts.append("--no-mmap")
    return " ".join(parts)


COMMUNITY_QUANT_NOTE = "community quant: not published by Liquid AI"


def _assumptions(
    variant: ModelVariant,
    config: RunConfig,
    repack: frozenset[str],
    *,
    cpu_only: bool,
    quant: str | None = None,
    n_cpu_moe: int = 0,
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
    if (
        quant is not None
        and quant not in variant.quants
        and not isinstance(variant.quant_table, FileQuantTable)
    ):
        imatrix = quant in IMATRIX_FTYPES
        out.append(
            f"{COMMUNITY_QUANT_NOTE} (size from llama-quantize's per-tensor rules"
            + (", with an importance matrix" if imatrix else "")
            + "; a file made with other settings differs: open the file itself to be exact)"
        )
    if n_cpu_moe:
        out.append(
            f"routed experts of the first {n_cpu_moe} layers in RAM (--n-cpu-moe): the GPU's "
            "compute buffer also holds one layer's experts, copied over for prompt batches (not "
            "measured); their speed cost is a bandwidth model (docs/moe-offload.md), not a "
            "measurement"
        )
    if not arch.attention_layers_verified:
        out.append("attention-layer indices are a placeholder (only their count is verified)")
    if not variant.verified:
        out.append(f"{variant.name}: architecture not fully verified ({arch.note or variant.note})")
    if variant.vision is not None and variant.vision.size_estimated:
        out.append(
            "vision projector size estimated from the encoder's parameter count; the image "
            "encoder's compute buffer is not counted"
        )
    elif variant.vision is not None:
        out.append(
            "vision projector: the mmproj file's own tensors "
            f"({format_bytes(variant.vision.size_bytes)}, on the GPU with the output layer); "
            "the image encoder's compute buffer is not counted"
        )
    if isinstance(variant.quant_table, FileQuantTable):
        out.append(
            "weights: the GGUF file's own tensor types and bytes; architecture values read from "
            "its header"
        )
    return out
