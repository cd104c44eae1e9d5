"""The what-if machine catalog: every entry loads, and becomes a snapshot from Source.TABLE."""

from __future__ import annotations

import pytest

from llmcheck.machines import (
    CUSTOM_ID,
    GIB,
    GROUPS,
    CustomMachineSpec,
    MachineCatalogError,
    custom_machine,
    grouped_machines,
    load_machines,
    machine_group,
    machine_snapshot,
    with_host_ram,
)
from llmcheck.resources import resource_path
from llmcheck.snapshot import MemoryKind, Source, snapshot_from_dict, snapshot_to_dict


def test_shipped_catalog_has_the_machines_the_issue_names() -> None:
    ids = {m.id for m in load_machines()}
    for wanted in (
        "rtx-3060-12g",
        "rtx-4090",
        "rtx-5090",
        "a100-80g",
        "h100-80g",
        "t4",
        "rx-7900-xtx",
        "arc-a770-16g",
        "apple-m2-max-64g",
        "dgx-spark",
        "strix-halo-128g",
        "jetson-agx-orin-64g",
        "cpu-laptop-8g",
        "cpu-laptop-32g",
    ):
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
        (
            '[[machine]]\nid = "x"\nname = "X"\nkind = "gpu"\nvendor = "nvidia"\n'
            'bandwidth_gb_s = 100\nhost_ram_gib = 8\nos_reserved_gib = 1\nsource = "s"\n',
            "'vram_gib'",
        ),
        (
            '[[machine]]\nid = "x"\nname = "X"\nkind = "tpu"\nmemory_gib = 8\n'
            'bandwidth_gb_s = 1\nsource = "s"\n',
            "kind 'tpu'",
        ),
        (
            '[[machine]]\nid = "x"\nname = "X"\nkind = "unified"\nvendor = "acme"\nmemory_gib = 8\n'
            'bandwidth_gb_s = 1\nos_reserved_gib = 1\nsource = "s"\n',
            "unknown vendor",
        ),
    ],
)
def test_bad_catalog_names_the_problem(text: str, words: str) -> None:
    with pytest.raises(MachineCatalogError, match=words.replace("[", r"\[")):
        load_machines(text)


def test_duplicate_ids_are_refused() -> None:
    entry = (
        '[[machine]]\nid = "x"\nname = "X"\nkind = "cpu"\nmemory_gib = 8\n'
        'bandwidth_gb_s = 50\nos_reserved_gib = 1\nsource = "s"\n'
    )
    with pytest.raises(MachineCatalogError, match="duplicate id 'x'"):
        load_machines(entry + entry)


def test_apple_machines_get_the_default_metal_cap() -> None:
    m2 = next(m for m in load_machines() if m.id == "apple-m2-max-64g")
    gpu = machine_snapshot(m2).gpus[0]
    assert gpu.working_set_cap_bytes == 48 * GIB  # 3/4 of 64 GiB, the probe's documented default
    assert gpu.working_set_cap_source is Source.DEFAULT


# --- names, groups, search, host RAM, the user's own machine (issue #11) -----------------------


def test_names_use_gib_and_the_file_cites_nothing_outside_the_repo() -> None:
    for machine in load_machines():
        assert " GB" not in machine.name.replace(" GB/s", ""), machine.name
    text = resource_path("machines.toml").read_text(encoding="utf-8")
    assert "/work/" not in text
    assert "hardware-probing" not in text
    assert "NVIDIA GeForce RTX 4060 8 GiB" in {m.name for m in load_machines()}


def test_every_machine_is_in_a_group_and_apple_is_its_own() -> None:
    machines = load_machines()
    groups = dict(grouped_machines(machines))
    assert sum(len(v) for v in groups.values()) == len(machines)
    assert list(groups) == [g for g in GROUPS if g in groups]
    assert all(m.id.startswith("apple-") for m in groups["Apple"])
    assert {m.id for m in groups["CPU only"]} == {
        "cpu-laptop-8g",
        "cpu-laptop-16g",
        "cpu-laptop-32g",
    }
    assert machine_group(next(m for m in machines if m.id == "strix-halo-128g")) == (
        "Other unified memory"
    )
    assert machine_group(next(m for m in machines if m.id == "dgx-spark")) == "NVIDIA"


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("4090", {"rtx-4090"}),
        ("m3 max", {"apple-m3-max-36g", "apple-m3-max-128g"}),
        ("AMD 24 GiB", {"rx-7900-xtx"}),
        ("no such machine", set()),
    ],
)
def test_search_keeps_machines_holding_every_word(query: str, wanted: set[str]) -> None:
    found = {m.id for _, members in grouped_machines(load_machines(), query) for m in members}
    assert found == wanted


def test_host_ram_is_adjustable_for_a_card_only() -> None:
    machines = {m.id: m for m in load_machines()}
    card = with_host_ram(machines["rtx-4060-8g"], 64)
    assert card.id == "rtx-4060-8g@ram64"
    assert card.host_ram_bytes == 64 * GIB
    assert card.device_memory_bytes == machines["rtx-4060-8g"].device_memory_bytes
    assert machine_snapshot(card).memory.total_bytes == 64 * GIB
    with pytest.raises(ValueError, match="one memory pool"):
        with_host_ram(machines["apple-m2-16g"], 64)
    with pytest.raises(ValueError, match="host RAM"):
        with_host_ram(machines["rtx-4060-8g"], 0)


def test_a_custom_card_becomes_a_machine() -> None:
    machine = custom_machine(
        CustomMachineSpec(
            name="My  RTX 3070",
            vendor="nvidia",
            gpu_memory_gib=8,
            ram_gib=16,
            bandwidth_gb_s=448,
            ram_bandwidth_gb_s=51.2,
        )
    )
    assert (machine.id, machine.name, machine.kind) == (CUSTOM_ID, "My RTX 3070", "gpu")
    snapshot = machine_snapshot(machine)
    (gpu,) = snapshot.gpus
    assert gpu.total_bytes == 8 * GIB
    assert gpu.bandwidth_gb_s == 448
    assert snapshot.memory.total_bytes == 16 * GIB
    assert snapshot.memory.bandwidth_gb_s == 51.2
    snapshot_from_dict(snapshot_to_dict(snapshot))


def test_a_custom_mac_and_a_cpu_box_have_one_pool() -> None:
    mac = custom_machine(CustomMachineSpec(vendor="apple", ram_gib=24, bandwidth_gb_s=120))
    assert (mac.kind, mac.name) == ("unified", "Apple unified memory, 24 GiB")
    assert mac.device_memory_bytes == mac.host_ram_bytes == 24 * GIB
    box = custom_machine(CustomMachineSpec(vendor="cpu", ram_gib=8, bandwidth_gb_s=40))
    assert (box.kind, box.vendor) == ("cpu", None)
    assert machine_snapshot(box).gpus == ()


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (CustomMachineSpec(ram_gib=0), "RAM must be between"),
        (CustomMachineSpec(gpu_memory_gib=float("nan")), "GPU memory must be between"),
        (CustomMachineSpec(bandwidth_gb_s=1e9), "Bandwidth must be between"),
        (CustomMachineSpec(ram_bandwidth_gb_s=0), "RAM bandwidth must be between"),
        (CustomMachineSpec(vendor="3dfx"), "Choose a GPU maker"),
    ],
)
def test_a_wrong_custom_value_gets_one_sentence(spec: CustomMachineSpec, words: str) -> None:
    with pytest.raises(ValueError, match=words) as caught:
        custom_machine(spec)
    assert "\n" not in str(caught.value)
