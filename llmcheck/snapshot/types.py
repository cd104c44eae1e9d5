"""The machine as the probe saw it: frozen value objects (the bottom of llmcheck).

Conventions: byte counts are ``int`` bytes, bandwidth is GB/s (10^9 bytes per second), unknown is
``None`` (never 0), and every value that came from somewhere names its :class:`Source`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SNAPSHOT_SCHEMA_VERSION = "1"

# A byte count above this is absurd for any memory a machine of this decade has (1 PiB); the
# parser of a snapshot (and the probes) treat it as a fault rather than a budget.
MAX_PLAUSIBLE_BYTES = 1 << 50
MAX_PLAUSIBLE_BANDWIDTH_GB_S = 100_000.0
# A snapshot is a few KiB; a cap stops `--snapshot /dev/zero` from filling memory.
MAX_SNAPSHOT_FILE_BYTES = 16 << 20


class Source(StrEnum):
    """Where a number came from, so a user can judge it."""

    NVML = "nvml"
    NVIDIA_SMI = "nvidia-smi"
    SYSFS = "sysfs"
    PROCFS = "procfs"
    SYSCTL = "sysctl"
    REGISTRY = "registry"
    DXGI = "dxgi"
    METAL = "metal"
    CGROUP = "cgroup"
    PSUTIL = "psutil"
    CPUID = "cpuid"
    PY_CPUINFO = "py-cpuinfo"  # the py-cpuinfo package, where no native reader answered
    TABLE = "table"  # a table shipped in resources/ (by PCI id, chip name ...)
    COMPUTED = "computed"  # derived from other read values (e.g. bus width x memory clock)
    DEFAULT = "default"  # a documented default (e.g. Apple's working-set cap rule)
    MEASURED = "measured"
    SNAPSHOT = "snapshot"  # read back from a snapshot file
    USER = "user"  # given on the command line (--gpu-memory, --ram, --bandwidth)
    UNKNOWN = "unknown"


class GpuVendor(StrEnum):
    """The GPU's maker."""

    NVIDIA = "nvidia"
    AMD = "amd"
    INTEL = "intel"
    APPLE = "apple"
    OTHER = "other"


class MemoryKind(StrEnum):
    """How a GPU's memory relates to the host's RAM."""

    DISCRETE = "discrete"  # its own VRAM
    UNIFIED = "unified"  # one pool with the CPU (Apple silicon, GB10 / Spark, Jetson, Strix Halo)
    INTEGRATED = "integrated"  # an iGPU borrowing system RAM (carve-out + GTT)


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """A problem a probe met: a stable code for scripts, plain words and a hint for people."""

    source: str  # "nvidia", "amd", "intel", "apple", "windows", "cpu", "memory", "probe", ...
    code: str  # stable, snake_case: "nvml_library_not_found", "cgroup_unreadable", ...
    message: str
    hint: str = ""
    device_index: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MigInstance:
    """One MIG slice of an NVIDIA GPU (its own memory budget)."""

    index: int
    name: str | None = None
    uuid: str | None = None
    total_bytes: int | None = None
    free_bytes: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuInfo:
    """One GPU (or unified-memory accelerator) as the probe read it."""

    index: int
    vendor: GpuVendor
    name: str | None = None
    uuid: str | None = None
    pci_bus_id: str | None = None  # "0000:01:00.0"
    pci_id: str | None = None  # "10de:2330" (vendor:device, lower-case hex)
    memory_kind: MemoryKind = MemoryKind.DISCRETE
    total_bytes: int | None = None
    free_bytes: int | None = None
    used_bytes: int | None = None
    reserved_bytes: int | None = None  # held by the driver / firmware, never usable
    memory_source: Source = Source.UNKNOWN
    # AMD / Intel on Linux: the CPU-visible window of VRAM and the GTT (system RAM the GPU may map).
    visible_vram_bytes: int | None = None
    gtt_total_bytes: int | None = None
    gtt_free_bytes: int | None = None
    # Apple silicon (and other unified parts): how much of the pool the GPU may wire.
    working_set_cap_bytes: int | None = None
    working_set_cap_source: Source | None = None
    bandwidth_gb_s: float | None = None
    bandwidth_source: Source | None = None
    memory_bus_width_bits: int | None = None
    max_memory_clock_mhz: int | None = None
    gpu_cores: int | None = None  # Apple GPU cores, NVIDIA SMs where known
    compute_capability: str | None = None  # "9.0"
    driver_version: str | None = None
    cuda_driver_version: str | None = None  # "13.0"
    mig_enabled: bool | None = None
    mig_instances: tuple[MigInstance, ...] = ()
    processes_used_bytes: int | None = None
    is_primary: bool = True  # False for an iGPU when a discrete GPU is present

    @property
    def unified_memory(self) -> bool:
        """True when the GPU shares one memory pool with the CPU."""
        return self.memory_kind is MemoryKind.UNIFIED


@dataclass(frozen=True, slots=True, kw_only=True)
class CpuInfo:
    """The CPU: brand, cores and the ISA features llama.cpp's kernels care about."""

    brand: str | None = None
    arch: str | None = None  # "x86_64", "arm64"
    physical_cores: int | None = None
    logical_cores: int | None = None
    features: tuple[str, ...] = ()  # lower-case: "avx2", "avx512f", "neon", "sve", ...
    source: Source = Source.UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryInfo:
    """System RAM, and what this process may really use of it."""

    total_bytes: int | None = None
    available_bytes: int | None = None
    source: Source = Source.UNKNOWN
    # A container / cgroup memory limit, when one applies (None: no limit, or unknown).
    limit_bytes: int | None = None
    limit_used_bytes: int | None = None
    limit_source: Source | None = None
    swap_total_bytes: int | None = None
    swap_free_bytes: int | None = None
    # DRAM bandwidth, for CPU inference speed: measured, computed from the DIMMs, or a platform
    # class from a table; low/high bound a class (None when the value is read or measured).
    bandwidth_gb_s: float | None = None
    bandwidth_source: Source | None = None
    bandwidth_low_gb_s: float | None = None
    bandwidth_high_gb_s: float | None = None

    @property
    def usable_bytes(self) -> int | None:
        """What a new process may allocate: available RAM, capped by a container limit."""
        if self.available_bytes is None:
            return None
        if self.limit_bytes is None:
            return self.available_bytes
        room = self.limit_bytes - (self.limit_used_bytes or 0)
        return max(0, min(self.available_bytes, room))


@dataclass(frozen=True, slots=True, kw_only=True)
class OsInfo:
    """The operating system and the sandbox it runs in."""

    system: str  # "Linux", "Darwin", "Windows", or what platform.system() said
    release: str | None = None
    version: str | None = None
    machine: str | None = None  # "x86_64", "arm64", "AMD64"
    is_wsl: bool = False
    in_container: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemSnapshot:
    """One frozen view of the machine: what the probe read, and what it could not."""

    os: OsInfo
    cpu: CpuInfo
    memory: MemoryInfo
    gpus: tuple[GpuInfo, ...] = ()
    problems: tuple[Issue, ...] = ()
    probed_at: str | None = None  # ISO 8601, UTC
    probe_seconds: float | None = None
    source: Source = Source.UNKNOWN  # Source.SNAPSHOT when read back from a file
    hostname_hint: str | None = field(default=None)  # never the hostname itself: privacy
