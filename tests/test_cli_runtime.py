"""``--runtime`` and MoE experts on the CPU on the command line (issue #12): the printed command
matches the runtime (text and JSON), its assumptions are listed, and ``n_cpu_moe`` is said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmcheck import cli
from llmcheck.catalog import load_catalog
from llmcheck.estimate import RunConfig, estimate
from llmcheck.estimate.runtime import Runtime, runtime_command, runtime_config
from llmcheck.snapshot import read_snapshot_file
from tests.gguf import _make as m
from tests.helpers import SNAPSHOT_DIR, validator_for
from tests.helpers import run_cli as run

MACHINE = str(SNAPSHOT_DIR / "one-nvidia.json")
CPU_ONLY = str(SNAPSHOT_DIR / "cpu-laptop.json")


def check(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run(["check", *argv, "--json"], capsys)
    assert code in (cli.EXIT_OK, cli.EXIT_WONT_FIT), err
    doc: dict[str, Any] = json.loads(out)
    validator_for(strict=True).validate(doc)
    return doc


@pytest.mark.parametrize(
    ("runtime", "starts"),
    [
        ("llama-server", "llama-server -m LFM2-1.2B-Q4_K_M.gguf"),
        ("llama-cpp-python", "python -m llama_cpp.server --hf_model_repo_id LiquidAI/LFM2-1.2B"),
        ("ollama", "OLLAMA_FLASH_ATTENTION=1 ollama serve\nollama run hf.co/LiquidAI/LFM2-1.2B"),
        ("lm-studio", "lms load LiquidAI/LFM2-1.2B-GGUF/LFM2-1.2B-Q4_K_M.gguf --context-length"),
    ],
)
def test_command_matches_the_runtime(
    capsys: pytest.CaptureFixture[str], runtime: str, starts: str
) -> None:
    doc = check(
        ["lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "8k", "--runtime", runtime, "--snapshot", MACHINE],
        capsys,
    )
    model = doc["model"]
    assert doc["settings"]["runtime"] == runtime
    assert model["runtime_command"].startswith(starts)
    # The JSON command is the runtime module's, for the config that runtime runs.
    catalog = load_catalog()
    variant = catalog.variant("lfm2-1.2b")
    config = runtime_config(RunConfig(context_tokens=8192), Runtime(runtime))
    fit = estimate(variant, "Q4_K_M", config, read_snapshot_file(MACHINE))
    assert model["runtime_command"] == runtime_command(fit, variant, Runtime(runtime))
    assert model["llama_cpp_command"] == fit.llama_cpp_command
    if runtime == "llama-server":
        assert model["runtime_command"] == model["llama_cpp_command"]
        assert not any("runtime" in a for a in model["assumptions"])
    else:
        assert any(
            a.startswith(f"{runtime}: memory from llama.cpp's rules") for a in model["assumptions"]
        )
    code, out, _ = run(
        [
            "check",
            "lfm2-1.2b",
            "-q",
            "Q4_K_M",
            "--ctx",
            "8k",
            "--runtime",
            runtime,
            "--snapshot",
            MACHINE,
        ],
        capsys,
    )
    assert code == cli.EXIT_OK
    label = "llama.cpp" if runtime == "llama-server" else runtime
    shown = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith(f"  {label}: ")]
    # One printed line per command line (runs of spaces print as one).
    assert [" ".join(line.split()) for line in shown] == [
        " ".join(line.split()) for line in model["runtime_command"].splitlines()
    ]


def test_llama_cpp_python_reserves_more(capsys: pytest.CaptureFixture[str]) -> None:
    server = check(["lfm2-1.2b", "-q", "Q4_K_M", "--snapshot", MACHINE], capsys)
    python = check(
        ["lfm2-1.2b", "-q", "Q4_K_M", "--runtime", "llama-cpp-python", "--snapshot", MACHINE],
        capsys,
    )
    assert python["settings"]["front_end"] == "libllama"
    assert python["model"]["memory"]["total_bytes"] > server["model"]["memory"]["total_bytes"]


def test_ollama_with_a_file_goes_through_a_modelfile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (path,) = m.write_lfm2(tmp_path / "LFM2-Tiny-Q4_K_M.gguf")
    doc = check([str(path), "--runtime", "ollama", "--snapshot", MACHINE], capsys)
    assert f"FROM {path}" in doc["model"]["runtime_command"]
    assert "ollama create" in doc["model"]["runtime_command"]


def test_runtime_on_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--runtime", "lm-studio", "--snapshot", MACHINE, "--json"], capsys)
    assert code == cli.EXIT_OK, err
    doc = json.loads(out)
    validator_for(strict=True).validate(doc)
    assert doc["settings"]["runtime"] == "lm-studio"
    assert all(mo["runtime_command"].startswith("lms load ") for mo in doc["models"])
    code, _, err = run(["--runtime", "vllm", "--snapshot", MACHINE], capsys)
    assert code == cli.EXIT_USAGE


def test_moe_experts_in_ram(capsys: pytest.CaptureFixture[str]) -> None:
    doc = check(
        ["lfm2-8b-a1b", "-q", "Q4_K_M", "--gpu-memory", "3G", "--what-if", "rtx-4090"], capsys
    )
    model = doc["model"]
    n = model["n_cpu_moe"]
    assert n > 0
    assert f"--n-cpu-moe {n}" in model["llama_cpp_command"]
    code, out, _ = run(
        ["check", "lfm2-8b-a1b", "-q", "Q4_K_M", "--gpu-memory", "3G", "--what-if", "rtx-4090"],
        capsys,
    )
    assert code == cli.EXIT_OK
    assert f"experts of {n} layers in RAM" in out
    dense = check(["lfm2-1.2b", "-q", "Q4_K_M", "--snapshot", MACHINE], capsys)["model"]
    assert dense["n_cpu_moe"] == 0
    code, out, _ = run(["check", "lfm2-1.2b", "-q", "Q4_K_M", "--snapshot", MACHINE], capsys)
    assert "layers in RAM" not in out
    cpu = check(["lfm2-8b-a1b", "-q", "Q4_K_M", "--snapshot", CPU_ONLY], capsys)["model"]
    assert cpu["n_cpu_moe"] == 0
