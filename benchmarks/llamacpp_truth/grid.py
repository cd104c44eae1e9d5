"""The measurement grid: which configurations the calibration benchmark loads.

Every run is one fresh process loading one GGUF with one set of llama.cpp parameters. The grid
is ordered so that the most valuable runs come first (a phase cut short by a time limit still
leaves the core of the table).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: n_gpu_layers that means "everything, including the output layer" for every model here.
NGL_ALL = 99

#: ggml type ids of the KV cache types used (ggml.h enum ggml_type).
KV_TYPE_IDS: dict[str, int] = {"f16": 1, "q8_0": 8, "q4_0": 2}

#: llama_flash_attn_type values.
FLASH_ATTN_IDS: dict[str, int] = {"auto": -1, "off": 0, "on": 1}

#: Quantizations written per variant (F16 is the synthetic source itself).
QUANTS: dict[str, tuple[str, ...]] = {
    "lfm2-350m": ("F16", "Q4_K_M", "Q4_0", "Q8_0"),
    "lfm2-1.2b": ("F16", "Q4_K_M", "Q4_0", "Q8_0", "Q6_K", "Q2_K"),
    "lfm2-2.6b": ("Q4_K_M", "Q4_0", "Q8_0"),
    "lfm2-8b-a1b": ("Q4_K_M", "Q4_0", "Q8_0"),
}

#: Layer counts (blocks) per variant, for the partial-offload run.
N_LAYER: dict[str, int] = {"lfm2-350m": 16, "lfm2-1.2b": 16, "lfm2-2.6b": 30, "lfm2-8b-a1b": 24}


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSpec:
    """One configuration to load and measure.

    Attributes:
        variant: Synthetic model key (``lfm2-1.2b``).
        quant: Quantization of the file (``Q4_K_M``).
        device: ``gpu`` (CUDA visible) or ``cpu`` (``CUDA_VISIBLE_DEVICES`` empty).
        n_gpu_layers: Layers to offload (99 = all, including the output layer).
        n_ctx: Requested context.
        n_batch: Logical batch.
        n_ubatch: Micro-batch.
        flash_attn: ``on``, ``off`` or ``auto``.
        type_k: KV K type (``f16``, ``q8_0``, ``q4_0``).
        type_v: KV V type.
        n_seq_max: Parallel sequences.
        kv_unified: Unified KV buffer across sequences.
        use_mmap: Load with mmap.
        offload_kqv: Keep KV on the layer's device.
        n_prompt: Prompt tokens evaluated in one batch.
        n_decode: Single-token decode steps after the prompt.
        group: What the run is for (``core``, ``ubatch``, ``partial``...).
    """

    variant: str
    quant: str
    device: str
    n_gpu_layers: int
    n_ctx: int
    n_batch: int = 2048
    n_ubatch: int = 512
    flash_attn: str = "on"
    type_k: str = "f16"
    type_v: str = "f16"
    n_seq_max: int = 1
    kv_unified: bool = False
    use_mmap: bool = True
    offload_kqv: bool = True
    n_prompt: int = 64
    n_decode: int = 4
    group: str = "core"

    @property
    def run_id(self) -> str:
        """A stable, unique, human-readable id (used to resume a cut-short phase)."""
        parts = [
            self.variant,
            self.quant,
            self.device,
            f"ngl{self.n_gpu_layers}",
            f"c{self.n_ctx}",
            f"ub{self.n_ubatch}",
            f"b{self.n_batch}",
            f"fa-{self.flash_attn}",
            f"k{self.type_k}",
            f"v{self.type_v}",
            f"s{self.n_seq_max}",
        ]
        if self.kv_unified:
            parts.append("unified")
        if not self.use_mmap:
            parts.append("nommap")
        if not self.offload_kqv:
            parts.append("nokqv")
        return "/".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        d = asdict(self)
        d["run_id"] = self.run_id
        return d


def _dense_small(variant: str) -> list[RunSpec]:
    """The full grid for the 350M / 1.2B models."""
    out: list[RunSpec] = []
    q = "Q4_K_M"
    dev = (("gpu", NGL_ALL), ("cpu", 0))
    for device, ngl in dev:
        for n_ctx in (2048, 8192, 32768, 128000):
            for fa, kv in (("on", "f16"), ("off", "f16"), ("on", "q8_0")):
                out.append(
                    RunSpec(
                        variant=variant,
                        quant=q,
                        device=device,
                        n_gpu_layers=ngl,
                        n_ctx=n_ctx,
                        flash_attn=fa,
                        type_k=kv,
                        type_v=kv,
                    )
                )
    for device, ngl in dev:
        for ub in (128, 2048):
            for fa in ("on", "off"):
                out.append(
                    RunSpec(
                        variant=variant,
                        quant=q,
                        device=device,
                        n_gpu_layers=ngl,
                        n_ctx=32768,
                        n_ubatch=ub,
                        n_batch=max(2048, ub),
                        flash_attn=fa,
                        group="ubatch",
                    )
                )
    for fa in ("on", "off"):
        out.append(
            RunSpec(
                variant=variant,
                quant=q,
                device="gpu",
                n_gpu_layers=8,
                n_ctx=32768,
                flash_attn=fa,
                group="partial",
            )
        )
    for device, ngl in dev:
        out.append(
            RunSpec(
                variant=variant,
                quant=q,
                device=device,
                n_gpu_layers=ngl,
                n_ctx=32768,
                n_seq_max=4,
                group="parallel",
            )
        )
        out.append(
            RunSpec(
                variant=variant,
                quant=q,
                device=device,
                n_gpu_layers=ngl,
                n_ctx=8192,
                use_mmap=False,
                group="no_mmap",
            )
        )
        out.append(
            RunSpec(
                variant=variant,
                quant=q,
                device=device,
                n_gpu_layers=ngl,
                n_ctx=8192,
                flash_attn="auto",
                group="fa_auto",
            )
        )
    out.append(
        RunSpec(
            variant=variant,
            quant=q,
            device="gpu",
            n_gpu_layers=NGL_ALL,
            n_ctx=32768,
            type_k="q4_0",
            type_v="q4_0",
            group="kv_q4_0",
        )
    )
    out.append(
        RunSpec(
            variant=variant,
            quant=q,
            device="gpu",
            n_gpu_layers=0,
            n_ctx=8192,
            group="ngl0_gpu_visible",
        )
    )
    for quant in QUANTS[variant]:
        if quant == q:
            continue
        for device, ngl in dev:
            out.append(
                RunSpec(
                    variant=variant,
                    quant=quant,
                    device=device,
                    n_gpu_layers=ngl,
                    n_ctx=8192,
                    group="quants",
                )
            )
    return out


def _big(variant: str) -> list[RunSpec]:
    """The reduced grid for the 2.6B / 8B-A1B models."""
    q = "Q4_K_M"
    return [
        RunSpec(variant=variant, quant=q, device="gpu", n_gpu_layers=NGL_ALL, n_ctx=4096),
        RunSpec(variant=variant, quant=q, device="gpu", n_gpu_layers=NGL_ALL, n_ctx=32768),
        RunSpec(variant=variant, quant=q, device="cpu", n_gpu_layers=0, n_ctx=4096),
    ]


def build_grid(variants: tuple[str, ...] = tuple(QUANTS)) -> tuple[RunSpec, ...]:
    """The whole grid, core runs of the small models first.

    Args:
        variants: Which variants to include (order is fixed by the grid, not by this argument).

    Returns:
        The runs, each ``run_id`` unique.
    """
    small = [v for v in ("lfm2-1.2b", "lfm2-350m") if v in variants]
    big = [v for v in ("lfm2-2.6b", "lfm2-8b-a1b") if v in variants]
    per_variant = {v: _dense_small(v) for v in small}
    out: list[RunSpec] = []
    # Core grid of both small models first, then the big models, then the extra groups.
    for v in small:
        out += [s for s in per_variant[v] if s.group == "core"]
    for v in big:
        out += _big(v)
    for v in small:
        out += [s for s in per_variant[v] if s.group != "core"]
    ids = [s.run_id for s in out]
    if len(set(ids)) != len(ids):
        raise AssertionError("duplicate run ids in the grid")
    return tuple(out)
