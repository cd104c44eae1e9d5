"""The small CPU's llama-bench runs against llmcheck's own speed ranges, through estimate().

The fitted sets of benchmarks/llamacpp_cpu/sets.py hold llama-bench (llama.cpp 0c1e570) on a 2-core
AMD EPYC (Zen 4) VM, one and two threads, with the native build and an AVX2-only build;
tests/data/recorded/epyc-2core-vm.json is what `llmcheck --json` read on that machine: its
CPU-class bandwidth (the default a user sees) and its cores and ISA (the AVX2-only build is asked
about the same machine without its AVX-512 flags). These runs are in the speed fit
(docs/speed-model.md shows how they fall when held out); this test holds the estimator, not only
the model, to them, with the table's bandwidth and with the measured one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from benchmarks.llamacpp_cpu import report, sets
from benchmarks.llamacpp_cpu.sets import RunSet, present
from llmcheck.catalog import load_catalog
from llmcheck.estimate import RunConfig, estimate
from llmcheck.snapshot import read_snapshot_file

DATA = Path(__file__).parent / "data"
ROWS: list[dict[str, Any]] = json.loads((DATA / "llamacpp" / "speed_cpu_small.json").read_text())
MACHINE = read_snapshot_file(DATA / "recorded" / "epyc-2core-vm.json")
FITTED_SETS = present(fitted=True)


def _config(row: dict[str, Any]) -> RunConfig:
    # The estimate decodes with the context half full: a context of twice the depth llama-bench
    # filled (plus half the generated tokens) asks for the same cache.
    depth = int(row["n_depth"]) + (int(row["n_gen"]) // 2 if int(row["n_gen"]) else 0)
    return RunConfig(context_tokens=max(2 * depth, 512), threads=int(row["n_threads"]))


def _variant_quant(row: dict[str, Any]) -> tuple[str, str]:
    found = re.search(r"(lfm2-[\w.-]+?)-(F16|Q8_0|Q6_K|Q4_K_M|Q4_0)\.gguf$", row["model_filename"])
    assert found is not None, row["model_filename"]
    return found.group(1), found.group(2)


def test_the_machine_is_the_one_measured() -> None:
    assert MACHINE.cpu.physical_cores == 2
    assert "avx512vnni" in MACHINE.cpu.features
    assert MACHINE.memory.bandwidth_source is not None
    assert str(MACHINE.memory.bandwidth_source) == "table"  # the default, nothing measured
    assert {r["build_commit"] for r in ROWS} == {"0c1e570"}


CASES = [
    (run_set, row, bandwidth)
    for run_set in FITTED_SETS
    for row in json.loads(run_set.rows.read_text())
    for bandwidth in ("table", "measured")
]


@pytest.mark.parametrize(
    ("run_set", "row", "bandwidth"),
    CASES,
    ids=[f"{s.machine}/{r['key']}/{bw}" for s, r, bw in CASES],
)
def test_measured_speed_falls_in_the_estimate(
    run_set: RunSet, row: dict[str, Any], bandwidth: str
) -> None:
    variant, quant = _variant_quant(row)
    machine = report.machines(avx2_only=run_set.avx2_only)[bandwidth]
    fit = estimate(load_catalog().variant(variant), quant, _config(row), machine)
    assert fit.speed is not None
    assert fit.speed.threads == int(row["n_threads"])
    measured = float(row["avg_ts"])
    if int(row["n_prompt"]):
        low, high = fit.speed.prompt_low_tokens_per_second, fit.speed.prompt_high_tokens_per_second
    else:
        low, high = fit.speed.low_tokens_per_second, fit.speed.high_tokens_per_second
    assert low <= measured <= high, (low, measured, high)


def test_the_avx2_machine_has_no_avx512() -> None:
    machine = report.machines(avx2_only=True)["table"]
    assert "avx2" in machine.cpu.features
    assert not [f for f in machine.cpu.features if f.startswith("avx512")]


def test_the_small_cpu_page_is_current() -> None:
    """docs/speed-small-cpu.md is what benchmarks/llamacpp_cpu/report.py writes from the data."""
    assert report.DOC.read_text(encoding="utf-8") == report.page()


def test_held_out_runs_stay_near_their_ranges() -> None:
    """The sets held out of every fit (sets.py): inside their ranges, one and two threads, decodes
    after up to 32,768 tokens included, but for LFM2-1.2B's two-thread decode after 16,384 tokens
    with the measured bandwidth, 3 % above (docs/speed-small-cpu.md); none may drift further, and
    no more may leave."""
    rows = [r for bandwidth in ("table", "measured") for r in report.rows_for(bandwidth)]
    held = [r for r in rows if r.held_out]
    assert held
    outside = [r for r in held if r.ratio != 1.0]
    allowed = ("lfm2-1.2b/Q4_K_M/t2/p0/n32/d16384",)
    assert all(r.key in allowed for r in outside), [r.key for r in outside]
    assert all(1.0 < r.ratio <= 1.04 for r in outside), [(r.key, r.ratio) for r in outside]


def test_the_bench_grid_names_what_each_recorded_run_was() -> None:
    """bench.py's grid: depth 0 gives pp512 and tg64 per model x quant x threads; after a filled
    context each asked test (tg32, pp512) for the two small models' Q4_K_M only; the recorded
    prompt-at-depth sets are exactly such runs."""
    from benchmarks.llamacpp_cpu.bench import grid

    plain = grid(("lfm2-350m", "lfm2-2.6b"), ("Q8_0",), depths=False, threads=(1, 2))
    assert len(plain) == 2 * 1 * 2 * 2
    assert {(c.n_prompt, c.n_gen, c.n_depth) for c in plain} == {(512, 0, 0), (0, 64, 0)}
    deep = grid(
        ("lfm2-350m", "lfm2-2.6b"),
        ("Q8_0",),
        depths=True,
        threads=(2,),
        depth_values=(2048, 8192),
        only_depths=True,
        depth_tests=("tg", "pp"),
    )
    assert {c.variant for c in deep} == {"lfm2-350m"}  # 2.6B: no depth runs
    assert {c.quant for c in deep} == {"Q4_K_M"}
    assert sorted((c.n_prompt, c.n_gen, c.n_depth) for c in deep) == [
        (0, 32, 2048),
        (0, 32, 8192),
        (512, 0, 2048),
        (512, 0, 8192),
    ]
    recorded = json.loads((sets.DATA / "speed_cpu_small_prompt_depth_t2.json").read_text())
    assert {(r["n_prompt"], r["n_gen"], r["n_depth"]) for r in recorded} == {
        (512, 0, 2048),
        (512, 0, 8192),
    }
