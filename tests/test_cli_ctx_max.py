"""`--ctx max`: each model's own longest context (LFM2: 128,000, less than "128k" = 131,072)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmcheck.cli import EXIT_OK, EXIT_USAGE, main

SNAPSHOT = str(Path(__file__).parent / "data" / "snapshots" / "one-nvidia.json")


def test_check_with_ctx_max_answers_at_the_models_maximum(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "max", "--snapshot", SNAPSHOT, "--json"]
    )
    assert code == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["settings"]["context_tokens"] == 128000
    assert " -c 128000 " in doc["model"]["llama_cpp_command"]


def test_report_with_ctx_max_caps_each_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ctx", "MAX", "--snapshot", SNAPSHOT, "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    longest = max(m["max_context"] or 0 for m in doc["models"])
    assert doc["settings"]["context_tokens"] >= 128000
    assert longest <= doc["settings"]["context_tokens"]
    commands = [m["llama_cpp_command"] for m in doc["models"] if m["variant"] == "lfm2-1.2b"]
    assert commands
    assert all(" -c 128000 " in c for c in commands)


def test_128k_above_the_maximum_points_to_max(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "128k", "--snapshot", SNAPSHOT])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--ctx max" in err
