"""Apple silicon: recorded sysctl / ioreg output through the real parser."""

from __future__ import annotations

import pytest

from llmcheck.probe.apple import (
    chip_bandwidth_gb_s,
    default_working_set_cap_bytes,
    load_apple_table,
    parse_apple_table,
    probe_apple,
)
from llmcheck.snapshot import GpuVendor, MemoryKind, Source
from tests.probe._fakes import fake_run

GiB = 2**30


def test_m2_max_38_core_default_cap() -> None:
    result = probe_apple(run=fake_run("m2max_38_default.txt", ioreg="ioreg_agx_38.txt"))
    (gpu,) = result.gpus
    assert gpu.vendor is GpuVendor.APPLE
    assert gpu.memory_kind is MemoryKind.UNIFIED
    assert gpu.name == "Apple M2 Max (38-core GPU)"
    assert gpu.gpu_cores == 38
    assert gpu.total_bytes == 64 * GiB
    assert gpu.memory_source is Source.SYSCTL
    assert gpu.working_set_cap_bytes == 48 * GiB  # 3/4 of 64 GiB
    assert gpu.working_set_cap_source is Source.DEFAULT
    assert gpu.bandwidth_gb_s == 400.0
    assert [i.code for i in result.issues] == ["working_set_cap_estimated"]


def test_m2_max_with_wired_limit_set() -> None:
    result = probe_apple(run=fake_run("m2max_38_wired.txt", ioreg="ioreg_agx_38.txt"))
    (gpu,) = result.gpus
    assert gpu.working_set_cap_bytes == 57344 * 2**20
    assert gpu.working_set_cap_source is Source.SYSCTL
    assert result.issues == ()


def test_m4_pro_20_core() -> None:
    (gpu,) = probe_apple(run=fake_run("m4pro_20.txt", ioreg="ioreg_agx_20.txt")).gpus
    assert gpu.bandwidth_gb_s == 273.0
    assert gpu.total_bytes == 48 * GiB
    assert gpu.working_set_cap_bytes == 36 * GiB


def test_core_count_falls_back_to_system_profiler() -> None:
    run = fake_run("m2max_38_default.txt", profiler="system_profiler_displays_38.txt")
    (gpu,) = probe_apple(run=run).gpus
    assert gpu.gpu_cores == 38


def test_binned_max_without_core_count_has_unknown_bandwidth() -> None:
    result = probe_apple(run=fake_run("m3max_rosetta.txt"))
    (gpu,) = result.gpus
    assert gpu.bandwidth_gb_s is None
    assert {"gpu_cores_unknown", "chip_not_in_table"} <= {i.code for i in result.issues}


def test_binned_max_by_cores() -> None:
    assert chip_bandwidth_gb_s("Apple M4 Max", 40) == 546.0
    assert chip_bandwidth_gb_s("Apple M4 Max", 32) == 410.0
    assert chip_bandwidth_gb_s("Apple M4 Max", None) is None
    assert chip_bandwidth_gb_s("Apple M9", 10) is None


def test_default_rule_small_and_large() -> None:
    assert default_working_set_cap_bytes(16 * GiB) == 16 * GiB * 2 // 3
    assert default_working_set_cap_bytes(128 * GiB) == 96 * GiB


def test_intel_mac_is_not_probed_as_apple_silicon() -> None:
    result = probe_apple(run=fake_run("intel_mac.txt"))
    assert result.gpus == ()
    assert [i.code for i in result.issues] == ["not_apple_silicon"]


def test_no_sysctl_is_an_issue() -> None:
    result = probe_apple(run=fake_run(None))
    assert result.gpus == ()
    assert [i.code for i in result.issues] == ["sysctl_failed"]


def test_shipped_apple_table_is_valid() -> None:
    table = load_apple_table()
    assert "Apple M4 Ultra" not in table  # never shipped; peer tables list it
    assert len(table) >= 18


def test_bad_apple_table_names_the_chip() -> None:
    with pytest.raises(ValueError, match="Apple M9"):
        parse_apple_table(
            '[[chip]]\nname = "Apple M9"\n[[chip.bin]]\ngpu_cores = "x"\nbandwidth_gb_s = 1\n'
        )
