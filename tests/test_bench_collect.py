"""benchmarks/llamacpp_cpu/collect.py and prereg.py: raw interleaved rounds to fit rows, and
predictions written down before a run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.llamacpp_cpu import prereg, report, sets
from benchmarks.llamacpp_cpu.collect import collect


def _run(key: str, rnd: int, ts: float, busy: float) -> dict[str, Any]:
    return {
        "key": key,
        "round": rnd,
        "busy_before": busy,
        "steal_before": 0.0,
        "steal_after": 0.01,
        "avg_ts": ts,
        "row": {"model_filename": "lfm2-350m-Q4_K_M.gguf", "avg_ts": ts, "samples_ts": [ts]},
    }


RAW = {
    "runs": [
        _run("a", 0, 7.7, 0.99),
        _run("a", 1, 13.7, 0.95),
        _run("a", 2, 16.5, 0.0),
        _run("a", 3, 16.1, 0.05),
        _run("b", 0, 40.0, 1.0),
        {"key": "c", "round": 0, "error": "killed"},
    ]
}


def test_best_of_every_round_without_a_busy_limit() -> None:
    rows = {r["key"]: r for r in collect([RAW])}
    assert set(rows) == {"a", "b"}
    assert rows["a"]["avg_ts"] == 16.5
    assert rows["a"]["repetitions"] == 4
    assert rows["a"]["min_ts"] == 7.7
    assert rows["a"]["max_busy_before"] == 0.99
    assert "samples_ts" not in rows["a"]


def test_busy_rounds_are_dropped_and_a_configuration_with_none_left_goes() -> None:
    rows = {r["key"]: r for r in collect([RAW], max_busy=0.10)}
    assert set(rows) == {"a"}
    a = rows["a"]
    assert (a["avg_ts"], a["min_ts"], a["repetitions"], a["max_busy_before"]) == (
        16.5,
        16.1,
        2,
        0.05,
    )


def test_rounds_from_several_raw_files_pool_per_configuration() -> None:
    later = {"runs": [_run("b", 0, 44.0, 0.0)]}
    rows = {r["key"]: r for r in collect([RAW, later], max_busy=0.10)}
    assert rows["b"]["avg_ts"] == 44.0
    assert rows["b"]["repetitions"] == 1


def test_prereg_reads_a_run_key_as_llama_bench_would_report_it() -> None:
    assert prereg.row_for("lfm2-1.2b/Q4_K_M/t2/p0/n32/d16384") == {
        "model_filename": "lfm2-1.2b-Q4_K_M.gguf",
        "n_threads": 2,
        "n_prompt": 0,
        "n_gen": 32,
        "n_depth": 16384,
    }
    with pytest.raises(ValueError, match="not a run key"):
        prereg.row_for("lfm2-1.2b Q4_K_M")


def test_prereg_predicts_what_the_report_checks() -> None:
    key = "lfm2-350m/Q4_K_M/t1/p0/n32/d8192"
    text = prereg.lines([key])
    assert text[0].startswith("Pre-registered ")
    machine = report.machines()["table"]
    low, high = report.estimate_run(prereg.row_for(key), machine)
    assert f"{key} decode bandwidth=table central {(low * high) ** 0.5:.2f}" in text[1]
    assert f"range {low:.2f}-{high:.2f}" in text[1]
    assert 0 < low < high


@pytest.mark.parametrize("run_set", sets.SETS, ids=[s.rows.name for s in sets.SETS])
def test_every_rows_file_is_what_its_raw_runs_give(run_set: sets.RunSet) -> None:
    # No row is edited by hand or left from a busy repetition: the rows file is collect() of the
    # raw runs it names, busy repetitions dropped.
    assert run_set.rows.exists()
    rows = json.loads(run_set.rows.read_text())
    assert rows == run_set.collected()
    assert all(r["max_busy_before"] <= sets.MAX_BUSY for r in rows)
    assert all(run_set.wants(r["key"]) for r in rows)


def test_a_set_takes_only_its_own_runs() -> None:
    moe, dense, depth = (
        next(s for s in sets.SETS if s.moe is True),
        next(s for s in sets.SETS if s.moe is False),
        next(s for s in sets.SETS if s.depth_only),
    )
    assert moe.wants("lfm2-8b-a1b/Q4_0/t2/p0/n64/d0")
    assert not moe.wants("lfm2-1.2b/Q4_0/t2/p0/n64/d0")
    assert dense.wants("lfm2-1.2b/Q4_0/t2/p0/n64/d0")
    assert not dense.wants("lfm2-8b-a1b/Q4_0/t2/p0/n64/d0")
    assert depth.wants("lfm2-350m/Q4_K_M/t1/p512/n0/d2048")
    assert not depth.wants("lfm2-350m/Q4_K_M/t1/p512/n0/d0")
