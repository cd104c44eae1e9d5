"""Properties the estimator must keep for every variant and setting (hypothesis)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from llmcheck.catalog import ModelVariant, load_catalog
from llmcheck.estimate import (
    KvType,
    RunConfig,
    Verdict,
    compute_bytes,
    estimate,
    kv_cache_bytes,
    max_context,
)
from llmcheck.snapshot import CpuInfo, GpuInfo, GpuVendor, MemoryInfo, OsInfo, SystemSnapshot

GIB = 1 << 30
CATALOG = load_catalog()
VARIANTS = st.sampled_from(CATALOG.variants)
# Published quant order from smallest to largest file (F16 and BF16 are the same size).
QUANT_ORDER = ["Q2_K", "Q3_K_M", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16"]
FITS = (Verdict.RUNS_GREAT, Verdict.TIGHT)


def machine(ram_gib: float, gpu_gib: float | None) -> SystemSnapshot:
    gpus = ()
    if gpu_gib is not None:
        gpus = (
            GpuInfo(
                index=0,
                vendor=GpuVendor.NVIDIA,
                total_bytes=int(gpu_gib * GIB) + GIB,
                free_bytes=int(gpu_gib * GIB),
                bandwidth_gb_s=900.0,
            ),
        )
    return SystemSnapshot(
        os=OsInfo(system="Linux"),
        cpu=CpuInfo(arch="x86_64", features=("avx2",)),
        memory=MemoryInfo(
            total_bytes=int(ram_gib * GIB) + GIB,
            available_bytes=int(ram_gib * GIB),
            bandwidth_gb_s=60.0,
        ),
        gpus=gpus,
    )


CPU_BOX = machine(16.0, None)
GPU_BOX = machine(64.0, 80.0)
configs = st.builds(
    RunConfig,
    context_tokens=st.integers(1, 128_000),
    kv_type=st.sampled_from(list(KvType)),
    flash_attn=st.just(True),
    parallel=st.integers(1, 8),
    ubatch=st.sampled_from([64, 128, 256, 512, 1024, 2048]),
    device=st.sampled_from(["cpu", "gpu:0"]),
)


@settings(max_examples=60, deadline=None)
@given(VARIANTS, configs, st.integers(1, 100_000), st.booleans())
def test_more_context_never_needs_less(
    v: ModelVariant, cfg: RunConfig, extra: int, fa: bool
) -> None:
    cfg = replace(cfg, flash_attn=fa or cfg.kv_type is not KvType.F16)
    a = v.architecture
    bigger = cfg.context_tokens + extra
    n = cfg.context_tokens
    assert kv_cache_bytes(a, bigger, cfg.kv_type) >= kv_cache_bytes(a, n, cfg.kv_type)
    fa_on = cfg.flash_attn
    assert compute_bytes(a, bigger, ubatch=cfg.ubatch, flash_attn=fa_on) >= compute_bytes(
        a, n, ubatch=cfg.ubatch, flash_attn=fa_on
    )
    box = GPU_BOX
    small = estimate(v, v.quants[0], cfg, box)
    large = estimate(v, v.quants[0], replace(cfg, context_tokens=bigger), box)
    assert large.total_bytes >= small.total_bytes


@settings(max_examples=40, deadline=None)
@given(VARIANTS, configs, st.integers(0, len(QUANT_ORDER) - 2))
def test_bigger_quant_never_needs_less(v: ModelVariant, cfg: RunConfig, i: int) -> None:
    lo, hi = QUANT_ORDER[i], QUANT_ORDER[i + 1]
    a = estimate(v, lo, cfg, GPU_BOX)
    b = estimate(v, hi, cfg, GPU_BOX)
    assert b.total_bytes >= a.total_bytes
    assert b.file_size_bytes > a.file_size_bytes


@settings(max_examples=40, deadline=None)
@given(VARIANTS, configs, st.integers(1, 8))
def test_more_parallel_never_needs_less(v: ModelVariant, cfg: RunConfig, extra: int) -> None:
    a = estimate(v, v.quants[0], cfg, GPU_BOX)
    b = estimate(v, v.quants[0], replace(cfg, parallel=cfg.parallel + extra), GPU_BOX)
    assert b.total_bytes >= a.total_bytes


@settings(max_examples=25, deadline=None)
@given(
    VARIANTS,
    st.sampled_from(QUANT_ORDER),
    st.floats(1.0, 24.0),
    st.sampled_from([KvType.F16, KvType.Q8_0]),
    st.booleans(),
)
def test_max_context_fits_and_one_more_step_does_not(
    v: ModelVariant, quant: str, ram: float, kv: KvType, fa: bool
) -> None:
    box = machine(ram, None)
    cfg = RunConfig(kv_type=kv, flash_attn=fa or kv is not KvType.F16, device="cpu")
    best = max_context(v, quant, cfg, box)
    if best is None:
        assert estimate(v, quant, replace(cfg, context_tokens=256), box).verdict not in FITS
        return
    assert best % 256 == 0
    assert estimate(v, quant, replace(cfg, context_tokens=best), box).verdict in FITS
    if best + 256 <= v.gguf_context_tokens:
        nxt = estimate(v, quant, replace(cfg, context_tokens=best + 256), box)
        assert nxt.verdict is Verdict.WONT_FIT


@settings(max_examples=30, deadline=None)
@given(VARIANTS, configs, st.floats(0.5, 64.0), st.floats(0.5, 48.0))
def test_more_memory_never_makes_it_worse(
    v: ModelVariant, cfg: RunConfig, ram: float, vram: float
) -> None:
    """More free RAM never turns a fit into a non-fit."""
    rank = {Verdict.WONT_FIT: 0, Verdict.TIGHT: 1, Verdict.RUNS_GREAT: 2}
    a = estimate(v, v.quants[0], cfg, machine(ram, vram))
    b = estimate(v, v.quants[0], cfg, machine(ram * 2, vram))
    if a.verdict in FITS:
        assert b.verdict in FITS
    assert rank.get(b.verdict, 0) >= rank.get(a.verdict, 0) or a.verdict is Verdict.RUNS_GREAT
