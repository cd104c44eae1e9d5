"""``llmcheck scan`` and ``--scan`` (issue #12): the LFM2-family GGUF files of a fake home, each
with its verdict; the skips noted; ``local_models`` in ``--json`` only when asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from llmcheck import cli, cli_files
from tests.gguf import _make as m
from tests.gguf.stores import store_home
from tests.helpers import SNAPSHOT_DIR, validator_for
from tests.helpers import run_cli as run

MACHINE = str(SNAPSHOT_DIR / "one-nvidia.json")
STORE_VARIABLES = (
    "XDG_CACHE_HOME",
    "LLAMA_CACHE",
    "HF_HOME",
    "HF_HUB_CACHE",
    "OLLAMA_MODELS",
    "LOCALAPPDATA",
)
EXPECTED = [
    ("huggingface", "unsloth/LFM2-1.2B-GGUF/LFM2-1.2B-UD-Q3_K_XL.gguf", "model"),
    (
        "llama.cpp",
        "LiquidAI_LFM2-8B-A1B-GGUF_LFM2-8B-A1B-Q4_K_M-00001-of-00003.gguf (split)",
        "model",
    ),
    ("lm-studio", "LiquidAI/LFM2-1.2B-GGUF/LFM2-1.2B-Q4_K_M.gguf", "model"),
    ("lm-studio", "LiquidAI/LFM2-VL-1.6B-GGUF/LFM2-VL-1.6B-Q8_0.gguf", "model"),
    ("lm-studio", "LiquidAI/LFM2-VL-1.6B-GGUF/mmproj-LFM2-VL-1.6B-F16.gguf", "projector"),
    ("ollama", "hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M", "model"),
    ("ollama", "hf.co/LiquidAI/LFM2-VL-1.6B-GGUF:latest", "model"),
    ("ollama", "hf.co/LiquidAI/LFM2-VL-1.6B-GGUF:latest (projector)", "projector"),
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The fake home with every store's layout (tests/gguf/stores.py)."""
    return store_home(tmp_path)


@pytest.fixture
def at_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``home`` as this user's home folder, with no store moved by the environment."""
    monkeypatch.setenv("HOME", str(home))
    for name in STORE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli_files, "SYSTEM_ROOT", home.parent / "root")
    return home


def scan_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run([*argv, "--snapshot", MACHINE, "--json"], capsys)
    assert code == cli.EXIT_OK, err
    doc: dict[str, Any] = json.loads(out)
    validator_for(strict=True).validate(doc)
    return doc


def test_scan_lists_exactly_the_lfm2_files_with_verdicts(
    at_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = scan_json(["scan"], capsys)
    assert doc["kind"] == "scan"
    found = sorted((f["store"], f["label"], f["kind"]) for f in doc["local_models"])
    assert found == EXPECTED
    for f in doc["local_models"]:
        if f["kind"] == "model":
            assert f["error"] is None
            assert f["model"]["verdict"] == "runs_great", f["label"]
            assert f["model"]["source_file"]["path"] == f["path"]
            assert f["model"]["context_tokens"] == 4096
        else:
            assert f["model"] is None
    by_label = {f["label"]: f for f in doc["local_models"]}
    vl = by_label["LiquidAI/LFM2-VL-1.6B-GGUF/LFM2-VL-1.6B-Q8_0.gguf"]
    assert vl["model"]["source_file"]["projector_path"] == vl["projector_path"]
    assert "--mmproj" in vl["model"]["llama_cpp_command"]
    ud = by_label["unsloth/LFM2-1.2B-GGUF/LFM2-1.2B-UD-Q3_K_XL.gguf"]
    assert ud["model"]["published"] is False
    scan = doc["scan"]
    assert scan["other_architecture_files"] == 2
    assert scan["complete"] is True
    assert {f["store"] for f in scan["folders"]} == {
        "lm-studio",
        "llama.cpp",
        "huggingface",
        "ollama",
    }
    assert any("symlink loop" in n["message"] for n in scan["notes"])


def test_scan_text_shows_files_and_notes(at_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["scan", "--snapshot", MACHINE], capsys)
    assert code == cli.EXIT_OK, err
    assert "On this machine: 6 LFM2-family model files" in out
    assert "LiquidAI/LFM2-1.2B-GGUF/LFM2-1.2B-Q4_K_M.gguf" in out
    assert "hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M" in out
    assert "2 GGUF files of other architectures not listed" in out
    assert "symlink loop" in out
    assert "runs great" in out


def test_added_folder_and_context(
    at_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = tmp_path / "mine"
    extra.mkdir()
    m.write_lfm2(extra / "my-finetune-Q4_K_M.gguf", m.with_(m.TINY, context=8192))
    doc = scan_json(["scan", "--folder", str(extra), "--ctx", "32k"], capsys)
    mine = [f for f in doc["local_models"] if f["store"] == "folder"]
    assert [f["label"] for f in mine] == ["my-finetune-Q4_K_M.gguf"]
    assert mine[0]["model"]["context_tokens"] == 8192  # the file's own longest
    assert doc["settings"]["context_tokens"] == 32768
    assert str(extra) in [f["path"] for f in doc["scan"]["folders"]]
    missing = scan_json(["scan", "--folder", str(tmp_path / "nowhere")], capsys)
    assert any("not a folder" in n["message"] for n in missing["scan"]["notes"])


def test_report_has_local_models_only_when_asked(
    at_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = scan_json([], capsys)
    assert "local_models" not in plain
    assert "scan" not in plain
    asked = scan_json(["--scan"], capsys)
    assert sorted((f["store"], f["label"], f["kind"]) for f in asked["local_models"]) == EXPECTED
    assert asked["models"] == plain["models"]
    assert list(asked)[-1] == "problems"
    code, out, _ = run(["--scan", "--snapshot", MACHINE], capsys)
    assert code == cli.EXIT_OK
    assert "On this machine: 6 LFM2-family model files" in out


def test_scan_usage_errors(at_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["--folder", "/tmp", "--snapshot", MACHINE], capsys)
    assert code == cli.EXIT_USAGE
    assert "--scan" in err


def test_empty_home_says_where_to_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in STORE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli_files, "SYSTEM_ROOT", tmp_path / "root")
    code, out, _ = run(["scan", "--snapshot", MACHINE], capsys)
    assert code == cli.EXIT_OK
    assert "On this machine: 0 LFM2-family model files" in out
    assert "--folder DIR" in out


def test_scan_in_a_real_process_is_bounded(at_home: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in (*STORE_VARIABLES, "DISPLAY", "WAYLAND_DISPLAY")
    }
    env["HOME"] = str(at_home)
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "llmcheck", "scan", "--snapshot", MACHINE, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    elapsed = time.monotonic() - start
    assert done.returncode == cli.EXIT_OK, done.stderr
    doc = json.loads(done.stdout)
    assert {f["label"] for f in doc["local_models"]} >= {e[1] for e in EXPECTED}
    assert doc["scan"]["elapsed_s"] < 10  # the scan's own deadline
    assert elapsed < 60


def test_markdown_lists_local_models(at_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from llmcheck.render.markdown import report_markdown

    page = report_markdown(scan_json(["--scan"], capsys))
    section = page.split("## On this machine", 1)[1]
    assert "LiquidAI/LFM2-1.2B-GGUF/LFM2-1.2B-Q4\\_K\\_M.gguf" in section or (
        "LFM2-1.2B-Q4_K_M.gguf" in section
    )
    assert "(community)" in section
    assert "## On this machine" not in report_markdown(scan_json([], capsys))
