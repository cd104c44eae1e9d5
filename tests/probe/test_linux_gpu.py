"""AMD / Intel on Linux: recorded sysfs trees through the real reader."""

from __future__ import annotations

from pathlib import Path

from llmcheck.probe.linux_gpu import load_pci_table, lookup_pci, parse_pci_table, probe_linux_gpus
from llmcheck.snapshot import GpuVendor, MemoryKind, Source
from tests.probe._fakes import DATA

SYSFS = DATA / "sysfs"
GiB = 2**30
MiB = 2**20


def test_rx7900xtx_discrete_once_despite_render_node_and_connector() -> None:
    result = probe_linux_gpus(sysfs_root=SYSFS / "rx7900xtx")
    (gpu,) = result.gpus
    assert result.issues == ()
    assert gpu.vendor is GpuVendor.AMD
    assert gpu.name == "Radeon RX 7900 XTX"  # picked from the 744c family by its 24 GiB
    assert gpu.pci_id == "1002:744c"
    assert gpu.pci_bus_id == "0000:03:00.0"
    assert gpu.memory_kind is MemoryKind.DISCRETE
    assert gpu.total_bytes == 25753026560
    assert gpu.free_bytes == 25753026560 - 1288490188
    assert gpu.memory_source is Source.SYSFS
    assert gpu.gtt_total_bytes == 12637011968
    assert gpu.bandwidth_gb_s == 960.0
    assert gpu.bandwidth_source is Source.TABLE
    assert gpu.is_primary


def test_strix_halo_reports_carve_out_and_gtt_separately() -> None:
    ram = 128 * GiB - 512 * MiB  # MemTotal excludes the carve-out
    (gpu,) = probe_linux_gpus(sysfs_root=SYSFS / "strix_halo", ram_total_bytes=ram).gpus
    assert gpu.memory_kind is MemoryKind.UNIFIED
    assert gpu.total_bytes == 512 * MiB  # the carve-out, not carve-out + GTT
    assert gpu.gtt_total_bytes == 96 * GiB
    assert gpu.gtt_free_bytes == 94 * GiB
    assert gpu.working_set_cap_bytes == 96 * GiB + 512 * MiB
    assert gpu.working_set_cap_source is Source.COMPUTED
    assert gpu.bandwidth_gb_s == 256.0


def test_strix_halo_cap_never_exceeds_physical_ram() -> None:
    ram = 64 * GiB - 512 * MiB  # a 64 GB machine with an oversized GTT limit
    (gpu,) = probe_linux_gpus(sysfs_root=SYSFS / "strix_halo", ram_total_bytes=ram).gpus
    assert gpu.working_set_cap_bytes == 64 * GiB


def test_arc_a770_16gb_from_lmem_file() -> None:
    (gpu,) = probe_linux_gpus(sysfs_root=SYSFS / "arc_a770").gpus
    assert gpu.vendor is GpuVendor.INTEL
    assert gpu.name == "Arc A770 16GB"
    assert gpu.total_bytes == 16 * GiB
    assert gpu.bandwidth_gb_s == 560.0
    assert gpu.memory_kind is MemoryKind.DISCRETE


def test_intel_igpu_is_integrated_with_unknown_memory_and_no_complaint() -> None:
    result = probe_linux_gpus(sysfs_root=SYSFS / "intel_igpu")
    (gpu,) = result.gpus
    assert gpu.memory_kind is MemoryKind.INTEGRATED
    assert gpu.total_bytes is None
    assert gpu.name == "UHD Graphics 770 (Raptor Lake-S)"
    assert not gpu.is_primary
    assert result.issues == ()


def test_garbage_files_become_issues_and_unknowns() -> None:
    result = probe_linux_gpus(sysfs_root=SYSFS / "garbage")
    by_id = {g.pci_id: g for g in result.gpus}
    assert "10de:2684" not in by_id  # NVIDIA skipped by default: NVML covers it
    bad = by_id["1002:73bf"]
    assert bad.total_bytes is None
    assert bad.free_bytes is None
    assert bad.gtt_total_bytes is None  # "0" is not a budget
    assert bad.bandwidth_gb_s == 512.0  # the table still names it
    unknown = by_id["1002:abcd"]
    assert unknown.total_bytes == 8 * GiB
    assert unknown.memory_kind is MemoryKind.DISCRETE
    codes = sorted(i.code for i in result.issues)
    assert codes == [
        "gpu_not_in_table",
        "sysfs_value_invalid",
        "sysfs_value_invalid",
        "vram_unknown",
    ]


def test_nvidia_card_reported_when_nvml_failed() -> None:
    result = probe_linux_gpus(sysfs_root=SYSFS / "garbage", skip_vendors=frozenset())
    nvidia = [g for g in result.gpus if g.vendor is GpuVendor.NVIDIA]
    assert len(nvidia) == 1
    assert nvidia[0].total_bytes is None
    assert any(i.source == "nvidia" and i.code == "vram_unknown" for i in result.issues)


def test_unreadable_file_is_reported_and_the_rest_survives() -> None:
    def read_text(path: Path) -> str:
        if path.name == "mem_info_vram_used":
            raise PermissionError(13, "Permission denied", str(path))
        return path.read_text()

    result = probe_linux_gpus(sysfs_root=SYSFS / "rx7900xtx", read_text=read_text)
    (gpu,) = result.gpus
    assert gpu.total_bytes == 25753026560
    assert gpu.free_bytes is None
    assert [i.code for i in result.issues] == ["sysfs_unreadable"]


def test_no_drm_directory_means_no_gpus(tmp_path: Path) -> None:
    result = probe_linux_gpus(sysfs_root=tmp_path)
    assert result.gpus == ()
    assert result.issues == ()


def test_variant_outside_tolerance_leaves_bandwidth_unknown() -> None:
    entry = lookup_pci("1002:744c", 12 * GiB)
    assert entry is not None
    assert entry.bandwidth_gb_s is None
    assert entry.name == "Radeon RX 7900 XT / 7900 XTX / 7900 GRE"


def test_shipped_pci_table_is_valid() -> None:
    table = load_pci_table()
    assert "1002:1586" in table
    for pci_id, row in table.items():
        assert pci_id == pci_id.lower()
        bw = row.get("bandwidth_gb_s")
        assert bw is None or 10 < bw < 20_000, pci_id


def test_bad_pci_table_names_the_row() -> None:
    import pytest

    with pytest.raises(ValueError, match=r"gpu\[0\]"):
        parse_pci_table('[[gpu]]\npci_id = "1002"\nname = "x"\nkind = "discrete"\n')
