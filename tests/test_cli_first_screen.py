"""Issue #11 through the real CLI: the answer at the top, won't fit -> what would, the report's
context, `list`, and the cells that differ. Recorded machines only (tests/data/snapshots)."""

from __future__ import annotations

import re

import pytest

from llmcheck import cli
from llmcheck.catalog import load_catalog
from llmcheck.estimate import RunConfig, estimate_all
from llmcheck.recommend import recommend
from llmcheck.render.markdown import report_markdown
from llmcheck.snapshot import read_snapshot_file
from llmcheck.units import format_speed, format_tokens
from tests.helpers import SNAPSHOT_NAMES, run_cli
from tests.helpers import run_cli_json as run_json
from tests.helpers import snapshot_arg as snap


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run_cli(argv, capsys, no_traceback=True)


# --- 1. the answer at the top ------------------------------------------------------------------


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_cli_best_pick_is_recommend_s(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI gives the same best pick as recommend() for the same machine and settings."""
    code, doc = run_json(["--snapshot", snap(name)], capsys)
    assert code == cli.EXIT_OK
    catalog = load_catalog()
    rec = recommend(estimate_all(catalog, read_snapshot_file(snap(name)), RunConfig()), catalog)
    best = doc["recommendations"]["best"]
    if rec.best is None:
        assert best is None
    else:
        assert (best["variant"], best["quant"], best["verdict"]) == (
            rec.best.variant_id,
            rec.best.quant,
            str(rec.best.verdict),
        )
    assert [p["variant"] for p in doc["recommendations"]["tasks"]] == [
        p.variant_id for p in rec.tasks
    ]
    assert doc["recommendations"]["summary"]


def test_the_first_line_of_the_text_is_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = run_json(["--snapshot", snap("one-nvidia")], capsys)
    recs = doc["recommendations"]
    best = recs["best"]
    speed = format_speed(best["tokens_per_second"]["low"], best["tokens_per_second"]["high"])
    assert recs["summary"] == (
        f"Run {best['name']} {best['quant']}: runs great here, {speed}, up to"
        f" {format_tokens(best['max_context'])} tokens of context."
    )
    code, out, _ = run(["--snapshot", snap("one-nvidia")], capsys)
    assert code == cli.EXIT_OK
    lines = out.splitlines()
    assert lines[0] == recs["summary"]
    assert any(
        line.startswith("  fastest:") and recs["fastest"]["name"] in line for line in lines[:20]
    )
    assert f"  command: {best['llama_cpp_command']}" in lines
    assert report_markdown(doc).splitlines()[4] == f"**{recs['summary']}**"


def test_where_nothing_runs_great_the_summary_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Every fit on the 4090 generates below 100,000 tok/s: nothing runs great, the tight pick
    # is offered as such.
    _, doc = run_json(["--snapshot", snap("one-nvidia"), "--min-speed", "100000"], capsys)
    recs = doc["recommendations"]
    assert recs["verdict"] == "tight"
    assert recs["best"]["verdict"] == "tight"
    assert recs["summary"].startswith(
        "Nothing runs great here at 4,096 tokens of context;"
        f" the best that fits is {recs['best']['name']}"
    )
    assert ": tight (" in recs["summary"]


def test_where_nothing_fits_or_nothing_is_known_the_summary_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, doc = run_json(["--snapshot", snap("cpu-laptop"), "--ram", "256M"], capsys)
    assert doc["recommendations"]["verdict"] == "wont_fit"
    assert doc["recommendations"]["best"] is None
    assert doc["recommendations"]["summary"].startswith("Nothing fits here at 4,096 tokens")
    _, doc = run_json(["--snapshot", snap("unknown-budget")], capsys)
    assert doc["recommendations"]["verdict"] == "unknown"
    assert "cannot say what runs here" in doc["recommendations"]["summary"]


# --- 2. won't fit -> what would ----------------------------------------------------------------


def test_wont_fit_prints_no_command_and_what_would(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "check",
        "lfm2-24b-a2b",
        "-q",
        "Q8_0",
        "--snapshot",
        snap("one-nvidia"),
        "--ngl",
        "999",
        "--ctx",
        "64k",
    ]
    code, out, _ = run(argv, capsys)
    assert code == cli.EXIT_WONT_FIT
    assert "  llama.cpp: no command: it does not fit here\n" in out
    assert re.search(
        r"\n  needs [\d.]+ GiB, [\d.]+ (GiB|MiB) more than the [\d.]+ GiB budget\n", out
    )
    head, _, tail = out.partition("What would fit:\n")
    assert "llama-server -m" not in head
    alt_lines = [line for line in tail.splitlines() if line.startswith("  ")]
    assert alt_lines
    for line in alt_lines:
        assert re.match(
            r"  (smaller quant|shorter context|quantized KV cache|CPU|smaller model):"
            r" .+ \((runs great|tight), .+\): llama-server -m ",
            line,
        ), line


def test_every_alternative_fits_when_checked_on_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each alternative, asked as its own question, fits (no alternative that is itself wrong)."""
    argv = [
        "check",
        "lfm2-24b-a2b",
        "-q",
        "Q8_0",
        "--snapshot",
        snap("apple-m2-max"),
        "--ctx",
        "32k",
    ]
    code, doc = run_json(argv, capsys)
    assert code == cli.EXIT_WONT_FIT
    assert doc["model"]["shortfall_bytes"] > 0
    assert doc["model"]["budget_bytes"] > 0
    changes = [a["change"] for a in doc["alternatives"]]
    assert "smaller quant" in changes
    for alt in doc["alternatives"]:
        again = [
            "check",
            alt["variant"],
            "-q",
            alt["quant"],
            "--snapshot",
            snap("apple-m2-max"),
            "--ctx",
            str(alt["context_tokens"]),
            "--kv-type",
            alt["kv_type"],
            "--device",
            alt["device"],
        ]
        code, answer = run_json(again, capsys)
        assert code == cli.EXIT_OK, alt
        assert answer["model"]["verdict"] == alt["verdict"]
        assert answer["model"]["llama_cpp_command"] == alt["llama_cpp_command"]


def test_a_fit_has_no_alternatives_and_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(
        ["check", "lfm2-350m", "-q", "Q4_K_M", "--snapshot", snap("one-nvidia")], capsys
    )
    assert code == cli.EXIT_OK
    assert doc["alternatives"] == []
    assert doc["model"]["shortfall_bytes"] is None
    code, out, _ = run(
        ["check", "lfm2-350m", "-q", "Q4_K_M", "--snapshot", snap("one-nvidia")], capsys
    )
    assert f"  llama.cpp: {doc['model']['llama_cpp_command']}\n" in out
    assert "What would fit" not in out


# --- 4. the report's context and `list` ---------------------------------------------------------


@pytest.mark.parametrize("ctx", ["1000000", "128k", "128001"])
def test_report_refuses_a_context_no_model_has(
    ctx: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["--ctx", ctx, "--snapshot", snap("one-nvidia")], capsys)
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert "no model supports more than 128000 tokens" in err
    assert "--ctx max" in err


def test_settings_and_commands_agree(capsys: pytest.CaptureFixture[str]) -> None:
    for ctx in ("max", "32k", "128000"):
        _, doc = run_json(["--ctx", ctx, "--snapshot", snap("two-gpus")], capsys)
        asked = doc["settings"]["context_tokens"]
        for m in doc["models"]:
            assert m["context_tokens"] <= asked
            assert f" -c {m['context_tokens']} " in m["llama_cpp_command"]
        assert doc["recommendations"]["context_tokens"] == asked


def test_list_shows_only_published_quantizations(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = run_json(["list"], capsys)
    published = {q for v in doc["variants"] for q in v["quants"]}
    assert {q["name"] for q in doc["quants"] if q["published"]} == published
    assert any(not q["published"] for q in doc["quants"])
    _, out, _ = run(["list"], capsys)
    line = next(x for x in out.splitlines() if x.startswith("Quantizations"))
    assert set(line.split(": ", 1)[1].split()) == published


# --- 5. cells that differ --------------------------------------------------------------------


def test_table_rows_say_speed_class_context_and_how_short(
    capsys: pytest.CaptureFixture[str],
) -> None:
    machine = ["--snapshot", snap("cpu-laptop"), "--bandwidth", "ram=80"]
    _, first = run_json(machine, capsys)
    assert first["machine"]["memory"]["bandwidth_source"] == "user"
    lows = sorted(
        m["tokens_per_second"]["low"] for m in first["models"] if m["tokens_per_second"] is not None
    )
    floor = round(lows[len(lows) // 2], 1)  # the median: some rows above it, some below
    argv = [*machine, "--min-speed", str(floor)]
    _, doc = run_json(argv, capsys)
    _, out, _ = run(argv, capsys)
    header = next(x for x in out.splitlines() if x.startswith("Model "))
    assert header.split() == [
        "Model",
        "Quant",
        "File",
        "Verdict",
        "Needs",
        "Where",
        "Max",
        "ctx",
        "Decode",
        "Speed",
    ]
    for m in doc["models"]:
        row = next(
            x for x in out.splitlines() if x.startswith(f"{m['name']} ") and f" {m['quant']} " in x
        )
        if m["verdict"] == "wont_fit":
            expected = "none fits" if m["max_context"] is None else format_tokens(m["max_context"])
            assert expected in row
            assert "short)" in row
            assert m["speed_class"] is None
        else:
            low = m["tokens_per_second"]["low"]
            expected = "fast" if low >= 2 * floor else "usable" if low >= floor else "slow"
            assert m["speed_class"] == expected
            assert row.rstrip().endswith(expected)
    classes = {m["speed_class"] for m in doc["models"]} - {None}
    assert len(classes) >= 2  # the cells differ where the answers do


def test_a_model_answered_at_its_own_shorter_maximum_is_marked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Where a model's maximum is below the asked context (no LFM2 has one today, so the
    document is edited), its row says so: a star on the context and a line under the table."""
    from llmcheck.render.text import format_text

    _, doc = run_json(["--snapshot", snap("one-nvidia"), "--ctx", "64k"], capsys)
    short = doc["models"][0]
    short["context_tokens"] = 32768
    text = format_text(doc)
    row = next(
        x
        for x in text.splitlines()
        if x.startswith(f"{short['name']} ") and f" {short['quant']} " in x
    )
    assert f"{format_tokens(short['max_context'])}*" in row
    assert (
        "* at the model's own maximum context, shorter than the 65,536 tokens asked"
        in text.splitlines()
    )
    others = [x for x in text.splitlines() if x.startswith(short["name"]) and x != row]
    assert others
    assert all("*" not in x for x in others)
