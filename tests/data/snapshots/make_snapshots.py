"""Write the recorded machine snapshots in this folder from the real snapshot dataclasses.

Each file is a whole ``llmcheck --json`` document in the probe's form ("schema_version",
"llmcheck_version", "machine", "problems"), readable back with
``llmcheck.snapshot.snapshot_from_dict``. Building them from the dataclasses (not by hand) keeps
them from drifting from the schema; ``tests/test_schema.py`` checks that the files on disk are
exactly what this script writes.

Run: ``.venv/bin/python tests/data/snapshots/make_snapshots.py`` (``--check`` only compares).

Where a number comes from:
- RTX 4090: NVML total 25757220864 B (24564 MiB); bandwidth = 2 x 10501 MHz x 384 bit / 8 / 1000
  = 1008.1 GB/s (hardware-probing.md, "peak bandwidth" table).
- RTX 3090: 24576 MiB, 9751 MHz x 384 bit -> 936.1 GB/s; RTX 3060: 12288 MiB, 7501 MHz x 192 bit
  -> 360.0 GB/s (same formula).
- Apple M2 Max 38-core GPU: 400 GB/s (Apple spec, hardware-probing.md section 5); working-set cap
  = 2/3 x 32 GiB = 21.33 GiB, the documented default when neither Metal nor iogpu is readable.
- DGX Spark (GB10): NVML memory info NotSupported (XuehaiPan/nvitop#208) -> unified, GPU memory
  null as the NVIDIA probe reports it, budget from /proc/meminfo; 128 GB LPDDR5x,
  256 bit x 8533 MT/s = 273 GB/s.
- Problem codes are the probes' own (llmcheck/probe/*.py docstrings).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from llmcheck.snapshot import (
    SNAPSHOT_SCHEMA_VERSION,
    CpuInfo,
    GpuInfo,
    GpuVendor,
    Issue,
    MemoryInfo,
    MemoryKind,
    OsInfo,
    Source,
    SystemSnapshot,
    issue_to_dict,
    snapshot_from_dict,
    snapshot_to_dict,
    without_ids,
)

HERE = Path(__file__).resolve().parent
GIB = 1 << 30
MIB = 1 << 20
# The version these recordings claim to come from: fixed, so a version bump does not stale them.
RECORDED_WITH_VERSION = "0.1.0"

X86_FEATURES = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2")
X86_AVX512 = (*X86_FEATURES, "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16")


def nvidia_bandwidth_gb_s(clock_mhz: int, bus_bits: int) -> float:
    """Peak bandwidth as the probe computes it: 2 x clock x bus width / 8 / 1000 (GB/s)."""
    return round(2 * clock_mhz * bus_bits / 8 / 1000, 1)


def _linux(release: str, *, container: bool = False, machine: str = "x86_64") -> OsInfo:
    return OsInfo(
        system="Linux",
        release=release,
        version="#1 SMP PREEMPT_DYNAMIC",
        machine=machine,
        in_container=container,
    )


NO_NVML = Issue(
    source="nvidia",
    code="nvml_library_not_found",
    message="The NVIDIA management library (libnvidia-ml.so.1) was not found.",
    hint="No NVIDIA driver is installed; if this machine has an NVIDIA GPU, install its driver.",
)


def cpu_laptop() -> SystemSnapshot:
    """An x86 laptop: 8 cores, 16 GiB RAM, no GPU, no NVIDIA library."""
    return SystemSnapshot(
        os=_linux("6.8.0-45-generic"),
        cpu=CpuInfo(
            brand="AMD Ryzen 7 7840U w/ Radeon 780M Graphics",
            arch="x86_64",
            physical_cores=8,
            logical_cores=16,
            features=X86_AVX512,
            source=Source.CPUID,
        ),
        memory=MemoryInfo(
            total_bytes=16_106_127_360 - 402_653_184,  # 16 GiB less the firmware's share
            available_bytes=10_871_635_968,
            source=Source.PROCFS,
            swap_total_bytes=4 * GIB,
            swap_free_bytes=4 * GIB,
        ),
        problems=(NO_NVML,),
        probed_at="2026-01-15T09:30:00Z",
        probe_seconds=0.21,
    )


def one_nvidia() -> SystemSnapshot:
    """A desktop with one RTX 4090 (24 GiB, 1008 GB/s)."""
    total = 25_757_220_864
    free = 25_232_932_864  # 23.5 GiB: the desktop session holds a little
    reserved = 336 * MIB
    return SystemSnapshot(
        os=_linux("6.8.0-45-generic"),
        cpu=CpuInfo(
            brand="AMD Ryzen 9 7950X 16-Core Processor",
            arch="x86_64",
            physical_cores=16,
            logical_cores=32,
            features=X86_AVX512,
            source=Source.CPUID,
        ),
        memory=MemoryInfo(
            total_bytes=67_108_864_000,
            available_bytes=58_720_256_000,
            source=Source.PROCFS,
            swap_total_bytes=8 * GIB,
            swap_free_bytes=8 * GIB,
        ),
        gpus=(
            GpuInfo(
                index=0,
                vendor=GpuVendor.NVIDIA,
                name="NVIDIA GeForce RTX 4090",
                uuid="GPU-5a3c9e1b-7f2d-4c8a-9b61-0d2e4f6a8c10",
                pci_bus_id="00000000:01:00.0",
                pci_id="10de:2684",
                memory_kind=MemoryKind.DISCRETE,
                total_bytes=total,
                free_bytes=free,
                used_bytes=total - free - reserved,
                reserved_bytes=reserved,
                memory_source=Source.NVML,
                bandwidth_gb_s=nvidia_bandwidth_gb_s(10501, 384),
                bandwidth_source=Source.COMPUTED,
                memory_bus_width_bits=384,
                max_memory_clock_mhz=10501,
                gpu_cores=128,
                compute_capability="8.9",
                driver_version="550.120",
                cuda_driver_version="12.4",
                mig_enabled=None,
                processes_used_bytes=171_966_464,
            ),
        ),
        probed_at="2026-01-15T09:31:00Z",
        probe_seconds=0.34,
    )


def _nvidia_gpu(
    index: int,
    name: str,
    pci: str,
    total: int,
    free: int,
    clock_mhz: int,
    bus_bits: int,
    sms: int,
) -> GpuInfo:
    reserved = 320 * MIB
    return GpuInfo(
        index=index,
        vendor=GpuVendor.NVIDIA,
        name=name,
        uuid=f"GPU-0c1d2e3f-4a5b-6c7d-8e9f-{index:012d}",
        pci_bus_id=f"00000000:0{index + 1}:00.0",
        pci_id=pci,
        total_bytes=total,
        free_bytes=free,
        used_bytes=total - free - reserved,
        reserved_bytes=reserved,
        memory_source=Source.NVML,
        bandwidth_gb_s=nvidia_bandwidth_gb_s(clock_mhz, bus_bits),
        bandwidth_source=Source.COMPUTED,
        memory_bus_width_bits=bus_bits,
        max_memory_clock_mhz=clock_mhz,
        gpu_cores=sms,
        compute_capability="8.6",
        driver_version="550.120",
        cuda_driver_version="12.4",
    )


def two_gpus() -> SystemSnapshot:
    """A workstation with an RTX 3090 (24 GiB) and an RTX 3060 (12 GiB): never one 36 GiB pool."""
    return SystemSnapshot(
        os=_linux("6.5.0-35-generic"),
        cpu=CpuInfo(
            brand="12th Gen Intel(R) Core(TM) i9-12900K",
            arch="x86_64",
            physical_cores=16,
            logical_cores=24,
            features=(*X86_FEATURES, "avx_vnni"),
            source=Source.CPUID,
        ),
        memory=MemoryInfo(
            total_bytes=67_263_000_576,
            available_bytes=61_203_169_280,
            source=Source.PROCFS,
            swap_total_bytes=2 * GIB,
            swap_free_bytes=2 * GIB,
        ),
        gpus=(
            _nvidia_gpu(
                0,
                "NVIDIA GeForce RTX 3090",
                "10de:2204",
                24576 * MIB,
                24_934_875_136,
                9751,
                384,
                82,
            ),
            _nvidia_gpu(
                1,
                "NVIDIA GeForce RTX 3060",
                "10de:2504",
                12288 * MIB,
                12_440_305_664,
                7501,
                192,
                28,
            ),
        ),
        probed_at="2026-01-15T09:32:00Z",
        probe_seconds=0.41,
    )


def apple_m2_max() -> SystemSnapshot:
    """A MacBook Pro M2 Max: 32 GiB unified, 38-core GPU, cap from the documented default."""
    total = 32 * GIB
    available = 22_548_578_304
    return SystemSnapshot(
        os=OsInfo(
            system="Darwin",
            release="23.6.0",
            version="Darwin Kernel Version 23.6.0",
            machine="arm64",
        ),
        cpu=CpuInfo(
            brand="Apple M2 Max",
            arch="arm64",
            physical_cores=12,
            logical_cores=12,
            features=("neon", "fp16", "dotprod", "i8mm", "bf16"),
            source=Source.SYSCTL,
        ),
        memory=MemoryInfo(
            total_bytes=total,
            available_bytes=available,
            source=Source.SYSCTL,
            swap_total_bytes=0,
            swap_free_bytes=0,
            bandwidth_gb_s=400.0,
            bandwidth_source=Source.TABLE,
        ),
        gpus=(
            GpuInfo(
                index=0,
                vendor=GpuVendor.APPLE,
                name="Apple M2 Max",
                memory_kind=MemoryKind.UNIFIED,
                total_bytes=total,
                free_bytes=available,
                memory_source=Source.SYSCTL,
                working_set_cap_bytes=total * 2 // 3,  # 21.33 GiB
                working_set_cap_source=Source.DEFAULT,
                bandwidth_gb_s=400.0,
                bandwidth_source=Source.TABLE,
                gpu_cores=38,
            ),
        ),
        problems=(
            Issue(
                source="apple",
                code="working_set_cap_estimated",
                message=(
                    "Metal's recommended working set could not be read and iogpu.wired_limit_mb"
                    " is 0; the GPU cap is the documented default (2/3 of RAM up to 36 GB)."
                ),
                hint="Newer macOS versions allow more; treat the cap as an estimate.",
                device_index=0,
            ),
        ),
        probed_at="2026-01-15T09:33:00Z",
        probe_seconds=0.18,
    )


def dgx_spark() -> SystemSnapshot:
    """NVIDIA DGX Spark (GB10): NVML memory info unsupported, so one unified pool from RAM."""
    total = 130_393_169_920  # MemTotal of the 128 GB LPDDR5x pool, as /proc/meminfo shows it
    available = 121_346_351_104
    return SystemSnapshot(
        os=_linux("6.11.0-1016-nvidia", machine="aarch64"),
        cpu=CpuInfo(
            brand="NVIDIA GB10 (10x Cortex-X925 + 10x Cortex-A725)",
            arch="aarch64",
            physical_cores=20,
            logical_cores=20,
            features=("neon", "fp16", "dotprod", "i8mm", "bf16", "sve", "sve2"),
            source=Source.PROCFS,
        ),
        memory=MemoryInfo(
            total_bytes=total,
            available_bytes=available,
            source=Source.PROCFS,
            swap_total_bytes=16 * GIB,
            swap_free_bytes=16 * GIB,
            bandwidth_gb_s=273.0,
            bandwidth_source=Source.TABLE,
        ),
        gpus=(
            GpuInfo(
                index=0,
                vendor=GpuVendor.NVIDIA,
                name="NVIDIA GB10",
                uuid="GPU-9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9",
                pci_bus_id="0000000F:01:00.0",
                pci_id="10de:2e12",
                # As the NVIDIA probe reports it: no memory of its own; the budget is the RAM.
                memory_kind=MemoryKind.UNIFIED,
                memory_source=Source.UNKNOWN,
                bandwidth_gb_s=273.0,
                bandwidth_source=Source.TABLE,
                gpu_cores=48,
                compute_capability="12.1",
                driver_version="580.95.05",
                cuda_driver_version="13.0",
                mig_enabled=None,
            ),
        ),
        problems=(
            Issue(
                source="nvidia",
                code="nvml_not_supported",
                message="NVML does not report memory for NVIDIA GB10 (NVML_ERROR_NOT_SUPPORTED).",
                hint="This is a unified-memory part: its budget is the system RAM available.",
                device_index=0,
            ),
        ),
        probed_at="2026-01-15T09:34:00Z",
        probe_seconds=0.52,
    )


def container_limited() -> SystemSnapshot:
    """A container on a 64 GiB host with a 4 GiB cgroup memory limit."""
    return SystemSnapshot(
        os=_linux("6.1.0-28-cloud-amd64", container=True),
        cpu=CpuInfo(
            brand="Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
            arch="x86_64",
            physical_cores=8,
            logical_cores=16,
            features=X86_AVX512,
            source=Source.CPUID,
        ),
        memory=MemoryInfo(
            total_bytes=67_255_443_456,
            available_bytes=60_129_542_144,
            source=Source.PROCFS,
            limit_bytes=4 * GIB,
            limit_used_bytes=536_870_912,
            limit_source=Source.CGROUP,
            swap_total_bytes=0,
            swap_free_bytes=0,
        ),
        problems=(NO_NVML,),
        probed_at="2026-01-15T09:35:00Z",
        probe_seconds=0.12,
    )


def unknown_budget() -> SystemSnapshot:
    """A machine whose RAM could not be read and whose GPU's memory is unknown."""
    return SystemSnapshot(
        os=_linux("5.15.0-119-generic"),
        cpu=CpuInfo(
            brand=None, arch="x86_64", physical_cores=None, logical_cores=4, source=Source.UNKNOWN
        ),
        memory=MemoryInfo(source=Source.UNKNOWN),
        gpus=(
            GpuInfo(
                index=0,
                vendor=GpuVendor.AMD,
                name="AMD Radeon RX 7900 XTX",
                pci_bus_id="0000:03:00.0",
                pci_id="1002:744c",
                memory_kind=MemoryKind.DISCRETE,
                memory_source=Source.UNKNOWN,
                bandwidth_gb_s=960.0,
                bandwidth_source=Source.TABLE,
            ),
        ),
        problems=(
            Issue(
                source="memory",
                code="ram_unreadable",
                message="/proc/meminfo could not be read: Permission denied.",
                hint="Run llmcheck outside the sandbox, or allow it to read /proc/meminfo.",
            ),
            Issue(
                source="cpu",
                code="cpuinfo_unreadable",
                message="The CPU's brand and core count could not be read.",
                hint="Speed estimates for the CPU use no core count.",
            ),
            Issue(
                source="amd",
                code="sysfs_unreadable",
                message="Could not read /sys/class/drm/card0/device/mem_info_vram_total:"
                " Permission denied",
                hint="Run as a user in the 'video'/'render' group, or check the driver.",
                device_index=0,
            ),
            Issue(
                source="amd",
                code="vram_unknown",
                message="The VRAM size of AMD Radeon RX 7900 XTX is unknown.",
                hint="The driver exposes no size file; llmcheck will not guess.",
                device_index=0,
            ),
            NO_NVML,
        ),
        probed_at="2026-01-15T09:36:00Z",
        probe_seconds=0.09,
    )


def _shared(build: Callable[[], SystemSnapshot]) -> Callable[[], SystemSnapshot]:
    """A recording as a user shares it: ``llmcheck --json`` leaves GPU UUIDs and bus ids out."""
    return lambda: without_ids(build())


_BUILDERS = {
    "cpu-laptop": cpu_laptop,
    "one-nvidia": one_nvidia,
    "two-gpus": two_gpus,
    "apple-m2-max": apple_m2_max,
    "dgx-spark": dgx_spark,
    "container-limited": container_limited,
    "unknown-budget": unknown_budget,
}
SNAPSHOTS = {name: _shared(build) for name, build in _BUILDERS.items()}


def document(snapshot: SystemSnapshot) -> dict[str, object]:
    """The snapshot as ``llmcheck --json`` prints its machine part (no GPU UUIDs or bus ids)."""
    return {
        "schema_version": SNAPSHOT_SCHEMA_VERSION,
        "llmcheck_version": RECORDED_WITH_VERSION,
        "machine": snapshot_to_dict(snapshot),
        "problems": [issue_to_dict(p) for p in snapshot.problems],
    }


def render(snapshot: SystemSnapshot) -> str:
    """The file text for one snapshot (stable: sorted by the dataclass order, 2-space indent)."""
    return json.dumps(document(snapshot), indent=2) + "\n"


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) every snapshot file; exit 1 on drift."""
    check = "--check" in argv
    stale = []
    for name, build in SNAPSHOTS.items():
        snapshot = build()
        text = render(snapshot)
        back = snapshot_from_dict(json.loads(text))
        if back != replace(snapshot, source=Source.SNAPSHOT):
            raise SystemExit(f"{name}: does not read back equal")
        path = HERE / f"{name}.json"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("stale snapshots:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
