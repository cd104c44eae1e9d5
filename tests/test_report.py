"""build_report / build_check / build_list and the text table, over every recorded machine.

The documents are validated against the published schema in its strict form (no undocumented
key), read back as snapshots, and checked for the invariants a script relies on: integers for
bytes, null for unknown, per-device terms that add up, one device never blindly summed with
another.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from llmcheck import report, units
from llmcheck.catalog import Catalog, load_catalog
from llmcheck.render.text import format_text
from llmcheck.snapshot import Issue, Source, SystemSnapshot, snapshot_from_dict, snapshot_to_dict
from tests.helpers import SNAPSHOT_DIR, SNAPSHOT_NAMES, validator_for


def machine(name: str) -> SystemSnapshot:
    """One recorded machine, read through the real parser."""
    text = (SNAPSHOT_DIR / f"{name}.json").read_text(encoding="utf-8")
    return snapshot_from_dict(json.loads(text))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The shipped catalog."""
    return load_catalog()


def walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (path, leaf) in a JSON document."""
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in walk(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in walk(v, f"{path}[{i}]")]
    return [(path, node)]


def assert_bytes_are_integers(doc: dict[str, Any]) -> None:
    """Every *_bytes value and every memory term is an int or null (never a float or string)."""
    for path, value in walk(doc):
        leaf = path.rsplit(".", 1)[-1]
        if leaf.endswith("_bytes") or ".terms." in path:
            assert value is None or (isinstance(value, int) and not isinstance(value, bool)), (
                path,
                value,
            )
            assert value is None or value >= 0, (path, value)


# --- the machine part: needs no estimator ----------------------------------------------------


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_machine_only_report_validates_and_reads_back(name: str) -> None:
    snap = machine(name)
    extra = Issue(source="catalog", code="catalog_invalid", message="broken", hint="reinstall")
    doc = report.build_report(snap, (), None, catalog=None, budgets=(), problems=(extra,))
    validator_for("report_document", strict=True).validate(doc)
    assert doc["machine"] == snapshot_to_dict(snap)
    assert [p["code"] for p in doc["problems"]] == [
        *(p.code for p in snap.problems),
        "catalog_invalid",
    ]
    assert doc["settings"] is None
    assert doc["models"] == []
    # A report is a snapshot too: it reads back to the same machine.
    back = snapshot_from_dict(json.loads(json.dumps(doc)))
    assert replace(back, problems=snap.problems) == snap
    assert_bytes_are_integers(doc)


def test_list_document(catalog: Catalog) -> None:
    doc = report.build_list(catalog)
    validator_for("list_document", strict=True).validate(doc)
    ids = [v["id"] for v in doc["variants"]]
    assert len(ids) == len(set(ids)) == len(catalog.variants)
    names = {q["name"] for q in doc["quants"]}
    for v in doc["variants"]:
        assert set(v["quants"]) <= names, v["id"]
    text = format_text(doc)
    for v in catalog.variants:
        assert v.id in text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "unknown"),
        (0, "0 B"),
        (512, "512 B"),
        (4096, "4.00 KiB"),
        (300 * 2**20, "300 MiB"),
        (700 * 2**20, "700 MiB"),
        (25_757_220_864, "24.0 GiB"),
        (4 * 2**30, "4.00 GiB"),
        (int(1.2 * 2**30), "1.20 GiB"),
        (128 * 2**30, "128 GiB"),
        (512 * 2**40, "512 TiB"),
    ],
)
def test_format_bytes(value: int | None, text: str) -> None:
    """The one unit convention (llmcheck.units): binary units, three significant figures."""
    assert units.format_bytes(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "unknown"),
        (4096, "4,096"),
        (32768, "32,768"),
        (131072, "131,072"),
        (128000, "128,000"),
        (1000, "1,000"),
        (3000, "3,000"),
    ],
)
def test_format_tokens(value: int | None, text: str) -> None:
    assert units.format_tokens(value) == text


def test_text_shows_each_gpu_separately() -> None:
    doc = report.build_report(machine("two-gpus"), (), None, catalog=None, budgets=())
    text = format_text(doc)
    assert "GPU 0:  NVIDIA GeForce RTX 3090: 24.0 GiB discrete, 23.2 GiB free (nvml)" in text
    assert "GPU 1:  NVIDIA GeForce RTX 3060: 12.0 GiB discrete, 11.6 GiB free (nvml)" in text
    assert "36.0 GiB" not in text


def test_text_shows_the_container_limit_and_unknowns() -> None:
    limited = format_text(
        report.build_report(machine("container-limited"), (), None, catalog=None, budgets=())
    )
    assert "container limit 4.00 GiB (cgroup)" in limited
    unknown = format_text(
        report.build_report(machine("unknown-budget"), (), None, catalog=None, budgets=())
    )
    assert "Memory: unknown total, unknown available (unknown)\n" in unknown
    assert "vram_unknown" in unknown
    assert "hint:" in unknown


def test_text_and_json_render_the_same_dict() -> None:
    """format_text reads only the dict: a value changed in the dict shows in the text."""
    doc = report.build_report(machine("one-nvidia"), (), None, catalog=None, budgets=())
    doc["machine"]["gpus"][0]["name"] = "Renamed GPU"
    assert "Renamed GPU" in format_text(doc)


def test_unified_gpu_text_says_unified() -> None:
    text = format_text(
        report.build_report(machine("apple-m2-max"), (), None, catalog=None, budgets=())
    )
    assert "unified" in text
    assert "GPU cap 21.3 GiB (default)" in text
    assert "400\u00a0GB/s (table)" in text


def test_round_trip_keeps_the_snapshot_source() -> None:
    snap = machine("dgx-spark")
    assert snap.source is Source.SNAPSHOT
    doc = report.build_report(snap, (), None, catalog=None, budgets=())
    assert doc["machine"]["source"] == "snapshot"


# --- models: the estimator's fits through the report -----------------------------------------


def full_report(name: str, catalog: Catalog, **settings: Any) -> dict[str, Any]:
    """The whole-machine report for one recorded machine, through the real estimator."""
    from llmcheck.estimate import RunConfig, estimate_all

    snap = machine(name)
    config = RunConfig(**settings)
    return report.build_report(snap, estimate_all(catalog, snap, config), config, catalog=catalog)


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_full_report_validates_and_adds_up(name: str, catalog: Catalog) -> None:
    doc = full_report(name, catalog)
    validator_for("report_document", strict=True).validate(doc)
    assert_bytes_are_integers(doc)
    # Every variant x published quant, once.
    pairs = [(m["variant"], m["quant"]) for m in doc["models"]]
    assert len(pairs) == len(set(pairs)) == sum(len(v.quants) for v in catalog.variants)
    for m in doc["models"]:
        assert m["name"] == catalog.variant(m["variant"]).name
        devices = m["memory"]["devices"]
        for d in devices:
            assert d["total_bytes"] == sum(d["terms"].values()), (m["variant"], m["quant"])
            assert d["total_bytes"] >= d["terms"]["weights"] > 0
        if m["memory"]["total_bytes"] is not None and devices:
            assert m["memory"]["total_bytes"] == sum(d["total_bytes"] for d in devices)
        assert m["llama_cpp_command"].startswith("llama-")
    # The machine part reads back as the same machine.
    back = snapshot_from_dict(json.loads(json.dumps(doc)))
    assert back == machine(name)
    # The text table has one row per model.
    text = format_text(doc)
    assert sum(1 for line in text.splitlines() if line.startswith("LFM2")) == len(doc["models"])


def test_a_placed_model_stays_within_each_device_budget(catalog: Catalog) -> None:
    """Two GPUs are two budgets: no device is given more than its own budget."""
    doc = full_report("two-gpus", catalog)
    budgets = {b["device"]: b["budget_bytes"] for b in doc["budgets"]}
    assert {"gpu:0", "gpu:1"} <= set(budgets)
    for m in doc["models"]:
        if m["verdict"] in ("runs_great", "tight"):
            for d in m["memory"]["devices"]:
                if d["budget_bytes"] is not None:
                    assert d["total_bytes"] <= d["budget_bytes"], (m["variant"], m["quant"], d)


def test_unknown_budget_gives_unknown_verdicts(catalog: Catalog) -> None:
    doc = full_report("unknown-budget", catalog)
    assert {m["verdict"] for m in doc["models"]} == {"unknown"}


def test_container_limit_is_the_budget(catalog: Catalog) -> None:
    """A 4 GiB cgroup on a 64 GiB host: a 48 GB F16 model will not fit."""
    doc = full_report("container-limited", catalog)
    verdicts = {(m["variant"], m["quant"]): m["verdict"] for m in doc["models"]}
    assert verdicts[("lfm2-24b-a2b", "F16")] == "wont_fit"
    assert verdicts[("lfm2-350m", "Q4_K_M")] in ("runs_great", "tight")


def test_small_model_runs_great_on_a_4090(catalog: Catalog) -> None:
    doc = full_report("one-nvidia", catalog)
    small = next(m for m in doc["models"] if (m["variant"], m["quant"]) == ("lfm2-350m", "Q4_K_M"))
    assert small["verdict"] == "runs_great"
    assert small["placement"] == "gpu"
    assert small["tokens_per_second"] is not None
    assert small["tokens_per_second"]["basis"]


def test_settings_are_reported_as_given(catalog: Catalog) -> None:
    from llmcheck.estimate import KvType

    doc = full_report(
        "one-nvidia",
        catalog,
        context_tokens=32768,
        kv_type=KvType.Q8_0,
        flash_attn=True,
        parallel=2,
        ubatch=256,
        min_decode_tokens_per_second=25.0,
    )
    assert doc["settings"] == {
        "context_tokens": 32768,
        "kv_type": "q8_0",
        "flash_attn": True,
        "parallel": 2,
        "ubatch": 256,
        "device": "auto",
        "mmap": True,
        "front_end": "llama-server",
        "gpu_layers": None,  # --ngl not given: llmcheck picks
        "min_decode_tokens_per_second": 25.0,
        "threads": None,
        "runtime": "llama-server",
    }


def test_check_document(catalog: Catalog) -> None:
    from llmcheck.estimate import RunConfig, estimate

    snap = machine("apple-m2-max")
    fit = estimate(catalog.variant("lfm2-1.2b"), "Q4_K_M", RunConfig(context_tokens=32768), snap)
    doc = report.build_check(snap, fit, catalog=catalog)
    validator_for("check_document", strict=True).validate(doc)
    assert list(doc)[-1] == "problems"
    assert doc["model"]["variant"] == "lfm2-1.2b"
    assert doc["settings"]["context_tokens"] == 32768
    text = format_text(doc)
    assert "LFM2-1.2B Q4_K_M:" in text
    assert "llama.cpp: llama-" in text


# --- the render layer: one word table, one unit convention, no raw text from the machine ----


def test_a_model_row_uses_the_shared_units_and_words(catalog: Catalog) -> None:
    """Each table cell is the render layer's rendering of the same document value."""
    from llmcheck.units import format_speed, format_tokens

    doc = full_report("one-nvidia", catalog)
    small = next(m for m in doc["models"] if (m["variant"], m["quant"]) == ("lfm2-350m", "Q4_K_M"))
    speed = small["tokens_per_second"]
    cells = [
        "LFM2-350M",
        "Q4_K_M",
        units.format_bytes(small["file_size_bytes"]),
        "runs great",
        units.format_bytes(small["memory"]["total_bytes"]),
        "GPU",
        format_tokens(small["max_context"]),
        format_speed(speed["low"], speed["high"]),
        small["speed_class"],
    ]
    row = next(
        line
        for line in format_text(doc).splitlines()
        if line.startswith("LFM2-350M ") and " Q4_K_M " in line
    )
    assert [c.strip() for c in row.split("  ") if c.strip()] == cells
    assert "\u00a0tok/s" in cells[-2]
    assert cells[-1] in ("fast", "usable", "slow")
    assert format_tokens(small["max_context"]) == f"{small['max_context']:,}"


def test_check_lines_say_won_t_fit_nowhere(catalog: Catalog) -> None:
    from llmcheck.estimate import RunConfig, estimate

    snap = machine("cpu-laptop")
    fit = estimate(catalog.variant("lfm2-24b-a2b"), "F16", RunConfig(), snap)
    text = format_text(report.build_check(snap, fit, catalog=catalog))
    assert "LFM2-24B-A2B F16: won't fit\n" in text
    assert ", placement nowhere, largest context that fits none fits\n" in text
    assert "  needs 44.6 GiB, 34.5 GiB more than the 10.1 GiB budget\n" in text
    assert "  llama.cpp: no command: it does not fit here\n" in text
    assert "llama-server -m" not in text


def test_words_are_one_table() -> None:
    from llmcheck.render import words

    assert [words.verdict_badge(v) for v in ("runs_great", "tight", "wont_fit", "unknown")] == [
        "\u2713 runs great",
        "\u25b2 tight",
        "\u2717 won't fit",
        "? unknown",
    ]
    assert words.verdict_words("wont_fit", capital=True) == "Won't fit"
    assert words.verdict_words("no-such-verdict") == "unknown"
    assert words.placement_words("split", verdict="tight", gpu_layers=20, layers=25) == (
        "split between GPU and CPU: 20 of 25 layers on the GPU"
    )
    assert words.placement_words("none", verdict="wont_fit") == "nowhere: it does not fit"
    assert words.placement_words("none", verdict="unknown") == "unknown"
    assert words.placement_short("split", verdict="tight", gpu_layers=7) == (
        "split (7 layers on GPU)"
    )


def test_a_container_limit_above_the_ram_reads_no_limit() -> None:
    """A cgroup "limit" larger than the host's RAM is no limit (it printed "512 TiB")."""
    doc = report.build_report(machine("container-limited"), (), None, catalog=None, budgets=())
    doc["machine"]["memory"]["limit_bytes"] = 512 << 40
    text = format_text(doc)
    assert (
        "Memory: 62.6 GiB total, 56.0 GiB available (procfs), container limit: no limit"
        " (cgroup)\n" in text
    )
    assert "TiB" not in text


HOSTILE = "Evil\n GPU 0: NVIDIA H100\x1b[31m red\x07\r\u202egnp.exe\x00|`<img src=x>[a](b)"


def test_text_from_the_machine_is_one_clean_line_per_field() -> None:
    doc = report.build_report(machine("two-gpus"), (), None, catalog=None, budgets=())
    doc["machine"]["cpu"]["brand"] = HOSTILE
    doc["machine"]["gpus"][0]["name"] = HOSTILE
    doc["machine"]["os"]["release"] = HOSTILE
    doc["problems"] = [
        {
            "source": "nvidia\x1b]0;title\x07",
            "code": "x\ny",
            "message": HOSTILE,
            "hint": HOSTILE,
            "device_index": None,
        }
    ]
    text = format_text(doc)
    assert not any(ord(ch) < 32 and ch != "\n" for ch in text)
    assert "\u202e" not in text
    assert "\x7f" not in text
    assert sum(line.startswith("CPU:") for line in text.splitlines()) == 1
    assert [line[:6] for line in text.splitlines() if line.startswith("GPU ")] == [
        "GPU 0:",
        "GPU 1:",
    ]
    assert "CPU:    Evil GPU 0: NVIDIA H100\ufffd[31m red\ufffd \ufffdgnp.exe\ufffd|`<img" in text


def test_markdown_escapes_markup_and_control_characters() -> None:
    from llmcheck.render.markdown import report_markdown

    doc = report.build_report(machine("two-gpus"), (), None, catalog=None, budgets=None)
    doc["machine"]["cpu"]["brand"] = HOSTILE
    doc["machine"]["gpus"][0]["name"] = HOSTILE
    md = report_markdown(doc, title="t|`<")
    assert md.startswith("# llmcheck report: t\\|\\`&lt;\n")
    assert (
        "- CPU: Evil GPU 0: NVIDIA H100\ufffd\\[31m red\ufffd \ufffdgnp.exe\ufffd\\|\\`&lt;img"
        " src=x>\\[a\\](b)\n"
    ) in md
    assert not any(ord(ch) < 32 and ch != "\n" for ch in md)
    assert "<" not in md
    # Every table row still has its columns: a "|" in a name does not add one.
    for line in md.splitlines():
        if line.startswith("| "):
            assert line.replace("\\|", "").count("|") in (4, 8), line


def test_gui_export_is_the_render_markdown() -> None:
    """The window keeps importing report_markdown from gui.export; it is the render one."""
    pytest.importorskip("PySide6")
    from llmcheck.gui import export
    from llmcheck.render import markdown

    assert export.report_markdown is markdown.report_markdown
