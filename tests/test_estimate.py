"""Each memory term against llama.cpp's own numbers, and verdicts on hand-made machines.

Exact numbers: llama.cpp's own logs (docs/llama-cpp-memory.md §2-§5); compute buffer: the CPU runs
measured through llama-cpp-python (docs/llama-cpp-memory.md §6, libllama front end,
n_outputs = n_ubatch), so those checks use FrontEnd.LIBLLAMA's reserved_outputs.
"""

from __future__ import annotations

import pytest

from llmcheck.catalog import Catalog, ModelVariant, load_catalog
from llmcheck.estimate import (
    FrontEnd,
    KvType,
    Placement,
    RunConfig,
    Verdict,
    best_quant,
    budgets,
    compute_bytes,
    decode_bytes_per_token,
    estimate,
    estimate_all,
    kv_cache_bytes,
    max_context,
)
from llmcheck.estimate.budget import GREAT_MARGIN_BYTES
from llmcheck.estimate.memory import output_bytes, recurrent_state_bytes, reserved_outputs
from llmcheck.estimate.weights import repack_bytes, repack_types, weights_bytes
from llmcheck.snapshot import (
    CpuInfo,
    GpuInfo,
    GpuVendor,
    MemoryInfo,
    MemoryKind,
    MigInstance,
    OsInfo,
    Source,
    SystemSnapshot,
)

MIB = 1 << 20
GIB = 1 << 30


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def m12(catalog: Catalog) -> ModelVariant:
    return catalog.variant("lfm2-1.2b")


@pytest.fixture(scope="module")
def m350(catalog: Catalog) -> ModelVariant:
    return catalog.variant("lfm2-350m")


# --- machines ---------------------------------------------------------------------------------

X86 = CpuInfo(brand="Test x86", arch="x86_64", physical_cores=8, features=("avx2", "fma"))


def laptop_8gib(available_gib: float = 6.0) -> SystemSnapshot:
    """CPU-only laptop, 8 GiB RAM, 6 GiB available, 60 GB/s."""
    return SystemSnapshot(
        os=OsInfo(system="Linux"),
        cpu=X86,
        memory=MemoryInfo(
            total_bytes=8 * GIB,
            available_bytes=int(available_gib * GIB),
            source=Source.PSUTIL,
            bandwidth_gb_s=60.0,
            bandwidth_source=Source.TABLE,
        ),
    )


def nvidia(index: int, free_gib: float, total_gib: int = 24, bw: float = 1008.0) -> GpuInfo:
    return GpuInfo(
        index=index,
        vendor=GpuVendor.NVIDIA,
        name=f"Test GPU {index}",
        total_bytes=total_gib * GIB,
        free_bytes=int(free_gib * GIB),
        memory_source=Source.NVML,
        bandwidth_gb_s=bw,
        bandwidth_source=Source.COMPUTED,
    )


def desktop(*gpus: GpuInfo, ram_available_gib: float = 28.0) -> SystemSnapshot:
    return SystemSnapshot(
        os=OsInfo(system="Linux"),
        cpu=X86,
        memory=MemoryInfo(
            total_bytes=32 * GIB,
            available_bytes=int(ram_available_gib * GIB),
            source=Source.PSUTIL,
            bandwidth_gb_s=80.0,
            bandwidth_source=Source.TABLE,
        ),
        gpus=gpus,
    )


def m2_max_32gib() -> SystemSnapshot:
    """Apple M2 Max, 32 GiB unified, Metal working-set cap ~21.3 GiB (2/3), 400 GB/s."""
    return SystemSnapshot(
        os=OsInfo(system="Darwin", machine="arm64"),
        cpu=CpuInfo(brand="Apple M2 Max", arch="arm64", features=("neon", "dotprod")),
        memory=MemoryInfo(total_bytes=32 * GIB, available_bytes=20 * GIB, bandwidth_gb_s=400.0),
        gpus=(
            GpuInfo(
                index=0,
                vendor=GpuVendor.APPLE,
                name="Apple M2 Max",
                memory_kind=MemoryKind.UNIFIED,
                total_bytes=32 * GIB,
                working_set_cap_bytes=int(21.33 * GIB),
                working_set_cap_source=Source.METAL,
                bandwidth_gb_s=400.0,
                bandwidth_source=Source.TABLE,
            ),
        ),
    )


# --- terms against llama.cpp's exact numbers ------------------------------------------------


def test_kv_cache_exact(m12: ModelVariant) -> None:
    """48.00 MiB at 4096 (PR #18641 log); 1,500 MiB at 128000; only 6 of 16 layers."""
    a = m12.architecture
    assert kv_cache_bytes(a, 4096) == 48 * MIB
    assert kv_cache_bytes(a, 128_000) == 1500 * MIB
    assert kv_cache_bytes(a, 32_768) == 384 * MIB


def test_kv_cache_types_and_padding(catalog: Catalog, m12: ModelVariant) -> None:
    """Measured q8_0: 204.00 MiB at 32k, 796.88 at 128k; n_ctx padded up to 256."""
    a = m12.architecture
    assert kv_cache_bytes(a, 32_768, KvType.Q8_0) == 204 * MIB
    assert round(kv_cache_bytes(a, 128_000, KvType.Q8_0) / MIB, 2) == 796.88
    assert kv_cache_bytes(a, 128_000, KvType.Q4_0) == 128_000 * 3456
    assert kv_cache_bytes(a, 4097) == kv_cache_bytes(a, 4352)
    assert kv_cache_bytes(catalog.variant("lfm2-2.6b").architecture, 4096) == 64 * MIB
    assert kv_cache_bytes(catalog.variant("lfm2-24b-a2b").architecture, 128_000) == 2500 * MIB


def test_recurrent_state(m12: ModelVariant, m350: ModelVariant) -> None:
    """0.16 MiB (163,840 B) for the 1.2B, 81,920 B for the 350M, per sequence."""
    assert recurrent_state_bytes(m12.architecture) == 163_840
    assert recurrent_state_bytes(m350.architecture) == 81_920
    assert round(recurrent_state_bytes(m12.architecture, 4) / MIB, 2) == 0.62


def test_output_buffer(m12: ModelVariant, catalog: Catalog) -> None:
    assert output_bytes(m12.architecture, 1) == 256 * 1024  # 0.25 MiB
    assert round(output_bytes(catalog.variant("lfm2.5-8b-a1b").architecture) / MIB, 2) == 0.49


def test_weights_full_offload_split_exact(catalog: Catalog, m12: ModelVariant) -> None:
    """PR #18641, 1.2B Q4_0 all layers on CUDA: CPU 105.00 MiB + CUDA0 661.25 MiB."""
    host, gpu = weights_bytes(m12, "Q4_0", gpu_layers=99)
    assert host == 105 * MIB
    assert gpu == 693_365_760  # prints as 661.25 MiB
    assert round(gpu / MIB, 2) == 661.25
    host, gpu = weights_bytes(m12, "Q4_0", gpu_layers=0)
    assert (host, gpu) == (693_365_760, 0)


def test_weights_partial_offload_moves_layers(m12: ModelVariant) -> None:
    h1, g1 = weights_bytes(m12, "Q4_K_M", gpu_layers=1)  # the output layer only
    assert g1 == 105 * MIB + 2048 * 4 + 0  # token_embd copy (Q6_K) + final norm
    h2, g2 = weights_bytes(m12, "Q4_K_M", gpu_layers=9)
    assert g2 > g1
    assert h2 < h1


def test_repack_bytes_measured(m12: ModelVariant) -> None:
    """Measured CPU_REPACK on x86 AVX2: Q4_K_M 482.62, Q4_0 555.75, Q3_K_M 150.75, Q8_0 none."""
    types = repack_types(laptop_8gib())
    layers = range(16)
    assert round(repack_bytes(m12, "Q4_K_M", layers, types) / MIB, 2) == 482.62
    assert round(repack_bytes(m12, "Q4_0", layers, types) / MIB, 2) == 555.75
    assert round(repack_bytes(m12, "Q3_K_M", layers, types) / MIB, 2) == 150.75
    assert repack_bytes(m12, "Q8_0", layers, types) == 0


# Measured compute buffers (MiB), llama-cpp-python (n_outputs = n_ubatch), n_ubatch 512.
COMPUTE = [
    ("lfm2-1.2b", True, 8192, 136.00),
    ("lfm2-1.2b", True, 32768, 136.00),
    ("lfm2-1.2b", True, 128000, 185.03),
    ("lfm2-1.2b", False, 2048, 154.01),
    ("lfm2-1.2b", False, 8192, 550.01),
    ("lfm2-1.2b", False, 32768, 2134.01),
    ("lfm2-1.2b", False, 128000, 8272.01),
    ("lfm2-350m", True, 2048, 132.00),
    ("lfm2-350m", True, 8192, 132.00),
    ("lfm2-350m", True, 32768, 132.00),
    ("lfm2-350m", True, 128000, 158.02),
    ("lfm2-350m", False, 2048, 132.00),
    ("lfm2-350m", False, 8192, 284.01),
    ("lfm2-350m", False, 32768, 1100.01),
    ("lfm2-350m", False, 128000, 4262.01),
]


@pytest.mark.parametrize(("variant_id", "fa", "ctx", "mib"), COMPUTE)
def test_compute_buffer_within_2_percent(
    catalog: Catalog, variant_id: str, fa: bool, ctx: int, mib: float
) -> None:
    a = catalog.variant(variant_id).architecture
    n_out = reserved_outputs(FrontEnd.LIBLLAMA, 1, 512)
    got = compute_bytes(a, ctx, ubatch=512, flash_attn=fa, n_outputs=n_out) / MIB
    assert got == pytest.approx(mib, rel=0.02)


@pytest.mark.parametrize(
    ("ubatch", "fa_on", "fa_off"),
    [(128, 34, 533.5), (256, 68, 1067), (512, 136, 2134), (1024, 272, 4268), (2048, 544, 8536)],
)
def test_compute_buffer_by_ubatch(
    m12: ModelVariant, ubatch: int, fa_on: float, fa_off: float
) -> None:
    """Measured 1.2B at n_ctx 32768 by n_ubatch."""
    a = m12.architecture
    on = compute_bytes(a, 32768, ubatch=ubatch, flash_attn=True, n_outputs=ubatch) / MIB
    off = compute_bytes(a, 32768, ubatch=ubatch, flash_attn=False, n_outputs=ubatch) / MIB
    assert on == pytest.approx(fa_on, rel=0.02)
    assert off == pytest.approx(fa_off, rel=0.02)


def test_compute_known_outlier(m12: ModelVariant) -> None:
    """1.2B FA on at 2048 measured 142.01 MiB; the model gives 136 (4.2% under), documented."""
    got = compute_bytes(m12.architecture, 2048, ubatch=512, flash_attn=True, n_outputs=512)
    assert got / MIB == pytest.approx(142.01, rel=0.05)


def test_llama_server_reserves_few_logits(m12: ModelVariant) -> None:
    """llama-server: n_outputs = parallel, so the 128 MiB logits block is not reserved."""
    server = compute_bytes(
        m12.architecture, 4096, n_outputs=reserved_outputs(FrontEnd.LLAMA_SERVER, 1, 512)
    )
    lib = compute_bytes(
        m12.architecture, 4096, n_outputs=reserved_outputs(FrontEnd.LIBLLAMA, 1, 512)
    )
    assert lib - server > 60 * MIB
    assert server < 80 * MIB


def test_quantized_v_needs_flash_attention() -> None:
    with pytest.raises(ValueError, match="requires flash attention"):
        RunConfig(kv_type=KvType.Q8_0, flash_attn=False)
    with pytest.raises(ValueError, match="device"):
        RunConfig(device="tpu:0")


# --- budgets ----------------------------------------------------------------------------------


def test_budgets_use_free_memory_per_device() -> None:
    b = budgets(desktop(nvidia(0, 20.0), nvidia(1, 10.5)))
    assert [x.device for x in b] == ["gpu:0", "gpu:1", "cpu"]
    assert b[0].budget_bytes == 20 * GIB
    assert b[1].budget_bytes == int(10.5 * GIB)
    assert b[2].budget_bytes == 28 * GIB


def test_budgets_mig_slices_are_devices() -> None:
    gpu = GpuInfo(
        index=0,
        vendor=GpuVendor.NVIDIA,
        name="A100",
        total_bytes=80 * GIB,
        free_bytes=80 * GIB,
        mig_enabled=True,
        mig_instances=(
            MigInstance(index=0, total_bytes=10 * GIB, free_bytes=9 * GIB),
            MigInstance(index=1, total_bytes=10 * GIB, free_bytes=None),
        ),
    )
    b = budgets(desktop(gpu))
    assert [(x.device, x.budget_bytes) for x in b[:2]] == [
        ("gpu:0/mig:0", 9 * GIB),
        ("gpu:0/mig:1", None),
    ]


def test_budget_container_limit() -> None:
    snap = SystemSnapshot(
        os=OsInfo(system="Linux"),
        cpu=X86,
        memory=MemoryInfo(
            total_bytes=64 * GIB,
            available_bytes=60 * GIB,
            limit_bytes=4 * GIB,
            limit_used_bytes=GIB,
            limit_source=Source.CGROUP,
        ),
    )
    assert budgets(snap)[-1].budget_bytes == 3 * GIB


def test_apple_budget_is_the_working_set_cap() -> None:
    b = budgets(m2_max_32gib())
    assert b[0].device == "unified:0"
    assert b[0].budget_bytes == 20 * GIB  # min(cap 21.33 GiB, usable RAM 20 GiB)


# --- verdicts ---------------------------------------------------------------------------------


def test_cpu_laptop_small_model_runs_great(m12: ModelVariant) -> None:
    fit = estimate(m12, "Q4_K_M", RunConfig(), laptop_8gib())
    assert fit.verdict is Verdict.RUNS_GREAT
    assert fit.placement is Placement.CPU
    assert fit.gpu_layers == 0
    (cpu,) = fit.devices
    # The AVX2 CPU_REPACK copy (482.62 MiB) is its own term now; the file's tensors leave weights.
    assert cpu.terms.weights_bytes + cpu.terms.repack_bytes == 728_509_440
    assert round(cpu.terms.repack_bytes / MIB, 2) == 482.62
    assert cpu.terms.kv_cache_bytes == 48 * MIB
    assert round(cpu.terms.mmap_cache_bytes / MIB, 2) == 482.62  # repacked Q4_K under mmap
    assert "-ngl 0" in fit.llama_cpp_command
    assert "-dev none" in fit.llama_cpp_command
    assert fit.speed is not None
    assert 0 < fit.speed.low_tokens_per_second < fit.speed.high_tokens_per_second


def test_cpu_laptop_24b_wont_fit(catalog: Catalog) -> None:
    fit = estimate(catalog.variant("lfm2-24b-a2b"), "Q4_K_M", RunConfig(), laptop_8gib())
    assert fit.verdict is Verdict.WONT_FIT
    assert fit.max_context_tokens is None
    assert fit.speed is None
    assert "GiB" in fit.reason


def test_cpu_laptop_tight_without_margin(catalog: Catalog) -> None:
    """LFM2-8B-A1B Q4_K_M (~5.0 GiB in all) fits 5.5 GiB available but not with 1 GiB spare."""
    fit = estimate(catalog.variant("lfm2-8b-a1b"), "Q4_K_M", RunConfig(), laptop_8gib(5.5))
    assert fit.verdict is Verdict.TIGHT


def test_one_24gib_gpu(catalog: Catalog, m12: ModelVariant) -> None:
    machine = desktop(nvidia(0, 23.0))
    fit = estimate(m12, "Q8_0", RunConfig(context_tokens=32768), machine)
    assert fit.verdict is Verdict.RUNS_GREAT
    assert fit.placement is Placement.GPU
    gpu, cpu = fit.devices
    assert gpu.device == "gpu:0"
    assert gpu.terms.kv_cache_bytes == 384 * MIB
    assert gpu.terms.overhead_bytes > 0
    assert cpu.terms.weights_bytes == 65536 * 2048 * 34 // 32  # token_embd Q8_0 stays on host
    assert "-ngl 17" in fit.llama_cpp_command
    assert fit.max_context_tokens == 128_000
    # the 24B F16 (~44 GiB) only fits by sharing with the CPU: every layer on the GPU and the
    # routed experts of the first layers in RAM beats a layer split (issue #12, moe_offload)
    big = estimate(catalog.variant("lfm2-24b-a2b"), "F16", RunConfig(), machine)
    assert big.verdict is Verdict.TIGHT
    assert big.placement is Placement.SPLIT
    assert big.gpu_layers == 41
    assert 1 <= big.n_cpu_moe < 40
    assert f"-ngl 41 --n-cpu-moe {big.n_cpu_moe} " in big.llama_cpp_command


def test_two_gpus_split_by_layer_never_summed(catalog: Catalog) -> None:
    """24B Q8_0 (~23.6 GiB) exceeds either 16 GiB GPU; split by layer it runs on both."""
    machine = desktop(nvidia(0, 15.5, 16), nvidia(1, 15.5, 16), ram_available_gib=12.0)
    fit = estimate(catalog.variant("lfm2-24b-a2b"), "Q8_0", RunConfig(), machine)
    assert fit.placement is Placement.GPU
    assert fit.verdict is Verdict.RUNS_GREAT
    gpu_uses = [d for d in fit.devices if d.device.startswith("gpu:")]
    assert len(gpu_uses) == 2
    assert all(d.terms.total_bytes + GREAT_MARGIN_BYTES <= d.budget_bytes for d in gpu_uses)
    assert sum(d.layers for d in gpu_uses) == 40
    assert "-sm layer -ts" in fit.llama_cpp_command


def test_apple_m2_max(catalog: Catalog) -> None:
    machine = m2_max_32gib()
    fit = estimate(catalog.variant("lfm2-8b-a1b"), "Q8_0", RunConfig(), machine)
    assert fit.verdict is Verdict.RUNS_GREAT
    assert fit.placement is Placement.UNIFIED
    q4 = estimate(catalog.variant("lfm2-24b-a2b"), "Q4_K_M", RunConfig(), machine)
    assert q4.verdict is Verdict.RUNS_GREAT  # 13.4 GiB + 2 GiB margin within the 20 GiB pool
    q6 = estimate(catalog.variant("lfm2-24b-a2b"), "Q6_K", RunConfig(), machine)
    assert q6.verdict is not Verdict.RUNS_GREAT  # 18.2 GiB + margin exceeds it


def test_unknown_budget_is_unknown(m12: ModelVariant) -> None:
    snap = SystemSnapshot(os=OsInfo(system="Linux"), cpu=X86, memory=MemoryInfo())
    fit = estimate(m12, "Q4_K_M", RunConfig(), snap)
    assert fit.verdict is Verdict.UNKNOWN
    assert fit.max_context_tokens is None
    assert fit.placement is Placement.NONE
    assert "RAM" in fit.reason


def test_unknown_gpu_free_memory(catalog: Catalog) -> None:
    """Fits nowhere known with margin and the GPU's free memory is unknown: unknown."""
    unread = GpuInfo(index=0, vendor=GpuVendor.NVIDIA, total_bytes=24 * GIB)
    machine = desktop(unread, ram_available_gib=6.0)
    fit = estimate(catalog.variant("lfm2-8b-a1b"), "Q8_0", RunConfig(), machine)
    assert fit.verdict is Verdict.UNKNOWN
    assert "gpu:0" in fit.reason


def test_cpu_only_while_a_gpu_exists_is_tight(catalog: Catalog) -> None:
    """A GPU too small for even the output layer: the CPU run is tight."""
    machine = desktop(nvidia(0, 0.5, 2))
    fit = estimate(catalog.variant("lfm2-350m"), "Q4_K_M", RunConfig(), machine)
    assert fit.placement is Placement.CPU
    assert fit.verdict is Verdict.TIGHT


def test_device_selection(m12: ModelVariant) -> None:
    machine = desktop(nvidia(0, 23.0))
    assert estimate(m12, "Q4_0", RunConfig(device="cpu"), machine).placement is Placement.CPU
    assert estimate(m12, "Q4_0", RunConfig(device="gpu:0"), machine).placement is Placement.GPU
    missing = estimate(m12, "Q4_0", RunConfig(device="gpu:3"), machine)
    assert missing.verdict is Verdict.UNKNOWN
    assert "gpu:3" in missing.reason


def test_max_context_fits_and_next_step_does_not(catalog: Catalog) -> None:
    machine = laptop_8gib(3.0)
    v = catalog.variant("lfm2-1.2b")
    cfg = RunConfig(flash_attn=False)
    best = max_context(v, "Q8_0", cfg, machine)
    assert best is not None
    assert best % 256 == 0
    assert best < 128_000
    from dataclasses import replace

    assert estimate(v, "Q8_0", replace(cfg, context_tokens=best), machine).verdict in (
        Verdict.RUNS_GREAT,
        Verdict.TIGHT,
    )
    nxt = estimate(v, "Q8_0", replace(cfg, context_tokens=best + 256), machine)
    assert nxt.verdict is Verdict.WONT_FIT


def test_best_quant(catalog: Catalog) -> None:
    v = catalog.variant("lfm2-8b-a1b")
    # 15.5 GiB of F16 fits in 23, but the recommendation stops at Q8_0 quality (same, half size)
    assert best_quant(v, desktop(nvidia(0, 23.0)), RunConfig()) == "Q8_0"
    # 5.5 GiB: no quant runs great, Q4_K_M is the best that is tight (Q4_0 ranks below it)
    assert best_quant(v, laptop_8gib(5.5), RunConfig()) == "Q4_K_M"
    assert best_quant(catalog.variant("lfm2-24b-a2b"), laptop_8gib(2.0), RunConfig()) is None


def test_command_flags(catalog: Catalog) -> None:
    cfg = RunConfig(context_tokens=32768, kv_type=KvType.Q8_0, parallel=2, ubatch=256, mmap=False)
    fit = estimate(catalog.variant("lfm2-vl-1.6b"), "Q4_0", cfg, desktop(nvidia(0, 23.0)))
    cmd = fit.llama_cpp_command
    assert cmd.startswith("llama-server -m LFM2-VL-1.6B-Q4_0.gguf --mmproj mmproj-LFM2-VL-1.6B")
    for flag in ("-c 32768", "-fa on", "-ctk q8_0", "-ctv q8_0", "-np 2", "-kvu", "-ub 256",
                 "-fit off", "--no-mmap"):  # fmt: skip
        assert flag in cmd
    assert any("0c1e57098" in a for a in fit.assumptions)
    assert any("vision projector" in a for a in fit.assumptions)


def test_estimate_all_covers_every_published_quant(catalog: Catalog) -> None:
    fits = estimate_all(catalog, laptop_8gib(), RunConfig())
    assert len(fits) == sum(len(v.quants) for v in catalog.variants)
    assert {f.verdict for f in fits} >= {Verdict.RUNS_GREAT, Verdict.TIGHT, Verdict.WONT_FIT}
    assert all(f.file_size_bytes > 0 for f in fits)


def test_unknown_quant_raises(m12: ModelVariant) -> None:
    with pytest.raises(KeyError):
        estimate(m12, "Q9_9", RunConfig(), laptop_8gib())


# --- calibrated terms and a pinned -ngl ----------------------------------------------------------


def test_gpu_layers_is_validated() -> None:
    with pytest.raises(ValueError, match="gpu layers"):
        RunConfig(gpu_layers=-1)
    with pytest.raises(ValueError, match="device cpu"):
        RunConfig(gpu_layers=4, device="cpu")
    assert RunConfig(gpu_layers=0, device="cpu").gpu_layers == 0


def test_full_offload_terms_are_calibrated(m12: ModelVariant) -> None:
    """CUDA compute (no K/V copy at f16), CUDA_Host on the CPU, CUDA context (+cuBLAS FA off)."""
    machine = desktop(nvidia(0, 23.0))
    fit = estimate(m12, "Q4_K_M", RunConfig(context_tokens=32768), machine)
    gpu, cpu = fit.devices
    assert gpu.terms.overhead_bytes == 598 * MIB
    assert cpu.terms.compute_bytes > 0  # the host-side buffer
    off = estimate(m12, "Q4_K_M", RunConfig(context_tokens=32768, flash_attn=False), machine)
    assert off.devices[0].terms.overhead_bytes == (598 + 95) * MIB
    q8 = estimate(m12, "Q4_K_M", RunConfig(context_tokens=32768, kv_type=KvType.Q8_0), machine)
    assert q8.devices[0].terms.compute_bytes >= gpu.terms.compute_bytes  # f16 K/V copies


def test_ngl0_with_a_gpu_visible_keeps_it_for_the_matmuls(m12: ModelVariant) -> None:
    machine = desktop(nvidia(0, 23.0))
    fit = estimate(m12, "Q4_K_M", RunConfig(gpu_layers=0), machine)
    assert fit.placement is Placement.CPU
    assert fit.gpu_layers == 0
    gpu, cpu = fit.devices
    assert (gpu.device, gpu.layers, gpu.terms.weights_bytes) == ("gpu:0", 0, 0)
    assert gpu.terms.overhead_bytes == 598 * MIB
    assert gpu.terms.compute_bytes > 0
    assert cpu.terms.repack_bytes == 0  # a run that uses a GPU repacks nothing
    assert "-dev none" not in fit.llama_cpp_command
    hidden = estimate(m12, "Q4_K_M", RunConfig(gpu_layers=0, device="cpu"), machine)
    assert [d.device for d in hidden.devices] == ["cpu"]
    assert "-dev none" in hidden.llama_cpp_command


def test_pinned_partial_offload(m12: ModelVariant) -> None:
    fit = estimate(m12, "Q4_K_M", RunConfig(gpu_layers=8), desktop(nvidia(0, 23.0)))
    assert fit.placement is Placement.SPLIT
    assert fit.gpu_layers == 8
    assert fit.verdict is Verdict.TIGHT
    assert fit.devices[0].layers == 7  # 7 layers + the output layer
    assert "-ngl 8" in fit.llama_cpp_command


def test_amx_cpu_repacks_q8_0(m12: ModelVariant) -> None:
    """The probe's "amx" feature: Q8_0 goes to the AMX buffer at 38/34 (1325.25 MiB measured)."""
    base = laptop_8gib(16.0)
    amx = SystemSnapshot(
        os=base.os,
        cpu=CpuInfo(arch="x86_64", features=("avx2", "avx512f", "amx")),
        memory=base.memory,
    )
    (cpu,) = estimate(m12, "Q8_0", RunConfig(), amx).devices
    assert round(cpu.terms.repack_bytes / MIB, 2) == 1325.25
    (plain,) = estimate(m12, "Q8_0", RunConfig(), base).devices
    assert plain.terms.repack_bytes == 0  # AVX2 leaves Q8_0 alone


def test_speed_comes_with_the_two_ends_of_a_conversation(m12: ModelVariant) -> None:
    """Decode on an empty cache is fastest, with the whole context in it slowest; the half-full
    range lies between (each end within the same decode width)."""
    speed = estimate(m12, "Q4_K_M", RunConfig(context_tokens=32768), laptop_8gib()).speed
    assert speed is not None
    ends = (
        speed.empty_low_tokens_per_second,
        speed.empty_high_tokens_per_second,
        speed.full_low_tokens_per_second,
        speed.full_high_tokens_per_second,
    )
    assert None not in ends
    empty_low, empty_high, full_low, full_high = (float(v) for v in ends if v is not None)
    assert full_low < speed.low_tokens_per_second < empty_low
    assert full_high < speed.high_tokens_per_second < empty_high
    assert empty_high / empty_low == pytest.approx(full_high / full_low, rel=0.05)


def test_fit_carries_what_callers_would_recompute(m12: ModelVariant) -> None:
    """The speed names its device and bytes per token; the fit its layers and budgets."""
    machine = desktop(nvidia(0, 20.0))
    whole = estimate(m12, "Q4_K_M", RunConfig(context_tokens=8192), machine)
    assert whole.placement is Placement.GPU
    assert whole.speed is not None
    assert whole.speed.device == "gpu:0"
    assert whole.speed.bandwidth_gb_s == 1008.0
    weights, kv = decode_bytes_per_token(m12, "Q4_K_M", 8192, KvType.F16)
    assert whole.speed.weights_read_bytes_per_token == weights
    assert whole.speed.kv_read_bytes_per_token_full_context == kv == 6 * 2 * 512 * 2 * 8192
    assert whole.speed.depth_tokens == 4096  # decode with the 8,192-token context half full
    assert whole.speed.threads is None  # all on the GPU
    assert (
        whole.speed.prompt_high_tokens_per_second / whole.speed.prompt_low_tokens_per_second
        <= 4.0 + 1e-6
    )
    assert whole.offloadable_layers == m12.architecture.n_layer + 1 == 17
    assert whole.budgets == budgets(machine)
    # Split: the CPU's RAM is the slowest device holding layers; its bandwidth as read (a table
    # peak, which the model counts at 70%) and its device name.
    split = estimate(m12, "Q4_K_M", RunConfig(gpu_layers=5), machine)
    assert split.placement is Placement.SPLIT
    assert split.speed is not None
    assert split.speed.device == "cpu"
    assert (split.speed.bandwidth_gb_s, split.speed.bandwidth_source) == (80.0, "table")
    assert split.speed.threads == (machine.cpu.physical_cores or machine.cpu.logical_cores or 4)
    assert "70%" in split.speed.basis  # the peak is counted as what a copy reaches
    assert split.gpu_layers == 5 < split.offloadable_layers


def test_importing_the_package_loads_only_the_value_types() -> None:
    """``from llmcheck.estimate import RunConfig`` stays cheap: no catalog code until a function
    is used (a fresh interpreter, so other tests' imports do not count)."""
    import subprocess
    import sys

    code = (
        "import sys; from llmcheck.estimate import RunConfig, KvType; "
        "print(sorted(m for m in sys.modules if m.startswith('llmcheck.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['llmcheck.estimate', 'llmcheck.estimate.types']"
