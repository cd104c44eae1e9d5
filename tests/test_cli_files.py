"""A GGUF file as the question on the command line (issue #12): ``llmcheck check PATH.gguf``.

Synthetic files are written with llama.cpp's own ``gguf`` package (full-size headers, sparse data):
a file whose tensors are a catalog variant x quant gets the catalog's answer; a split file reads as
one; the vision projector beside the model is paired; anything else is one line and exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcheck import cli
from llmcheck.catalog import load_catalog, variant_tensors
from tests.gguf import _make as m
from tests.helpers import SNAPSHOT_DIR, validator_for
from tests.helpers import run_cli as run

CATALOG = load_catalog()
MACHINE = str(SNAPSHOT_DIR / "one-nvidia.json")
# The parts of a check that name the files asked about (the rest is the catalog's answer).
FILE_FIELDS = ("llama_cpp_command", "runtime_command", "source_file", "published")


def write_catalog_file(
    folder: Path, variant_id: str, quant: str, *, split: int = 0, name: str | None = None
) -> list[Path]:
    """The catalog's ``variant_id`` x ``quant`` as a GGUF file, typed by llama-quantize's rules."""
    variant = CATALOG.variant(variant_id)
    plan = {
        t.name: t.ggml_type
        for t in variant_tensors(variant.architecture, quant, variant.quant_table)
    }
    return m.write_lfm2(
        folder / (name or variant.gguf_file_name(quant)),
        m.spec_of(variant.architecture, variant.name, size_label="", file_type=None),
        types=lambda n, s: plan[n],
        split_max_tensors=split,
    )


def check_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run(["check", *argv, "--snapshot", MACHINE, "--json"], capsys)
    assert code == cli.EXIT_OK, err
    doc: dict[str, Any] = json.loads(out)
    validator_for(strict=True).validate(doc)
    return doc


def without_files(model: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in model.items() if k not in FILE_FIELDS}


@pytest.mark.parametrize(
    ("variant_id", "quant"),
    [("lfm2-1.2b", "Q4_K_M"), ("lfm2-350m", "Q8_0"), ("lfm2-8b-a1b", "Q4_K_M")],
)
def test_catalog_file_gives_the_catalog_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], variant_id: str, quant: str
) -> None:
    (path,) = write_catalog_file(tmp_path, variant_id, quant)
    for ctx in ("4096", "32k"):
        got = check_json([str(path), "--ctx", ctx], capsys)
        want = check_json([variant_id, "-q", quant, "--ctx", ctx], capsys)
        assert without_files(got["model"]) == without_files(want["model"])
        assert got["settings"] == want["settings"]
        source = got["model"]["source_file"]
        assert source["matches_catalog"] is True
        assert source["catalog_variant"] == variant_id
        assert source["path"] == str(path)
        assert f"-m {path}" in got["model"]["llama_cpp_command"]
        assert got["model"]["published"] is True
        assert want["model"]["source_file"] is None


def test_split_file_reads_as_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (whole,) = write_catalog_file(tmp_path, "lfm2-1.2b", "Q4_K_M")
    split_dir = tmp_path / "split"
    split_dir.mkdir()
    parts = write_catalog_file(split_dir, "lfm2-1.2b", "Q4_K_M", split=60)
    assert len(parts) >= 3
    assert parts[0].name.endswith(f"-00001-of-0000{len(parts)}.gguf")
    got = check_json([str(parts[0])], capsys)
    want = check_json([str(whole)], capsys)
    assert got["model"]["memory"] == want["model"]["memory"]
    assert got["model"]["verdict"] == want["model"]["verdict"]
    assert got["model"]["source_file"]["matches_catalog"] is True


def test_community_file_is_answered_from_its_own_tensors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (path,) = m.write_lfm2(tmp_path / "LFM2-1.2B-UD-Q4_K_XL.gguf", m.LFM2_1_2B)
    doc = check_json([str(path)], capsys)
    model = doc["model"]
    assert model["quant"] == "UD-Q4_K_XL"
    assert model["published"] is False
    assert model["source_file"]["matches_catalog"] is False
    code, out, _ = run(["check", str(path), "--snapshot", MACHINE], capsys)
    assert code == cli.EXIT_OK
    assert "community quant: not published by Liquid AI" in out
    assert f"file: {path}" in out


def test_projector_beside_the_model_is_paired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (model,) = m.write_lfm2(tmp_path / "LFM2-Tiny-Q4_K_M.gguf")
    alone = check_json([str(model)], capsys)["model"]
    projector = m.write_projector(tmp_path / "mmproj-LFM2-Tiny-F16.gguf")
    paired = check_json([str(model)], capsys)["model"]
    assert paired["source_file"]["projector_path"] == str(projector)
    assert paired["memory"]["total_bytes"] > alone["memory"]["total_bytes"]
    assert f"--mmproj {projector}" in paired["llama_cpp_command"]
    # The same file given by hand (from elsewhere) is the same answer.
    other = tmp_path / "other"
    other.mkdir()
    moved = m.write_projector(other / "vision.gguf")
    given_ = check_json([str(model), "--mmproj", str(moved)], capsys)["model"]
    assert given_["source_file"]["projector_path"] == str(moved)
    assert given_["memory"]["total_bytes"] == paired["memory"]["total_bytes"]


def _one_line_usage(code: int, out: str, err: str) -> str:
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_wrong_files_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = m.write_other(tmp_path / "Qwen3-0.6B-Q4_K_M.gguf", "qwen3")
    err = _one_line_usage(*run(["check", str(other), "--snapshot", MACHINE], capsys))
    assert "qwen3" in err
    (model,) = m.write_lfm2(tmp_path / "LFM2-Tiny-Q4_K_M.gguf")
    data = model.read_bytes()
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(data[:200])
    _one_line_usage(*run(["check", str(truncated), "--snapshot", MACHINE], capsys))
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_bytes(b"hello world, not a model\n" * 4)
    _one_line_usage(*run(["check", str(not_gguf), "--snapshot", MACHINE], capsys))
    projector = m.write_projector(tmp_path / "mmproj-x.gguf")
    err = _one_line_usage(*run(["check", str(projector), "--snapshot", MACHINE], capsys))
    assert "projector" in err
    err = _one_line_usage(
        *run(["check", str(model), "--mmproj", str(model), "--snapshot", MACHINE], capsys)
    )
    assert "not a vision projector" in err
    err = _one_line_usage(*run(["check", str(model), "-q", "Q8_0", "--snapshot", MACHINE], capsys))
    assert "-q" in err
    err = _one_line_usage(*run(["check", str(tmp_path), "--snapshot", MACHINE], capsys))
    assert "llmcheck scan --folder" in err
    err = _one_line_usage(
        *run(
            [
                "check",
                "lfm2-1.2b",
                "-q",
                "Q4_K_M",
                "--mmproj",
                str(projector),
                "--snapshot",
                MACHINE,
            ],
            capsys,
        )
    )
    assert "--mmproj" in err


def test_missing_path_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = _one_line_usage(
        *run(["check", str(tmp_path / "gone" / "model.gguf"), "--snapshot", MACHINE], capsys)
    )
    assert "no such file" in err
    # A bare file name that is not here is a name people paste, resolved offline.
    assert "unknown variant" in _one_line_usage(
        *run(["check", "Qwen3-8B-Q4_K_M.gguf", "--snapshot", MACHINE], capsys)
    )


def test_a_hostile_file_through_a_real_process(tmp_path: Path) -> None:
    (model,) = m.write_lfm2(tmp_path / "LFM2-Tiny-Q4_K_M.gguf")
    data = bytearray(model.read_bytes()[:4096])
    data[8:16] = (2**63).to_bytes(8, "little")  # tensor count: absurd
    hostile = tmp_path / "hostile.gguf"
    hostile.write_bytes(bytes(data))
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    for path in (hostile, m.write_other(tmp_path / "other.gguf", "llama")):
        done = subprocess.run(
            [sys.executable, "-m", "llmcheck", "check", str(path), "--snapshot", MACHINE],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        assert done.returncode == cli.EXIT_USAGE, done.stderr
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1, done.stderr
        assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("seed")
    (path,) = m.write_lfm2(folder / "seed.gguf", m.with_(m.TINY_MOE, tokens=300))
    return path.read_bytes()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    at=st.integers(min_value=4, max_value=6000),
    chunk=st.binary(min_size=1, max_size=16),
    cut=st.booleans(),
)
def test_fuzzed_headers_never_trace(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    seed: bytes,
    at: int,
    chunk: bytes,
    cut: bool,
) -> None:
    data = bytearray(seed)
    at = min(at, len(data) - 1)
    data[at : at + len(chunk)] = chunk
    if cut:
        data = data[: at + len(chunk)]
    path = tmp_path / "fuzz.gguf"
    path.write_bytes(bytes(data))
    code, out, err = run(["check", str(path), "--snapshot", MACHINE], capsys)
    assert code in (cli.EXIT_OK, cli.EXIT_WONT_FIT, cli.EXIT_USAGE, cli.EXIT_BUDGET_UNKNOWN), err
    assert "Traceback" not in err
    if code == cli.EXIT_USAGE:
        assert err.count("\n") == 1
        assert out == ""
