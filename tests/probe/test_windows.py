"""Windows GPUs: registry exports through the real parser (runs on any OS)."""

from __future__ import annotations

from llmcheck.probe.windows import parse_reg_export, probe_windows_gpus
from llmcheck.snapshot import GpuVendor, MemoryKind, Source
from tests.probe._fakes import DATA

GiB = 2**30


def _adapters(name: str):
    text = (DATA / "registry" / name).read_text()
    return lambda: parse_reg_export(text)


def test_reg_export_parser_reads_types() -> None:
    adapters = dict(parse_reg_export((DATA / "registry" / "rx7900xtx_uhd770.reg").read_text()))
    assert sorted(adapters) == ["0000", "0001", "0002", "0003"]
    amd = adapters["0000"]
    assert amd["HardwareInformation.qwMemorySize"] == 24 * GiB
    assert amd["HardwareInformation.MemorySize"] == b"\x00\x00\xf0\xff"
    assert amd["MatchingDeviceId"] == "pci\\ven_1002&dev_744c&rev_c8"


def test_qword_24_gib_wins_over_the_4_gib_32bit_value() -> None:
    result = probe_windows_gpus(read_adapters=_adapters("rx7900xtx_uhd770.reg"))
    names = [g.name for g in result.gpus]
    assert names == ["AMD Radeon RX 7900 XTX", "Intel(R) UHD Graphics 770"]  # no NVIDIA, no basic
    amd, intel = result.gpus
    assert amd.total_bytes == 24 * GiB
    assert amd.memory_source is Source.REGISTRY
    assert amd.bandwidth_gb_s == 960.0
    assert amd.vendor is GpuVendor.AMD
    assert amd.driver_version == "32.0.11037.4004"
    assert intel.memory_kind is MemoryKind.INTEGRATED
    assert not intel.is_primary
    assert result.issues == ()


def test_nvidia_kept_when_nvml_failed() -> None:
    result = probe_windows_gpus(
        read_adapters=_adapters("rx7900xtx_uhd770.reg"), skip_vendors=frozenset()
    )
    assert any(g.vendor is GpuVendor.NVIDIA and g.total_bytes == 24 * GiB for g in result.gpus)


def test_old_driver_with_only_the_capped_32bit_size() -> None:
    result = probe_windows_gpus(read_adapters=_adapters("old_driver_32bit.reg"))
    capped, small = result.gpus
    assert capped.total_bytes is None  # 4 GiB ceiling: unknown, not 4 GiB
    assert small.total_bytes == 2 * GiB
    codes = [(i.code, i.device_index) for i in result.issues]
    assert ("vram_capped_32bit", 0) in codes
    assert ("vram_unknown", 0) in codes
    assert all(index == 0 for _, index in codes)


def test_unreadable_registry_is_an_issue() -> None:
    def denied() -> list:  # type: ignore[type-arg]
        raise PermissionError("access denied")

    result = probe_windows_gpus(read_adapters=denied)
    assert result.gpus == ()
    assert [i.code for i in result.issues] == ["registry_unreadable"]


def test_real_reader_on_non_windows_fails_cleanly() -> None:
    result = probe_windows_gpus()
    # On Linux / macOS winreg is missing: an issue, never a traceback.
    import sys

    if sys.platform != "win32":
        assert [i.code for i in result.issues] == ["registry_unreadable"]
