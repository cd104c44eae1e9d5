"""Names people paste, and the quants nobody at Liquid AI published (issue #12), on the command
line: resolved offline by ``llmcheck.names``; community quants answered and marked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmcheck import cli
from llmcheck.catalog import community_quants, load_catalog
from tests.helpers import SNAPSHOT_DIR, validator_for
from tests.helpers import run_cli as run

MACHINE = str(SNAPSHOT_DIR / "one-nvidia.json")


def check(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run(["check", *argv, "--snapshot", MACHINE, "--json"], capsys)
    assert code == cli.EXIT_OK, err
    doc: dict[str, Any] = json.loads(out)
    validator_for(strict=True).validate(doc)
    return doc["model"]  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file name people paste is a name, not a path: run where no such file exists."""
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("argv", "variant", "quant"),
    [
        (["hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M"], "lfm2-1.2b", "Q4_K_M"),
        (["https://huggingface.co/LiquidAI/LFM2-1.2B-GGUF"], "lfm2-1.2b", None),
        (["LiquidAI/LFM2-1.2B-GGUF", "-q", "Q8_0"], "lfm2-1.2b", "Q8_0"),
        (["LiquidAI/LFM2-1.2B", "-q", "q8_0"], "lfm2-1.2b", "Q8_0"),
        (["LFM2-1.2B-Q4_K_M.gguf"], "lfm2-1.2b", "Q4_K_M"),
        (["lfm2-1.2b-q4_k_m.gguf", "-q", "Q4_K_M"], "lfm2-1.2b", "Q4_K_M"),
        (["unsloth/LFM2-1.2B-GGUF", "-q", "Q6_K"], "lfm2-1.2b", "Q6_K"),
        (["lfm2-1.2b:q8_0"], "lfm2-1.2b", "Q8_0"),
        (["ollama run hf.co/LiquidAI/LFM2-8B-A1B-GGUF:Q4_0"], "lfm2-8b-a1b", "Q4_0"),
        (["LFM2-350M"], "lfm2-350m", None),
    ],
)
def test_pasted_names_resolve(
    capsys: pytest.CaptureFixture[str], argv: list[str], variant: str, quant: str | None
) -> None:
    if quant is None:
        argv = [*argv, "-q", "Q4_K_M"]
        quant = "Q4_K_M"
    model = check(argv, capsys)
    assert (model["variant"], model["quant"]) == (variant, quant)
    assert model["published"] is True
    assert model["source_file"] is None


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run(["check", *argv, "--snapshot", MACHINE], capsys)
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert err.count("\n") == 1
    return err


def test_suggestions_put_the_exact_or_longest_match_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _error(["lfm2-1.2b-chat", "-q", "Q4_K_M"], capsys)
    suggested = err.split("did you mean ", 1)[1].rstrip("?\n").split(", ")
    assert suggested[0] == "lfm2-1.2b"
    err = _error(["lfm2", "-q", "Q4"], capsys)
    assert "lfm2-1.2b" in err.split("did you mean ", 1)[1]


def test_quant_in_the_name_and_q_must_agree(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M", "-q", "Q8_0"], capsys)
    assert "Q4_K_M" in err
    assert "Q8_0" in err
    assert (
        check(["hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M", "-q", "q4_k_m"], capsys)["quant"] == "Q4_K_M"
    )


def test_no_quant_anywhere_asks_for_one(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["LiquidAI/LFM2-1.2B-GGUF"], capsys)
    assert "-q" in err
    assert "Q4_K_M" in err


def test_dynamic_quant_by_name_asks_for_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["unsloth/LFM2-8B-A1B-GGUF:UD-Q4_K_XL"], capsys)
    assert ".gguf" in err


@pytest.mark.parametrize(
    ("variant", "quant"),
    [
        ("lfm2-1.2b", "Q3_K_M"),
        ("lfm2-1.2b", "Q2_K"),
        ("lfm2-1.2b", "IQ4_XS"),
        ("lfm2-vl-1.6b", "Q4_K_M"),
    ],
)
def test_community_quants_are_answered_and_marked(
    capsys: pytest.CaptureFixture[str], variant: str, quant: str
) -> None:
    model = check([variant, "-q", quant], capsys)
    assert (model["variant"], model["quant"], model["published"]) == (variant, quant, False)
    assert model["verdict"] == "runs_great"
    code, out, _ = run(["check", variant, "-q", quant, "--snapshot", MACHINE], capsys)
    assert code == cli.EXIT_OK
    assert (
        "community quant: not published by Liquid AI"
        in out.splitlines()[
            out.splitlines().index(next(line for line in out.splitlines() if quant in line)) + 1
        ]
    )


def test_smaller_community_quant_needs_less(capsys: pytest.CaptureFixture[str]) -> None:
    q4 = check(["lfm2-1.2b", "-q", "Q4_K_M"], capsys)
    q2 = check(["lfm2-1.2b", "-q", "Q2_K"], capsys)
    assert q2["file_size_bytes"] < q4["file_size_bytes"]


def test_list_marks_published_and_community_quants(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["list", "--json"], capsys)
    assert code == cli.EXIT_OK
    doc = json.loads(out)
    validator_for(strict=True).validate(doc)
    catalog = load_catalog()
    for v in doc["variants"]:
        variant = catalog.variant(v["id"])
        assert v["quants"] == list(variant.quants)
        assert v["community_quants"] == list(community_quants(variant))
        assert not set(v["quants"]) & set(v["community_quants"])
    one = next(v for v in doc["variants"] if v["id"] == "lfm2-1.2b")
    assert {"Q3_K_M", "Q2_K", "IQ4_XS"} <= set(one["community_quants"])
    code, out, _ = run(["list"], capsys)
    community = out.split("Community quants", 1)[1]
    assert "not published by Liquid AI" in community
    assert "lfm2-1.2b," in community
    assert "IQ4_XS" in community


def test_a_folder_named_like_a_variant_is_still_the_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lfm2-1.2b").mkdir()  # the current directory (the autouse fixture)
    assert check(["lfm2-1.2b", "-q", "Q4_K_M"], capsys)["source_file"] is None
