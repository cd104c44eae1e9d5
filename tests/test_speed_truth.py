"""llmcheck's speed ranges hold llama.cpp's measured prompt and decode speed.

The measurements (``tests/data/llamacpp/speed_h100.json``) were taken with
``benchmarks/llamacpp_truth/speed.py`` on the machine of ``tests/data/recorded/h100-llmcheck.json``
(H100 80GB, 16-vCPU AMX Xeon; llama.cpp 0c1e57098 via llama-cpp-python 0.3.36): pp512 and tg128
(median per-token time after 8 warm-up tokens), FA on, 16 threads, GPU with every layer offloaded
and CPU with CUDA hidden. Each config is estimated on the snapshot llmcheck recorded there; CPU
runs get the copy bandwidth measured in the same call (Source.MEASURED).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.llamacpp_truth.speed import SPECS, compare, machine_for, table
from llmcheck.snapshot import Source

DATA = Path(__file__).parent / "data" / "llamacpp" / "speed_h100.json"


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA.read_text())
    return loaded


def test_every_config_was_measured(data: dict[str, Any]) -> None:
    ok = {r["run_id"] for r in data["runs"] if r["status"] == "ok"}
    assert ok == {s.run_id for s in SPECS}
    assert not data["dry_run"]
    assert data["environment"]["gpu"]["name"] == "NVIDIA H100 80GB HBM3"
    assert data["environment"]["build"]["llama_cpp_commit_from_changelog"] == "0c1e57098"


def test_cpu_runs_get_the_measured_bandwidth(data: dict[str, Any]) -> None:
    snap_doc = json.loads(
        (Path(__file__).parent / "data" / "recorded" / "h100-llmcheck.json").read_text()
    )
    snap = machine_for("cpu", data, snap_doc)
    assert snap.memory.bandwidth_gb_s == data["memory_bandwidth"]["gb_s"]
    assert snap.memory.bandwidth_source is Source.MEASURED
    assert machine_for("gpu", data, snap_doc).gpus[0].bandwidth_gb_s == pytest.approx(3352.3)


@pytest.mark.parametrize("row", compare(json.loads(DATA.read_text())), ids=lambda r: r.run_id)
def test_measured_speed_inside_estimate(row: Any) -> None:
    expected = "gpu" if "/gpu/" in row.run_id else "cpu"
    assert row.placement == expected
    assert row.decode_low <= row.decode_measured <= row.decode_high, row
    assert row.prompt_low <= row.prompt_measured <= row.prompt_high, row


@pytest.mark.parametrize("row", compare(json.loads(DATA.read_text())), ids=lambda r: r.run_id)
def test_ranges_stay_informative(row: Any) -> None:
    # Chosen widths (llmcheck/estimate.py speed constants): decode at most 2.6x high/low at 4k
    # context (2.7x at 32k, where the low end reads the whole cache), prompt the 4x of
    # PROMPT_TO_DECODE_*.
    limit = 2.6 if "/d0/" in row.run_id else 2.7
    assert row.decode_high / row.decode_low <= limit
    assert row.prompt_high / row.prompt_low <= 4.01


def test_table_lists_every_run(data: dict[str, Any]) -> None:
    text = table(DATA)
    assert text.count("\n") == len(data["runs"]) + 1
    assert "**outside**" not in text
