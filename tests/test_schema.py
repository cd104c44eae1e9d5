"""The published JSON Schema, and the recorded machine snapshots it describes."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from llmcheck.snapshot import MemoryKind, Source, snapshot_from_dict
from tests.helpers import (
    SNAPSHOT_DIR,
    SNAPSHOT_NAMES,
    load_schema,
    read_snapshot_doc,
    validator_for,
)


def load_generator() -> ModuleType:
    """tests/data/snapshots/make_snapshots.py, imported from its path."""
    path = SNAPSHOT_DIR / "make_snapshots.py"
    spec = importlib.util.spec_from_file_location("make_snapshots", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_snapshots", module)
    spec.loader.exec_module(module)
    return module


def test_schema_is_valid_draft_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_snapshot_is_recorded() -> None:
    on_disk = sorted(p.stem for p in SNAPSHOT_DIR.glob("*.json"))
    assert on_disk == sorted(SNAPSHOT_NAMES)
    assert sorted(load_generator().SNAPSHOTS) == sorted(SNAPSHOT_NAMES)


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_snapshot_file_is_what_the_generator_writes(name: str) -> None:
    """The files cannot drift from the dataclasses: they are exactly the generator's output."""
    gen = load_generator()
    text = (SNAPSHOT_DIR / f"{name}.json").read_text(encoding="utf-8")
    assert text == gen.render(gen.SNAPSHOTS[name]())


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_snapshot_validates_and_documents_every_key(name: str) -> None:
    doc = read_snapshot_doc(name)
    validator_for("snapshot_document", strict=True).validate(doc)


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_snapshot_round_trips(name: str) -> None:
    """dataclass -> JSON text -> snapshot_from_dict gives the same machine back."""
    gen = load_generator()
    built = gen.SNAPSHOTS[name]()
    back = snapshot_from_dict(read_snapshot_doc(name))
    assert back == replace(built, source=Source.SNAPSHOT)
    assert gen.document(back)["machine"]["gpus"] == gen.document(built)["machine"]["gpus"]


def test_rtx_4090_bandwidth_is_computed_from_bus_and_clock() -> None:
    gpu = snapshot_from_dict(read_snapshot_doc("one-nvidia")).gpus[0]
    assert gpu.total_bytes == 25_757_220_864
    assert gpu.memory_bus_width_bits == 384
    assert gpu.max_memory_clock_mhz == 10501
    assert gpu.bandwidth_gb_s == pytest.approx(2 * 10501 * 384 / 8 / 1000, abs=0.05)
    assert gpu.bandwidth_source is Source.COMPUTED
    assert gpu.free_bytes is not None
    assert 23 * 2**30 < gpu.free_bytes < 24 * 2**30
    assert gpu.used_bytes is not None
    assert gpu.reserved_bytes is not None
    assert gpu.free_bytes + gpu.used_bytes + gpu.reserved_bytes == gpu.total_bytes


def test_two_gpus_are_two_devices_not_one_pool() -> None:
    snap = snapshot_from_dict(read_snapshot_doc("two-gpus"))
    assert [g.name for g in snap.gpus] == ["NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 3060"]
    assert [g.total_bytes for g in snap.gpus] == [24 * 2**30, 12 * 2**30]
    assert [g.index for g in snap.gpus] == [0, 1]


def test_unified_machines_say_so() -> None:
    apple = snapshot_from_dict(read_snapshot_doc("apple-m2-max"))
    spark = snapshot_from_dict(read_snapshot_doc("dgx-spark"))
    m2 = apple.gpus[0]
    assert m2.memory_kind is MemoryKind.UNIFIED
    assert m2.working_set_cap_bytes == pytest.approx(21.33 * 2**30, rel=1e-3)
    assert m2.working_set_cap_source is Source.DEFAULT
    assert m2.bandwidth_gb_s == 400.0
    gb10 = spark.gpus[0]
    assert gb10.unified_memory
    assert gb10.total_bytes is None  # no memory of its own: the budget is the RAM
    assert spark.memory.total_bytes is not None
    assert spark.memory.total_bytes > 120 * 10**9
    assert gb10.bandwidth_gb_s == 273.0
    assert "nvml_not_supported" in {p.code for p in spark.problems}
    assert "working_set_cap_estimated" in {p.code for p in apple.problems}


def test_container_limit_caps_usable_memory() -> None:
    mem = snapshot_from_dict(read_snapshot_doc("container-limited")).memory
    assert mem.total_bytes is not None
    assert mem.total_bytes > 60 * 2**30
    assert mem.limit_bytes == 4 * 2**30
    assert mem.limit_source is Source.CGROUP
    assert mem.usable_bytes is not None
    assert mem.usable_bytes <= 4 * 2**30


def test_unknown_budget_is_null_never_zero() -> None:
    doc = read_snapshot_doc("unknown-budget")
    assert doc["machine"]["memory"]["total_bytes"] is None
    assert doc["machine"]["memory"]["available_bytes"] is None
    assert doc["machine"]["gpus"][0]["total_bytes"] is None
    assert doc["machine"]["gpus"][0]["free_bytes"] is None
    assert len(doc["problems"]) >= 2


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("machine", "memory", "total_bytes"), "16 GiB"),
        (("machine", "memory", "total_bytes"), 16106127360.5),
        (("machine", "memory", "total_bytes"), -1),
        (("machine", "gpus", 0, "vendor"), "nvidea"),
        (("machine", "gpus", 0, "source"), "guess"),
        (("schema_version",), "2"),
        (("problems", 0, "code"), "Not Snake"),
    ],
)
def test_schema_rejects_bad_values(path: tuple[str | int, ...], bad: object) -> None:
    """The schema is not a rubber stamp: wrong types, units and enums fail."""
    doc = read_snapshot_doc("one-nvidia")
    doc["problems"] = [
        {"source": "nvidia", "code": "x", "message": "m", "hint": "", "device_index": None}
    ]
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    with pytest.raises(jsonschema.ValidationError):
        validator_for("snapshot_document").validate(doc)


def test_strict_check_catches_an_undocumented_key() -> None:
    doc = read_snapshot_doc("cpu-laptop")
    doc["machine"]["memory"]["ram_gb"] = 16
    validator_for("snapshot_document").validate(doc)  # open for additions
    with pytest.raises(jsonschema.ValidationError):
        validator_for("snapshot_document", strict=True).validate(doc)


def test_docs_name_every_field_of_the_schema() -> None:
    """docs/json-output.md documents every key the schema publishes."""
    docs = (Path(__file__).parent.parent / "docs" / "json-output.md").read_text(encoding="utf-8")
    names: set[str] = set()
    stack: list[Any] = [load_schema()]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            names.update(item.get("properties", {}))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    spans = " ".join(re.findall(r"`([^`]*)`", docs))
    missing = sorted(n for n in names if re.search(rf"(?<![a-z_]){n}(?![a-z_])", spans) is None)
    assert missing == []
