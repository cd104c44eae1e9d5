"""CPU probe: recorded /proc/cpuinfo, sysctl and Windows answers through the real parsers."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmcheck.probe.cpu import probe_cpu
from llmcheck.snapshot import Source
from tests.probe._fakes import DATA, fake_run


def _proc(tmp_path: Path, name: str) -> Path:
    (tmp_path / "cpuinfo").write_text((DATA / "proc" / name).read_text())
    return tmp_path


def test_sapphire_rapids_features_and_cores(tmp_path: Path) -> None:
    cpu, issues = probe_cpu(
        system="Linux", machine="x86_64", proc_root=_proc(tmp_path, "cpuinfo_sapphire_rapids.txt")
    )
    assert cpu.brand == "Intel(R) Xeon(R) Platinum 8488C"
    assert cpu.physical_cores == 2
    assert cpu.logical_cores == 4
    assert cpu.features == (
        "sse3",
        "ssse3",
        "avx",
        "avx2",
        "fma",
        "f16c",
        "avx512f",
        "avx512bw",
        "avx512vl",
        "avx512vnni",
        "avx512bf16",
        "avxvnni",
        "amx",
    )
    assert cpu.source is Source.PROCFS
    assert issues == ()


def test_graviton3_arm_features(tmp_path: Path) -> None:
    cpu, _ = probe_cpu(
        system="Linux", machine="aarch64", proc_root=_proc(tmp_path, "cpuinfo_graviton3.txt")
    )
    assert cpu.features == ("neon", "dotprod", "i8mm", "fp16", "sve")
    assert cpu.logical_cores == 4
    assert cpu.arch == "aarch64"


def test_epyc_vm_has_avx2_but_no_avx512(tmp_path: Path) -> None:
    cpu, _ = probe_cpu(
        system="Linux", machine="x86_64", proc_root=_proc(tmp_path, "cpuinfo_epyc_vm.txt")
    )
    assert "avx2" in cpu.features
    assert not any(f.startswith("avx512") for f in cpu.features)


def test_unreadable_cpuinfo_is_an_issue(tmp_path: Path) -> None:
    cpu, issues = probe_cpu(system="Linux", machine="x86_64", proc_root=tmp_path / "missing")
    assert cpu.features == ()
    assert cpu.brand is None
    assert [i.code for i in issues] == ["cpuinfo_unreadable"]


def test_m2_max_from_sysctl() -> None:
    cpu, issues = probe_cpu(system="Darwin", machine="arm64", run=fake_run("m2max_38_default.txt"))
    assert cpu.brand == "Apple M2 Max"
    assert (cpu.physical_cores, cpu.logical_cores) == (12, 12)
    assert cpu.features == ("neon", "dotprod", "i8mm", "fp16")
    assert cpu.source is Source.SYSCTL
    assert issues == ()


def test_m4_pro_has_sme() -> None:
    cpu, _ = probe_cpu(system="Darwin", machine="arm64", run=fake_run("m4pro_20.txt"))
    assert "sme" in cpu.features


def test_intel_mac_reads_leaf7_for_avx2() -> None:
    cpu, _ = probe_cpu(system="Darwin", machine="x86_64", run=fake_run("intel_mac.txt"))
    assert cpu.features == ("sse3", "ssse3", "avx", "avx2", "fma", "f16c")
    assert cpu.physical_cores == 8


def test_rosetta_is_reported_and_arch_corrected() -> None:
    cpu, issues = probe_cpu(system="Darwin", machine="x86_64", run=fake_run("m3max_rosetta.txt"))
    assert cpu.arch == "arm64"
    assert [i.code for i in issues] == ["rosetta"]


def test_sysctl_missing_is_an_issue() -> None:
    cpu, issues = probe_cpu(system="Darwin", machine="arm64", run=fake_run(None))
    assert cpu.brand is None
    assert [i.code for i in issues] == ["sysctl_failed"]


def test_windows_registry_and_feature_flags() -> None:
    present = {13, 36, 39, 40}
    cpu, issues = probe_cpu(
        system="Windows",
        machine="AMD64",
        feature_present=lambda c: c in present,
        registry_string=lambda key, value: "AMD Ryzen 9 7950X 16-Core Processor  ",
    )
    assert cpu.brand == "AMD Ryzen 9 7950X 16-Core Processor"
    assert cpu.features == ("sse3", "ssse3", "avx", "avx2")
    assert cpu.source is Source.REGISTRY
    assert issues == ()


def test_windows_registry_failure_keeps_features() -> None:
    def denied(key: str, value: str) -> str:
        raise PermissionError("access denied")

    cpu, issues = probe_cpu(
        system="Windows", machine="AMD64", feature_present=lambda c: c == 40, registry_string=denied
    )
    assert cpu.brand is None
    assert cpu.features == ("avx2",)
    assert [i.code for i in issues] == ["registry_unreadable"]


# Kernel flag -> our name, written out independently of the module's table.
_EXPECTED = {
    "pni": "sse3",
    "avx": "avx",
    "avx2": "avx2",
    "fma": "fma",
    "f16c": "f16c",
    "avx512f": "avx512f",
    "avx512bw": "avx512bw",
    "avx512_vnni": "avx512vnni",
    "asimd": "neon",
    "asimddp": "dotprod",
    "sve": "sve",
}


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="needs Linux /proc/cpuinfo")
def test_real_machine_features_match_proc_cpuinfo() -> None:
    text = Path("/proc/cpuinfo").read_text()
    words: set[str] = set()
    brand = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            words.update(value.split())
        if key.strip() == "model name" and brand is None:
            brand = value.strip()
    cpu, issues = probe_cpu()
    assert issues == ()
    assert cpu.brand == brand
    for flag, name in _EXPECTED.items():
        assert (name in cpu.features) == (flag in words), name
    assert cpu.logical_cores == text.count("processor\t:")
