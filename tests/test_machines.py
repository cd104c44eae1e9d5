"""The what-if machine catalog: every entry loads, and becomes a snapshot from Source.TABLE."""

from __future__ import annotations

import pytest

from llmcheck.machines import GIB, MachineCatalogError, load_machines, machine_snapshot
from llmcheck.snapshot import MemoryKind, Source, snapshot_from_dict, snapshot_to_dict


def test_shipped_catalog_has_the_machines_the_issue_names() -> None:
    ids = {m.id for m in load_machines()}
    for wanted in ("rtx-3060-12g", "rtx-4090", "rtx-5090", "a100-80g", "h100-80g", "t4",
                   "rx-7900-xtx", "arc-a770-16g", "apple-m2-max-64g", "dgx-spark",
                   "strix-halo-128g", "jetson-agx-orin-64g", "cpu-laptop-8g", "cpu-laptop-32g"):
        assert wanted in ids


def test_every_entry_has_a_source_and_plausible_numbers() -> None:
    for machine in load_machines():
        assert machine.source_note.strip(), machine.id
        assert 1 * GIB <= machine.device_memory_bytes <= 1024 * GIB, machine.id
        assert 20 <= machine.bandwidth_gb_s <= 5000, machine.id


@pytest.mark.parametrize("machine", load_machines(), ids=lambda m: m.id)
def test_snapshot_round_trips_and_names_the_table(machine) -> None:
    snapshot = machine_snapshot(machine)
    assert snapshot.memory.source is Source.TABLE
    if machine.kind == "cpu":
        assert snapshot.gpus == ()
    else:
        (gpu,) = snapshot.gpus
        assert gpu.memory_source is Source.TABLE
        assert gpu.bandwidth_gb_s == machine.bandwidth_gb_s
        assert gpu.total_bytes == machine.device_memory_bytes
        assert (gpu.memory_kind is MemoryKind.UNIFIED) is (machine.kind == "unified")
    # The snapshot is valid by the snapshot layer's own checks.
    snapshot_from_dict(snapshot_to_dict(snapshot))


def test_unified_pool_is_the_whole_memory_less_the_os() -> None:
    spark = next(m for m in load_machines() if m.id == "dgx-spark")
    snapshot = machine_snapshot(spark)
    assert snapshot.memory.total_bytes == 128 * GIB
    assert snapshot.gpus[0].free_bytes == snapshot.memory.available_bytes == 125 * GIB


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("this is not toml", "machines.toml"),
        ("schema_version = 1\n", "no [[machine]]"),
        ('[[machine]]\nid = "x"\nname = "X"\nkind = "gpu"\nvendor = "nvidia"\n'
         "bandwidth_gb_s = 100\nhost_ram_gib = 8\nos_reserved_gib = 1\nsource = \"s\"\n",
         "'vram_gib'"),
        ('[[machine]]\nid = "x"\nname = "X"\nkind = "tpu"\nmemory_gib = 8\n'
         'bandwidth_gb_s = 1\nsource = "s"\n', "kind 'tpu'"),
        ('[[machine]]\nid = "x"\nname = "X"\nkind = "unified"\nvendor = "acme"\nmemory_gib = 8\n'
         'bandwidth_gb_s = 1\nos_reserved_gib = 1\nsource = "s"\n', "unknown vendor"),
    ],
)
def test_bad_catalog_names_the_problem(text: str, words: str) -> None:
    with pytest.raises(MachineCatalogError, match=words.replace("[", r"\[")):
        load_machines(text)


def test_duplicate_ids_are_refused() -> None:
    entry = ('[[machine]]\nid = "x"\nname = "X"\nkind = "cpu"\nmemory_gib = 8\n'
             'bandwidth_gb_s = 50\nos_reserved_gib = 1\nsource = "s"\n')
    with pytest.raises(MachineCatalogError, match="duplicate id 'x'"):
        load_machines(entry + entry)


def test_apple_machines_get_the_default_metal_cap() -> None:
    m2 = next(m for m in load_machines() if m.id == "apple-m2-max-64g")
    gpu = machine_snapshot(m2).gpus[0]
    assert gpu.working_set_cap_bytes == 48 * GIB  # 3/4 of 64 GiB, the probe's documented default
    assert gpu.working_set_cap_source is Source.DEFAULT
