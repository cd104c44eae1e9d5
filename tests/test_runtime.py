"""The runtime people use (issue #12): the config each runs, its command, its assumptions."""

from __future__ import annotations

import shlex

import pytest

from llmcheck.catalog import load_catalog
from llmcheck.estimate import FrontEnd, KvType, Placement, RunConfig, estimate
from llmcheck.estimate.memory import compute_bytes
from llmcheck.estimate.runtime import (
    Runtime,
    runtime_assumptions,
    runtime_command,
    runtime_config,
)
from llmcheck.snapshot import CpuInfo, GpuInfo, GpuVendor, MemoryInfo, OsInfo, SystemSnapshot

GIB = 1 << 30
CATALOG = load_catalog()
M12 = CATALOG.variant("lfm2-1.2b")
A1B = CATALOG.variant("lfm2-8b-a1b")


def _box(vram_gib: float | None) -> SystemSnapshot:
    gpus = ()
    if vram_gib is not None:
        gpus = (
            GpuInfo(
                index=0,
                vendor=GpuVendor.NVIDIA,
                total_bytes=int(vram_gib * GIB) + GIB,
                free_bytes=int(vram_gib * GIB),
                bandwidth_gb_s=900.0,
            ),
        )
    return SystemSnapshot(
        os=OsInfo(system="Linux"),
        cpu=CpuInfo(arch="x86_64", features=("avx2",)),
        memory=MemoryInfo(total_bytes=33 * GIB, available_bytes=32 * GIB, bandwidth_gb_s=60.0),
        gpus=gpus,
    )


def test_llama_cpp_python_reserves_a_batch_of_logits() -> None:
    config = runtime_config(RunConfig(), Runtime.LLAMA_CPP_PYTHON)
    assert config.front_end is FrontEnd.LIBLLAMA
    server = estimate(M12, "Q4_K_M", RunConfig(), _box(24.0))
    python = estimate(M12, "Q4_K_M", config, _box(24.0))
    # the compute term distinguishes the front ends (measured: docs/llama-cpp-memory.md)
    assert python.devices[0].terms.compute_bytes > server.devices[0].terms.compute_bytes
    assert compute_bytes(M12.architecture, 4096, n_outputs=512) > compute_bytes(
        M12.architecture, 4096, n_outputs=1
    )
    cmd = runtime_command(python, M12, Runtime.LLAMA_CPP_PYTHON)
    assert cmd.startswith("python -m llama_cpp.server --hf_model_repo_id LiquidAI/LFM2-1.2B-GGUF")
    assert "--n_ctx 4096 --n_gpu_layers 17 --n_ubatch 512 --flash_attn true" in cmd
    q8 = estimate(M12, "Q4_K_M", RunConfig(kv_type=KvType.Q8_0), _box(24.0))
    assert "--type_k 8 --type_v 8" in runtime_command(q8, M12, Runtime.LLAMA_CPP_PYTHON)
    assert any(
        "whole micro-batch" in a for a in runtime_assumptions(python, Runtime.LLAMA_CPP_PYTHON)
    )


@pytest.mark.parametrize(
    ("ctx", "ubatch"), [(4096, 512), (8192, 1024), (32768, 1024), (65536, 2048)]
)
def test_ollama_batch_grows_with_the_context(ctx: int, ubatch: int) -> None:
    assert runtime_config(RunConfig(context_tokens=ctx), Runtime.OLLAMA).ubatch == ubatch


def test_ollama_command_sets_num_ctx_and_num_gpu() -> None:
    fit = estimate(
        M12, "Q4_K_M", runtime_config(RunConfig(context_tokens=8192), Runtime.OLLAMA), _box(24.0)
    )
    cmd = runtime_command(fit, M12, Runtime.OLLAMA)
    serve, run = cmd.split("\n")
    assert serve == "OLLAMA_FLASH_ATTENTION=1 ollama serve"
    assert run.startswith("ollama run hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M")
    assert "/set parameter num_ctx 8192" in run
    assert "/set parameter num_gpu 17" in run
    notes = runtime_assumptions(fit, Runtime.OLLAMA)
    assert any("-b/-ub 1024" in a for a in notes)
    q4 = estimate(M12, "Q4_K_M", RunConfig(kv_type=KvType.Q4_0, parallel=2), _box(24.0))
    serve = runtime_command(q4, M12, Runtime.OLLAMA).split("\n")[0]
    assert serve == (
        "OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE=q4_0 OLLAMA_NUM_PARALLEL=2 ollama serve"
    )


def test_ollama_own_file_goes_through_a_modelfile() -> None:
    fit = estimate(M12, "Q4_K_M", RunConfig(), _box(24.0))
    cmd = runtime_command(fit, M12, Runtime.OLLAMA, model_file="/models/my file.gguf")
    line = cmd.split("\n")[1]
    words = shlex.split(line.split(" > ")[0])
    assert words == [
        "printf",
        "%s\\n",
        "FROM /models/my file.gguf",
        "PARAMETER num_ctx 4096",
        "PARAMETER num_gpu 17",
    ]
    assert line.endswith("ollama create lfm2-1.2b -f Modelfile && ollama run lfm2-1.2b")


@pytest.mark.parametrize(
    ("vram", "ngl", "gpu"), [(24.0, None, "max"), (None, None, "off"), (24.0, 8, "0.47")]
)
def test_lm_studio_gpu_fraction(vram: float | None, ngl: int | None, gpu: str) -> None:
    fit = estimate(M12, "Q8_0", RunConfig(gpu_layers=ngl), _box(vram))
    cmd = runtime_command(fit, M12, Runtime.LM_STUDIO)
    assert cmd.startswith(
        "lms load LiquidAI/LFM2-1.2B-GGUF/LFM2-1.2B-Q8_0.gguf --context-length 4096 --gpu "
    )
    assert cmd.split("--gpu ")[1] == gpu
    if ngl is not None:
        assert fit.placement is Placement.SPLIT


def test_llama_server_is_the_estimate_command_and_moe_notes() -> None:
    fit = estimate(A1B, "Q4_K_M", RunConfig(), _box(3.0))
    assert runtime_command(fit, A1B, Runtime.LLAMA_SERVER) == fit.llama_cpp_command
    assert runtime_assumptions(fit, Runtime.LLAMA_SERVER) == ()
    assert fit.n_cpu_moe > 0
    for runtime in (Runtime.OLLAMA, Runtime.LM_STUDIO, Runtime.LLAMA_CPP_PYTHON):
        assert any("no --n-cpu-moe" in a for a in runtime_assumptions(fit, runtime))
