"""MoE experts in RAM (issue #12): ``--n-cpu-moe N`` planned for LFM2-MoE on a small GPU."""

from __future__ import annotations

from dataclasses import replace

import pytest

from llmcheck.catalog import load_catalog
from llmcheck.estimate import Placement, RunConfig, Verdict, estimate
from llmcheck.estimate.budget import _machine
from llmcheck.estimate.moe_offload import (
    SPLIT_CROSSING_SECONDS,
    HybridReads,
    decode_seconds_per_token,
    expert_offload_reads,
    layer_split_reads,
    moved_expert_bytes,
    offload_speed_factor,
)
from llmcheck.estimate.placement import _expert_offload_plan
from llmcheck.snapshot import CpuInfo, GpuInfo, GpuVendor, MemoryInfo, OsInfo, SystemSnapshot

GIB, MIB = 1 << 30, 1 << 20
CATALOG = load_catalog()
A1B = CATALOG.variant("lfm2-8b-a1b")
A2B = CATALOG.variant("lfm2-24b-a2b")


def _box(vram_gib: float, *, gpu_bw: float | None = 900.0) -> SystemSnapshot:
    return SystemSnapshot(
        os=OsInfo(system="Linux"),
        cpu=CpuInfo(arch="x86_64", features=("avx2",)),
        memory=MemoryInfo(total_bytes=65 * GIB, available_bytes=64 * GIB, bandwidth_gb_s=60.0),
        gpus=(
            GpuInfo(
                index=0,
                vendor=GpuVendor.NVIDIA,
                total_bytes=int(vram_gib * GIB) + GIB,
                free_bytes=int(vram_gib * GIB),
                bandwidth_gb_s=gpu_bw,
            ),
        ),
    )


def test_cpu_moe_memory_per_device() -> None:
    """8B-A1B Q4_K_M, every expert in RAM: 362.04 MiB of weights on the GPU (attention, conv,
    dense lead layers, routers, the tied output), 4,446.75 MiB of experts + the 105 MiB
    token_embd on the host."""
    fit = estimate(A1B, "Q4_K_M", RunConfig(), _box(2.5))
    assert fit.n_cpu_moe == 24
    assert "--cpu-moe" in fit.llama_cpp_command
    gpu, cpu = fit.devices
    assert gpu.terms.weights_bytes / MIB == pytest.approx(362.04, abs=0.005)
    assert cpu.terms.weights_bytes / MIB == pytest.approx(4446.75 + 105.00, abs=0.005)
    assert moved_expert_bytes(A1B, "Q4_K_M", 24)[0] / MIB == pytest.approx(4446.75, abs=0.005)
    # The KV cache stays on the GPU; its compute buffer also holds one layer's experts.
    assert gpu.terms.kv_cache_bytes > 0
    assert cpu.terms.kv_cache_bytes == 0
    assert gpu.terms.compute_bytes > moved_expert_bytes(A1B, "Q4_K_M", 24)[1]


@pytest.mark.parametrize(("variant", "vram"), [(A1B, 3.0), (A1B, 4.5), (A2B, 4.0), (A2B, 10.0)])
def test_experts_in_ram_chosen_over_a_layer_split(variant: object, vram: float) -> None:
    v = variant
    fit = estimate(v, "Q4_K_M", RunConfig(), _box(vram))  # type: ignore[arg-type]
    n = v.architecture.n_layer  # type: ignore[attr-defined]
    assert fit.verdict is Verdict.TIGHT
    assert fit.placement is Placement.SPLIT
    assert 0 < fit.n_cpu_moe < n
    assert fit.gpu_layers == n + 1
    assert f"-ngl {n + 1} --n-cpu-moe {fit.n_cpu_moe} " in fit.llama_cpp_command
    assert "in RAM" in fit.reason
    assert any("--n-cpu-moe" in a for a in fit.assumptions)
    # the fewest layers: one layer fewer no longer fits the GPU with the margin
    facts = _machine(_box(vram))
    gpu, cpu = facts.budgets[0], facts.budgets[-1]
    fewer = _expert_offload_plan(v, "Q4_K_M", RunConfig(), gpu, cpu, fit.n_cpu_moe - 1)  # type: ignore[arg-type]
    assert fewer.uses[0][1].total_bytes + gpu.margin_bytes > (gpu.budget_bytes or 0)
    chosen = _expert_offload_plan(v, "Q4_K_M", RunConfig(), gpu, cpu, fit.n_cpu_moe)  # type: ignore[arg-type]
    assert chosen.uses[0][1] == fit.devices[0].terms
    # and it is faster than the layer split the estimator used to pick
    split_ngl = _best_layer_split(v, vram)  # type: ignore[arg-type]
    mine = decode_seconds_per_token(expert_offload_reads(v, "Q4_K_M", fit.n_cpu_moe), 900, 60)  # type: ignore[arg-type]
    theirs = decode_seconds_per_token(layer_split_reads(v, "Q4_K_M", split_ngl), 900, 60)  # type: ignore[arg-type]
    assert mine < theirs
    assert fit.speed is not None
    full = estimate(v, "Q4_K_M", RunConfig(), _box(64.0))  # type: ignore[arg-type]
    assert full.speed is not None
    assert fit.speed.low_tokens_per_second < full.speed.low_tokens_per_second


def _best_layer_split(variant: object, vram: float) -> int:
    fit = estimate(variant, "Q4_K_M", RunConfig(), _box(vram, gpu_bw=None))  # type: ignore[arg-type]
    assert fit.n_cpu_moe == 0  # no bandwidth to compare: the layer split stays
    assert fit.gpu_layers is not None
    return fit.gpu_layers


def test_dense_models_and_roomy_gpus_never_move_experts() -> None:
    dense = estimate(CATALOG.variant("lfm2-2.6b"), "F16", RunConfig(), _box(2.0))
    assert dense.n_cpu_moe == 0
    assert "--n-cpu-moe" not in dense.llama_cpp_command
    roomy = estimate(A1B, "Q4_K_M", RunConfig(), _box(16.0))
    assert roomy.placement is Placement.GPU
    assert roomy.n_cpu_moe == 0


def test_max_context_with_experts_in_ram_is_consistent() -> None:
    fit = estimate(A1B, "Q4_K_M", RunConfig(context_tokens=4096), _box(3.0))
    assert fit.max_context_tokens is not None
    at_max = estimate(A1B, "Q4_K_M", RunConfig(context_tokens=fit.max_context_tokens), _box(3.0))
    assert at_max.verdict is Verdict.TIGHT


def test_decode_model_arithmetic() -> None:
    reads = HybridReads(gpu_bytes=900 * 10**6, cpu_bytes=60 * 10**6, crossings=10)
    assert decode_seconds_per_token(reads, 900.0, 60.0) == pytest.approx(
        0.001 + 0.001 + 10 * SPLIT_CROSSING_SECONDS
    )
    with pytest.raises(ValueError, match="positive"):
        decode_seconds_per_token(reads, 0.0, 60.0)
    # all on the GPU: nothing read from RAM, no crossing; factor 1 with no expert moved
    full = layer_split_reads(A1B, "Q4_K_M", 25)
    assert (full.cpu_bytes, full.crossings) == (0, 0)
    assert offload_speed_factor(A1B, "Q4_K_M", 0, 900.0, 60.0) == 1.0
    # active experts only: 4 of 32 per token
    moved = expert_offload_reads(A1B, "Q4_K_M", 24)
    assert moved.cpu_bytes == sum(
        e * 4 // 32
        for e in [
            moved_expert_bytes(A1B, "Q4_K_M", i + 1)[0] - moved_expert_bytes(A1B, "Q4_K_M", i)[0]
            for i in range(24)
        ]
    )
    assert moved.crossings == 2 * 22  # the 22 MoE layers


def test_forced_gpu_layers_are_left_alone() -> None:
    fit = estimate(A1B, "Q4_K_M", replace(RunConfig(), gpu_layers=10), _box(3.0))
    assert fit.n_cpu_moe == 0
