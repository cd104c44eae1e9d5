"""The window's own-file questions and background bandwidth, without Qt (llmcheck.session_files)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from llmcheck.catalog import load_catalog
from llmcheck.estimate import RunConfig, estimate
from llmcheck.machines import load_machines, machine_snapshot
from llmcheck.probe.bandwidth_measure import BandwidthMeasurement
from llmcheck.session_files import (
    UnansweredFileError,
    answer_file,
    is_gguf_path,
    scan_answers,
    with_cached_bandwidth,
)
from llmcheck.snapshot import Source, SystemSnapshot
from tests.gguf import _make as m
from tests.helpers import fake_measurement

CATALOG = load_catalog()
GPU_BOX = machine_snapshot(next(x for x in load_machines() if x.id == "rtx-4090"))


def laptop() -> SystemSnapshot:
    """A CPU laptop as the probe reads it live: RAM bandwidth from the class table, a range."""
    snapshot = machine_snapshot(next(x for x in load_machines() if x.id == "cpu-laptop-16g"))
    memory = dataclasses.replace(
        snapshot.memory, bandwidth_gb_s=60.0, bandwidth_low_gb_s=50.0, bandwidth_high_gb_s=70.0
    )
    cpu = dataclasses.replace(snapshot.cpu, brand="Test CPU 9000", logical_cores=2)
    return dataclasses.replace(snapshot, memory=memory, cpu=cpu, source=Source.MEASURED)


def test_a_catalog_file_gets_the_catalog_answer(tmp_path: Path) -> None:
    path = m.catalog_file(tmp_path)
    config = RunConfig(context_tokens=8192)
    got = answer_file(path, config, GPU_BOX, CATALOG)
    want = estimate(CATALOG.variant("lfm2-1.2b"), "Q4_K_M", config, GPU_BOX)
    assert got.fit.verdict == want.verdict
    assert got.fit.total_bytes == want.total_bytes
    assert f"-m {path}" in got.fit.llama_cpp_command
    assert "identical to the catalog" in got.how
    assert got.projector_path is None


def test_a_tiny_lfm2_file_is_answered_from_its_own_tensors(tmp_path: Path) -> None:
    (path,) = m.write_lfm2(tmp_path / "tiny-Q4_K_M.gguf")
    got = answer_file(path, RunConfig(), GPU_BOX, CATALOG)
    assert str(got.fit.verdict) == "runs_great"
    assert "own tensor types" in got.how


def test_its_projector_beside_it_is_paired(tmp_path: Path) -> None:
    (path,) = m.write_lfm2(tmp_path / "tiny-Q4_K_M.gguf")
    projector = m.write_projector(tmp_path / "mmproj-tiny-F16.gguf")
    got = answer_file(path, RunConfig(), GPU_BOX, CATALOG)
    assert got.projector_path == projector
    assert f"--mmproj {projector}" in got.fit.llama_cpp_command


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: m.write_other(d / "qwen.gguf"), "qwen3"),
        (lambda d: _truncated(d), "truncated.gguf"),
        (lambda d: _written(d / "notes.gguf", b"hello"), "notes.gguf"),
        (lambda d: d / "missing.gguf", "missing.gguf"),
        (lambda d: m.write_projector(d / "mmproj-x.gguf"), "vision projector"),
    ],
)
def test_a_file_without_an_answer_is_one_line(tmp_path: Path, make, words: str) -> None:
    path = make(tmp_path)
    with pytest.raises(UnansweredFileError) as caught:
        answer_file(path, RunConfig(), GPU_BOX, CATALOG)
    message = str(caught.value)
    assert words in message
    assert "\n" not in message
    assert "Traceback" not in message


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated(d: Path) -> Path:
    (whole,) = m.write_lfm2(d / "whole.gguf")
    return _written(d / "truncated.gguf", whole.read_bytes()[:200])


def test_is_gguf_path() -> None:
    assert is_gguf_path("a/LFM2-1.2B-Q4_K_M.GGUF")
    assert not is_gguf_path("a/readme.md")


def test_scan_answers_each_lfm2_file_and_notes_the_rest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = home / ".lmstudio" / "models" / "LiquidAI" / "LFM2-1.2B-GGUF"
    store.mkdir(parents=True)
    m.catalog_file(store)
    m.write_other(store / "qwen3-0.6b-Q4_K_M.gguf")
    got = scan_answers(
        RunConfig(context_tokens=4096),
        GPU_BOX,
        CATALOG,
        home=home,
        env={},
        folders=[tmp_path / "nowhere"],
    )
    (row,) = got.rows
    assert row.label.endswith("LFM2-1.2B-Q4_K_M.gguf")
    assert row.store == "lm-studio"
    assert row.fit is not None
    assert str(row.fit.verdict) == "runs_great"
    assert any("other architectures" in n for n in got.notes)
    assert any("nowhere" in n and "not a folder" in n for n in got.notes)
    assert got.complete


def test_scan_of_an_empty_home_says_no_store_exists(tmp_path: Path) -> None:
    got = scan_answers(RunConfig(), GPU_BOX, CATALOG, home=tmp_path, env={})
    assert got.rows == ()
    assert any("None of the usual model folders" in n for n in got.notes)


# --- bandwidth -------------------------------------------------------------------------------


def test_bandwidth_is_measured_once_then_reused_from_this_boots_cache(tmp_path: Path) -> None:
    calls: list[int] = []

    def copier() -> BandwidthMeasurement:
        calls.append(1)
        return fake_measurement(41.5)

    first = with_cached_bandwidth(laptop(), measure=copier, directory=tmp_path)
    assert first.snapshot.memory.bandwidth_gb_s == 41.5
    assert first.snapshot.memory.bandwidth_source is Source.MEASURED
    assert first.source_text == "measured just now"
    assert json.loads((tmp_path / "bandwidth.json").read_text())  # cached for the CLI
    again = with_cached_bandwidth(laptop(), measure=copier, directory=tmp_path)
    assert calls == [1]  # the cache answered
    assert again.snapshot.memory.bandwidth_gb_s == 41.5
    forced = with_cached_bandwidth(
        laptop(), force=True, measure=lambda: fake_measurement(44.0), directory=tmp_path
    )
    assert forced.snapshot.memory.bandwidth_gb_s == 44.0


def test_a_too_busy_measurement_keeps_the_tables_range_and_says_so(tmp_path: Path) -> None:
    got = with_cached_bandwidth(
        laptop(), measure=lambda: fake_measurement(9.8, busy=True), directory=tmp_path
    )
    memory = got.snapshot.memory
    assert (memory.bandwidth_gb_s, memory.bandwidth_low_gb_s, memory.bandwidth_high_gb_s) == (
        60.0,
        50.0,
        70.0,
    )
    assert memory.bandwidth_source is not Source.MEASURED
    assert got.busy
    assert got.source_text == ""
    assert not (tmp_path / "bandwidth.json").exists()  # never cached
