"""Issue #10: "runs great" counts generation speed, not only memory."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from llmcheck import cli
from llmcheck.catalog import Catalog, load_catalog
from llmcheck.estimate import Limit, RunConfig, Verdict, best_quant, estimate, estimate_all
from llmcheck.snapshot import Source, SystemSnapshot, snapshot_to_dict
from tests.helpers import recorded_machine, snapshot_path


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def laptop_with_bandwidth(gb_s: float) -> SystemSnapshot:
    """The recorded 16 GB laptop, with a DRAM bandwidth as the CPU-class table would give it."""
    snap = recorded_machine("cpu-laptop")
    memory = dataclasses.replace(snap.memory, bandwidth_gb_s=gb_s, bandwidth_source=Source.TABLE)
    return dataclasses.replace(snap, memory=memory)


def laptop_file(tmp_path: Path, gb_s: float = 20.0) -> Path:
    """The laptop with ``gb_s`` of RAM bandwidth, as a snapshot file for the CLI."""
    path = tmp_path / "laptop.json"
    doc = {"schema_version": "1", **snapshot_to_dict(laptop_with_bandwidth(gb_s))}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_a_slow_fit_is_tight_with_the_speed_as_the_reason(catalog: Catalog) -> None:
    machine = laptop_with_bandwidth(20.0)
    variant = catalog.variant("lfm2-2.6b")
    memory_only = estimate(variant, "F16", RunConfig(min_decode_tokens_per_second=0), machine)
    assert memory_only.verdict is Verdict.RUNS_GREAT
    assert memory_only.limited_by is None
    assert memory_only.speed is not None
    assert memory_only.speed.low_tokens_per_second < 10

    fit = estimate(variant, "F16", RunConfig(), machine)
    assert fit.verdict is Verdict.TIGHT
    assert fit.limited_by is Limit.SPEED
    assert "generates only" in fit.reason
    assert "tok/s" in fit.reason
    # Speed does not change the memory answer or the largest context.
    assert fit.total_bytes == memory_only.total_bytes
    assert fit.max_context_tokens == memory_only.max_context_tokens


def test_a_fast_small_model_still_runs_great(catalog: Catalog) -> None:
    fit = estimate(catalog.variant("lfm2-350m"), "Q4_K_M", RunConfig(), laptop_with_bandwidth(20.0))
    assert fit.verdict is Verdict.RUNS_GREAT
    assert fit.speed is not None
    assert fit.speed.low_tokens_per_second >= 10


def test_the_threshold_is_a_setting(catalog: Catalog) -> None:
    machine = laptop_with_bandwidth(20.0)
    variant = catalog.variant("lfm2-350m")
    fit = estimate(variant, "Q4_K_M", RunConfig(min_decode_tokens_per_second=0), machine)
    assert fit.speed is not None
    above = fit.speed.low_tokens_per_second * 1.01
    strict = estimate(variant, "Q4_K_M", RunConfig(min_decode_tokens_per_second=above), machine)
    assert strict.verdict is Verdict.TIGHT
    assert strict.limited_by is Limit.SPEED


def test_unknown_speed_leaves_the_memory_verdict(catalog: Catalog) -> None:
    """The recorded laptop has no bandwidth: no speed, so the verdict is memory's alone."""
    machine = recorded_machine("cpu-laptop")
    fit = estimate(catalog.variant("lfm2-2.6b"), "F16", RunConfig(), machine)
    assert fit.speed is None
    assert fit.verdict is Verdict.RUNS_GREAT


def test_memory_limits_say_memory(catalog: Catalog) -> None:
    machine = laptop_with_bandwidth(20.0)
    fits = estimate_all(catalog, machine, RunConfig())
    for fit in fits:
        if fit.verdict is Verdict.WONT_FIT:
            assert fit.limited_by is Limit.MEMORY
        if fit.verdict is Verdict.RUNS_GREAT:
            assert fit.limited_by is None
            assert fit.speed is None or fit.speed.low_tokens_per_second >= 10
    assert any(f.limited_by is Limit.SPEED for f in fits)


def test_best_quant_agrees_with_the_speed_verdict(catalog: Catalog) -> None:
    machine = laptop_with_bandwidth(20.0)
    config = RunConfig()
    for variant in catalog.variants:
        pick = best_quant(variant, machine, config)
        verdicts = {q: estimate(variant, q, config, machine).verdict for q in variant.quants}
        if any(v is Verdict.RUNS_GREAT for v in verdicts.values()):
            assert pick is not None
            assert verdicts[pick] is Verdict.RUNS_GREAT, variant.id


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf, 1e9])
def test_run_config_refuses_an_impossible_minimum(value: float) -> None:
    with pytest.raises(ValueError, match="minimum speed"):
        RunConfig(min_decode_tokens_per_second=value)


def test_cli_min_speed_flag_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = laptop_file(tmp_path)
    argv = ["check", "lfm2-2.6b", "-q", "F16", "--snapshot", str(path), "--json"]
    assert cli.main(argv, environ={}) == cli.EXIT_OK  # tight still fits
    out = json.loads(capsys.readouterr().out)
    assert out["model"]["verdict"] == "tight"
    assert out["model"]["limited_by"] == "speed"
    assert out["settings"]["min_decode_tokens_per_second"] == 10.0
    assert cli.main([*argv, "--min-speed", "0"], environ={}) == cli.EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert out["model"]["verdict"] == "runs_great"
    assert out["model"]["limited_by"] is None


@pytest.mark.parametrize("text", ["fast", "-3", "1e3", "200000", "nan"])
def test_cli_min_speed_rejects_bad_values(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "check",
        "lfm2-350m",
        "-q",
        "Q4_K_M",
        "--min-speed",
        text,
        "--snapshot",
        str(snapshot_path("cpu-laptop")),
    ]
    assert cli.main(argv, environ={}) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "--min-speed" in err
    assert err.count("\n") == 1


def test_cli_threads_flag_changes_speed_and_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = laptop_file(tmp_path)
    argv = ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--snapshot", str(path), "--json"]
    assert cli.main(argv, environ={}) == cli.EXIT_OK
    default = json.loads(capsys.readouterr().out)["model"]
    assert cli.main([*argv, "--threads", "1"], environ={}) == cli.EXIT_OK
    one = json.loads(capsys.readouterr().out)
    assert one["settings"]["threads"] == 1
    assert " -t 1" in one["model"]["llama_cpp_command"]
    assert " -t " not in default["llama_cpp_command"]
    assert one["model"]["tokens_per_second"]["low"] != default["tokens_per_second"]["low"]
    assert cli.main([*argv, "--threads", "0"], environ={}) == cli.EXIT_USAGE
    assert "--threads" in capsys.readouterr().err


def test_cli_shows_prompt_speed_and_both_ends_of_a_conversation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = laptop_file(tmp_path)
    argv = ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--snapshot", str(path), "--ctx", "32k"]
    assert cli.main([*argv, "--json"], environ={}) == cli.EXIT_OK
    speed = json.loads(capsys.readouterr().out)["model"]["tokens_per_second"]
    assert speed["full_low"] < speed["low"] < speed["empty_low"]
    assert cli.main(argv, environ={}) == cli.EXIT_OK
    lines = [x for x in capsys.readouterr().out.splitlines() if "on an empty context" in x]
    assert len(lines) == 1
    assert lines[0].strip().startswith("prompt ")
    assert f"{speed['empty_low']:.0f}" in lines[0]
    assert "when full" in lines[0]
