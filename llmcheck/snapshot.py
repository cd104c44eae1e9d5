"""The machine as the probe saw it: frozen value objects, and their JSON form.

This is the bottom layer: it imports nothing from llmcheck. Every probe returns these types; the
estimator, the report, the CLI and the GUI read them. A snapshot written by ``llmcheck --json`` can
be read back with :func:`snapshot_from_dict`, so a machine can be judged elsewhere.

Conventions: byte counts are ``int`` bytes, bandwidth is GB/s (10^9 bytes per second), unknown is
``None`` (never 0), and every value that came from somewhere names its :class:`Source`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

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


# --------------------------------------------------------------------------------------------
# JSON form. The same dictionaries are the "machine" and "problems" parts of `llmcheck --json`.
# --------------------------------------------------------------------------------------------


class SnapshotError(ValueError):
    """A snapshot document is malformed; the message names the field."""


def issue_to_dict(issue: Issue) -> dict[str, Any]:
    """The JSON form of one problem record."""
    return {
        "source": issue.source,
        "code": issue.code,
        "message": issue.message,
        "hint": issue.hint,
        "device_index": issue.device_index,
    }


def gpu_to_dict(gpu: GpuInfo, *, include_ids: bool = True) -> dict[str, Any]:
    """The JSON form of one GPU; ``include_ids=False`` writes null for its UUIDs and PCI bus id.

    The probe's child process sends GPUs with their ids (the dispatcher orders them by bus id);
    what is printed for people to share leaves them out (:func:`snapshot_to_dict`).
    """
    return {
        "index": gpu.index,
        "vendor": str(gpu.vendor),
        "name": gpu.name,
        "uuid": gpu.uuid if include_ids else None,
        "pci_bus_id": gpu.pci_bus_id if include_ids else None,
        "pci_id": gpu.pci_id,
        "memory_kind": str(gpu.memory_kind),
        "unified_memory": gpu.unified_memory,
        "total_bytes": gpu.total_bytes,
        "free_bytes": gpu.free_bytes,
        "used_bytes": gpu.used_bytes,
        "reserved_bytes": gpu.reserved_bytes,
        "source": str(gpu.memory_source),
        "visible_vram_bytes": gpu.visible_vram_bytes,
        "gtt_total_bytes": gpu.gtt_total_bytes,
        "gtt_free_bytes": gpu.gtt_free_bytes,
        "working_set_cap_bytes": gpu.working_set_cap_bytes,
        "working_set_cap_source": _opt_str(gpu.working_set_cap_source),
        "bandwidth_gb_s": gpu.bandwidth_gb_s,
        "bandwidth_source": _opt_str(gpu.bandwidth_source),
        "memory_bus_width_bits": gpu.memory_bus_width_bits,
        "max_memory_clock_mhz": gpu.max_memory_clock_mhz,
        "gpu_cores": gpu.gpu_cores,
        "compute_capability": gpu.compute_capability,
        "driver_version": gpu.driver_version,
        "cuda_driver_version": gpu.cuda_driver_version,
        "mig_enabled": gpu.mig_enabled,
        "mig_instances": [
            {
                "index": m.index,
                "name": m.name,
                "uuid": m.uuid if include_ids else None,
                "total_bytes": m.total_bytes,
                "free_bytes": m.free_bytes,
            }
            for m in gpu.mig_instances
        ],
        "processes_used_bytes": gpu.processes_used_bytes,
        "is_primary": gpu.is_primary,
    }


def snapshot_to_dict(snapshot: SystemSnapshot, *, include_ids: bool = False) -> dict[str, Any]:
    """The JSON form of the machine (the report's "machine" object).

    GPU UUIDs and PCI bus ids are permanent hardware identifiers, and ``llmcheck --json`` is
    meant to be shared: they are null unless ``include_ids`` (``--include-ids``). No verdict
    needs them; the hostname is never written at all.
    """
    return {
        "os": {
            "system": snapshot.os.system,
            "release": snapshot.os.release,
            "version": snapshot.os.version,
            "machine": snapshot.os.machine,
            "is_wsl": snapshot.os.is_wsl,
            "in_container": snapshot.os.in_container,
        },
        "cpu": {
            "brand": snapshot.cpu.brand,
            "arch": snapshot.cpu.arch,
            "cores": snapshot.cpu.physical_cores,
            "logical_cores": snapshot.cpu.logical_cores,
            "features": list(snapshot.cpu.features),
            "source": str(snapshot.cpu.source),
        },
        "memory": {
            "total_bytes": snapshot.memory.total_bytes,
            "available_bytes": snapshot.memory.available_bytes,
            "usable_bytes": snapshot.memory.usable_bytes,
            "source": str(snapshot.memory.source),
            "limit_bytes": snapshot.memory.limit_bytes,
            "limit_used_bytes": snapshot.memory.limit_used_bytes,
            "limit_source": _opt_str(snapshot.memory.limit_source),
            "swap_total_bytes": snapshot.memory.swap_total_bytes,
            "swap_free_bytes": snapshot.memory.swap_free_bytes,
            "bandwidth_gb_s": snapshot.memory.bandwidth_gb_s,
            "bandwidth_source": _opt_str(snapshot.memory.bandwidth_source),
            "bandwidth_low_gb_s": snapshot.memory.bandwidth_low_gb_s,
            "bandwidth_high_gb_s": snapshot.memory.bandwidth_high_gb_s,
        },
        "gpus": [gpu_to_dict(g, include_ids=include_ids) for g in snapshot.gpus],
        "probed_at": snapshot.probed_at,
        "probe_seconds": snapshot.probe_seconds,
        "source": str(snapshot.source),
    }


def _opt_str(value: StrEnum | None) -> str | None:
    return None if value is None else str(value)


def without_ids(snapshot: SystemSnapshot) -> SystemSnapshot:
    """The snapshot as a shared ``--json`` file reads back: no GPU or MIG UUIDs, no bus ids."""
    gpus = tuple(
        replace(
            g, uuid=None, pci_bus_id=None,
            mig_instances=tuple(replace(m, uuid=None) for m in g.mig_instances),
        )
        for g in snapshot.gpus
    )
    return replace(snapshot, gpus=gpus)


# --- reading back ----------------------------------------------------------------------------


def snapshot_from_dict(
    doc: Mapping[str, Any], *, check_consistency: bool = True
) -> SystemSnapshot:
    """Read a snapshot back from its JSON form.

    Accepts either a whole ``llmcheck --json`` document (with "machine" and "problems") or the
    bare "machine" object. Every field is checked; a bad one raises :class:`SnapshotError` naming
    its path. Unknown extra fields are ignored (newer llmcheck versions may add fields).

    With ``check_consistency`` (the default) the fields must also agree with one another
    (:func:`inconsistencies`): a file that claims more free memory than the device has is refused,
    never believed. The live probe passes False and clamps instead (``llmcheck.probe``).
    """
    if not isinstance(doc, Mapping):
        raise SnapshotError("snapshot: expected a JSON object at the top level")
    problems_doc: Any = []
    if "machine" in doc:
        version = doc.get("schema_version")
        if version is not None and version != SNAPSHOT_SCHEMA_VERSION:
            raise SnapshotError(
                f"schema_version: this llmcheck reads version {SNAPSHOT_SCHEMA_VERSION!r},"
                f" the file has {version!r}"
            )
        problems_doc = doc.get("problems", [])
        machine = _obj(doc["machine"], "machine")
    else:
        machine = doc
    os_doc = _obj(machine.get("os"), "machine.os")
    cpu_doc = _obj(machine.get("cpu"), "machine.cpu")
    mem_doc = _obj(machine.get("memory"), "machine.memory")
    gpus_doc = _list(machine.get("gpus", []), "machine.gpus")
    os_info = OsInfo(
        system=_req_str(os_doc.get("system"), "machine.os.system"),
        release=_opt_s(os_doc.get("release"), "machine.os.release"),
        version=_opt_s(os_doc.get("version"), "machine.os.version"),
        machine=_opt_s(os_doc.get("machine"), "machine.os.machine"),
        is_wsl=_bool(os_doc.get("is_wsl", False), "machine.os.is_wsl"),
        in_container=_bool(os_doc.get("in_container", False), "machine.os.in_container"),
    )
    features = _list(cpu_doc.get("features", []), "machine.cpu.features")
    cpu = CpuInfo(
        brand=_opt_s(cpu_doc.get("brand"), "machine.cpu.brand"),
        arch=_opt_s(cpu_doc.get("arch"), "machine.cpu.arch"),
        physical_cores=_opt_count(cpu_doc.get("cores"), "machine.cpu.cores"),
        logical_cores=_opt_count(cpu_doc.get("logical_cores"), "machine.cpu.logical_cores"),
        features=tuple(
            _req_str(f, f"machine.cpu.features[{i}]").lower() for i, f in enumerate(features)
        ),
        source=_source(cpu_doc.get("source"), "machine.cpu.source"),
    )
    memory = MemoryInfo(
        total_bytes=_opt_bytes(mem_doc.get("total_bytes"), "machine.memory.total_bytes"),
        available_bytes=_opt_bytes(
            mem_doc.get("available_bytes"), "machine.memory.available_bytes"
        ),
        source=_source(mem_doc.get("source"), "machine.memory.source"),
        limit_bytes=_opt_bytes(mem_doc.get("limit_bytes"), "machine.memory.limit_bytes"),
        limit_used_bytes=_opt_bytes(
            mem_doc.get("limit_used_bytes"), "machine.memory.limit_used_bytes"
        ),
        limit_source=_opt_source(mem_doc.get("limit_source"), "machine.memory.limit_source"),
        swap_total_bytes=_opt_bytes(
            mem_doc.get("swap_total_bytes"), "machine.memory.swap_total_bytes"
        ),
        swap_free_bytes=_opt_bytes(
            mem_doc.get("swap_free_bytes"), "machine.memory.swap_free_bytes"
        ),
        bandwidth_gb_s=_opt_bw(mem_doc.get("bandwidth_gb_s"), "machine.memory.bandwidth_gb_s"),
        bandwidth_source=_opt_source(
            mem_doc.get("bandwidth_source"), "machine.memory.bandwidth_source"
        ),
        # Absent in snapshots written before llmcheck 0.1.x gave a range: read as None.
        bandwidth_low_gb_s=_opt_bw(
            mem_doc.get("bandwidth_low_gb_s"), "machine.memory.bandwidth_low_gb_s"
        ),
        bandwidth_high_gb_s=_opt_bw(
            mem_doc.get("bandwidth_high_gb_s"), "machine.memory.bandwidth_high_gb_s"
        ),
    )
    gpus = tuple(_gpu_from_dict(g, f"machine.gpus[{i}]") for i, g in enumerate(gpus_doc))
    problems = tuple(
        _issue_from_dict(p, f"problems[{i}]")
        for i, p in enumerate(_list(problems_doc, "problems"))
    )
    snapshot = SystemSnapshot(
        os=os_info,
        cpu=cpu,
        memory=memory,
        gpus=gpus,
        problems=problems,
        probed_at=_opt_s(machine.get("probed_at"), "machine.probed_at"),
        probe_seconds=_opt_float(machine.get("probe_seconds"), "machine.probe_seconds"),
        source=Source.SNAPSHOT,
    )
    if check_consistency:
        found = inconsistencies(snapshot)
        if found:
            raise SnapshotError(found[0])
    return snapshot


def inconsistencies(snapshot: SystemSnapshot) -> tuple[str, ...]:
    """Fields that contradict one another, each as "path: why" (empty when all agree).

    A part can never hold more than its whole: free, used, reserved and CPU-visible VRAM are at
    most the GPU's total, GTT free at most GTT total, a MIG slice (and all slices together) at most
    its card, a slice's free at most the slice; available RAM at most total RAM, free swap at most
    total swap. GPU indexes (and MIG indexes within a GPU) are unique: ``--device gpu:0`` must
    name one device.
    """
    found: list[str] = []

    def over(path: str, part: int | None, what: str, whole: int | None, of: str) -> None:
        if part is not None and whole is not None and part > whole:
            found.append(f"{path}: {part} bytes {what} is more than the {of} ({whole} bytes)")

    mem = snapshot.memory
    over("machine.memory.available_bytes", mem.available_bytes, "available", mem.total_bytes,
         "total_bytes")
    over("machine.memory.swap_free_bytes", mem.swap_free_bytes, "free", mem.swap_total_bytes,
         "swap_total_bytes")
    first_at: dict[int, int] = {}
    for i, gpu in enumerate(snapshot.gpus):
        path = f"machine.gpus[{i}]"
        if gpu.index in first_at:
            found.append(
                f"{path}.index: GPU index {gpu.index} appears twice"
                f" (also machine.gpus[{first_at[gpu.index]}])"
            )
        first_at.setdefault(gpu.index, i)
        total = gpu.total_bytes
        over(f"{path}.free_bytes", gpu.free_bytes, "free", total, "total_bytes")
        over(f"{path}.used_bytes", gpu.used_bytes, "used", total, "total_bytes")
        over(f"{path}.reserved_bytes", gpu.reserved_bytes, "reserved", total, "total_bytes")
        over(f"{path}.visible_vram_bytes", gpu.visible_vram_bytes, "visible", total,
             "total_bytes")
        over(f"{path}.gtt_free_bytes", gpu.gtt_free_bytes, "free", gpu.gtt_total_bytes,
             "gtt_total_bytes")
        slices: set[int] = set()
        for k, mig in enumerate(gpu.mig_instances):
            mpath = f"{path}.mig_instances[{k}]"
            if mig.index in slices:
                found.append(f"{mpath}.index: MIG index {mig.index} appears twice")
            slices.add(mig.index)
            over(f"{mpath}.total_bytes", mig.total_bytes, "in a MIG slice", total,
                 "GPU's total_bytes")
            over(f"{mpath}.free_bytes", mig.free_bytes, "free", mig.total_bytes, "slice's total")
            over(f"{mpath}.free_bytes", mig.free_bytes, "free in a MIG slice", total,
                 "GPU's total_bytes")
        known = [m.total_bytes for m in gpu.mig_instances if m.total_bytes is not None]
        over(f"{path}.mig_instances", sum(known) if known else None, "in MIG slices", total,
             "GPU's total_bytes")
    return tuple(found)


def _gpu_from_dict(raw: Any, path: str) -> GpuInfo:
    doc = _obj(raw, path)
    vendor_raw = _req_str(doc.get("vendor"), f"{path}.vendor")
    try:
        vendor = GpuVendor(vendor_raw)
    except ValueError:
        raise SnapshotError(f"{path}.vendor: unknown vendor {vendor_raw!r}") from None
    kind_raw = doc.get("memory_kind")
    if kind_raw is None:
        unified = _bool(doc.get("unified_memory", False), f"{path}.unified_memory")
        kind = MemoryKind.UNIFIED if unified else MemoryKind.DISCRETE
    else:
        try:
            kind = MemoryKind(_req_str(kind_raw, f"{path}.memory_kind"))
        except ValueError:
            raise SnapshotError(f"{path}.memory_kind: unknown kind {kind_raw!r}") from None
    migs = tuple(
        MigInstance(
            index=_req_count(_obj(m, f"{path}.mig_instances[{i}]").get("index"),
                             f"{path}.mig_instances[{i}].index"),
            name=_opt_s(m.get("name"), f"{path}.mig_instances[{i}].name"),
            uuid=_opt_s(m.get("uuid"), f"{path}.mig_instances[{i}].uuid"),
            total_bytes=_opt_bytes(m.get("total_bytes"), f"{path}.mig_instances[{i}].total_bytes"),
            free_bytes=_opt_bytes(m.get("free_bytes"), f"{path}.mig_instances[{i}].free_bytes"),
        )
        for i, m in enumerate(_list(doc.get("mig_instances", []), f"{path}.mig_instances"))
    )
    return GpuInfo(
        index=_req_count(doc.get("index"), f"{path}.index"),
        vendor=vendor,
        name=_opt_s(doc.get("name"), f"{path}.name"),
        uuid=_opt_s(doc.get("uuid"), f"{path}.uuid"),
        pci_bus_id=_opt_s(doc.get("pci_bus_id"), f"{path}.pci_bus_id"),
        pci_id=_opt_s(doc.get("pci_id"), f"{path}.pci_id"),
        memory_kind=kind,
        total_bytes=_opt_bytes(doc.get("total_bytes"), f"{path}.total_bytes"),
        free_bytes=_opt_bytes(doc.get("free_bytes"), f"{path}.free_bytes"),
        used_bytes=_opt_bytes(doc.get("used_bytes"), f"{path}.used_bytes"),
        reserved_bytes=_opt_bytes(doc.get("reserved_bytes"), f"{path}.reserved_bytes"),
        memory_source=_source(doc.get("source"), f"{path}.source"),
        visible_vram_bytes=_opt_bytes(doc.get("visible_vram_bytes"), f"{path}.visible_vram_bytes"),
        gtt_total_bytes=_opt_bytes(doc.get("gtt_total_bytes"), f"{path}.gtt_total_bytes"),
        gtt_free_bytes=_opt_bytes(doc.get("gtt_free_bytes"), f"{path}.gtt_free_bytes"),
        working_set_cap_bytes=_opt_bytes(
            doc.get("working_set_cap_bytes"), f"{path}.working_set_cap_bytes"
        ),
        working_set_cap_source=_opt_source(
            doc.get("working_set_cap_source"), f"{path}.working_set_cap_source"
        ),
        bandwidth_gb_s=_opt_bw(doc.get("bandwidth_gb_s"), f"{path}.bandwidth_gb_s"),
        bandwidth_source=_opt_source(doc.get("bandwidth_source"), f"{path}.bandwidth_source"),
        memory_bus_width_bits=_opt_count(
            doc.get("memory_bus_width_bits"), f"{path}.memory_bus_width_bits"
        ),
        max_memory_clock_mhz=_opt_count(
            doc.get("max_memory_clock_mhz"), f"{path}.max_memory_clock_mhz"
        ),
        gpu_cores=_opt_count(doc.get("gpu_cores"), f"{path}.gpu_cores"),
        compute_capability=_opt_s(doc.get("compute_capability"), f"{path}.compute_capability"),
        driver_version=_opt_s(doc.get("driver_version"), f"{path}.driver_version"),
        cuda_driver_version=_opt_s(doc.get("cuda_driver_version"), f"{path}.cuda_driver_version"),
        mig_enabled=_opt_bool(doc.get("mig_enabled"), f"{path}.mig_enabled"),
        mig_instances=migs,
        processes_used_bytes=_opt_bytes(
            doc.get("processes_used_bytes"), f"{path}.processes_used_bytes"
        ),
        is_primary=_bool(doc.get("is_primary", True), f"{path}.is_primary"),
    )


def _issue_from_dict(raw: Any, path: str) -> Issue:
    doc = _obj(raw, path)
    return Issue(
        source=_req_str(doc.get("source"), f"{path}.source"),
        code=_req_str(doc.get("code"), f"{path}.code"),
        message=_req_str(doc.get("message"), f"{path}.message"),
        hint=_opt_s(doc.get("hint"), f"{path}.hint") or "",
        device_index=_opt_count(doc.get("device_index"), f"{path}.device_index"),
    )


def _obj(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SnapshotError(f"{path}: expected an object, got {_kind(value)}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise SnapshotError(f"{path}: expected a list, got {_kind(value)}")
    return value


def _req_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise SnapshotError(f"{path}: expected a string, got {_kind(value)}")
    if len(value) > 4096:
        raise SnapshotError(f"{path}: string longer than 4096 characters")
    return value


def _opt_s(value: Any, path: str) -> str | None:
    return None if value is None else _req_str(value, path)


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise SnapshotError(f"{path}: expected true or false, got {_kind(value)}")
    return value


def _opt_bool(value: Any, path: str) -> bool | None:
    return None if value is None else _bool(value, path)


def _req_count(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 1_000_000:
        raise SnapshotError(
            f"{path}: expected a whole number from 0 to 1000000, got {_short(value)}"
        )
    return value


def _opt_count(value: Any, path: str) -> int | None:
    return None if value is None else _req_count(value, path)


def _opt_bytes(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SnapshotError(f"{path}: expected a whole number of bytes or null, got {_kind(value)}")
    if value < 0 or value > MAX_PLAUSIBLE_BYTES:
        raise SnapshotError(f"{path}: {_short(value)} bytes is not a plausible memory size")
    return value


def _opt_float(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SnapshotError(f"{path}: expected a number or null, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        # An integer of 310+ digits (JSON allows it; Python's int limit is 4,300 digits).
        raise SnapshotError(f"{path}: {_short(value)} is too large a number") from None
    if not math.isfinite(number) or number < 0:
        raise SnapshotError(f"{path}: {_short(value)} is not a finite, non-negative number")
    return number


def _opt_bw(value: Any, path: str) -> float | None:
    number = _opt_float(value, path)
    if number is not None and (number == 0 or number > MAX_PLAUSIBLE_BANDWIDTH_GB_S):
        raise SnapshotError(f"{path}: {number} GB/s is not a plausible bandwidth")
    return number


def _source(value: Any, path: str) -> Source:
    if value is None:
        return Source.UNKNOWN
    raw = _req_str(value, path)
    try:
        return Source(raw)
    except ValueError:
        raise SnapshotError(f"{path}: unknown source {raw!r}") from None


def _opt_source(value: Any, path: str) -> Source | None:
    return None if value is None else _source(value, path)


def _short(value: Any) -> str:
    """``repr(value)`` cut to one readable length: a 4,000-digit number is named, not printed."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"a {len(str(abs(value)))}-digit number"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------------------------
# Reading a snapshot file: the one reader the CLI and the window share.
# --------------------------------------------------------------------------------------------


def read_snapshot_file(path: str | Path, *, stdin: BinaryIO | None = None) -> SystemSnapshot:
    """Read a recorded machine from a file, or from ``stdin`` (bytes) when ``path`` is "-".

    Reads at most :data:`MAX_SNAPSHOT_FILE_BYTES`; accepts UTF-8 with or without a byte-order mark
    and UTF-16 with one (what Windows PowerShell 5.1's ``>`` writes).

    Raises:
        SnapshotError: missing, unreadable, too large, not text, not JSON, or not a snapshot; the
            message is one line that names the file.
    """
    name = str(path)
    try:
        if name == "-":
            if stdin is None:
                raise SnapshotError("snapshot -: no standard input to read")
            data = stdin.read(MAX_SNAPSHOT_FILE_BYTES + 1)
        else:
            file = Path(path)
            if file.is_dir():
                raise SnapshotError(f"snapshot {name}: is a folder, not a file")
            with file.open("rb") as handle:
                data = handle.read(MAX_SNAPSHOT_FILE_BYTES + 1)
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot {name}: {exc.strerror or exc}") from None
    if len(data) > MAX_SNAPSHOT_FILE_BYTES:
        raise SnapshotError(f"snapshot {name}: larger than {MAX_SNAPSHOT_FILE_BYTES >> 20} MiB")
    return snapshot_from_json_bytes(data, name=name)


def snapshot_from_json_bytes(data: bytes, *, name: str = "snapshot") -> SystemSnapshot:
    """Decode, parse and validate a snapshot document; every failure is one SnapshotError."""
    text = _decode(data, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            f"snapshot {name}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise SnapshotError(f"snapshot {name}: nested too deeply to be a snapshot") from None
    except ValueError:
        # Not a JSONDecodeError: a number of more than 4,300 digits (Python's int limit).
        raise SnapshotError(f"snapshot {name}: holds a number too long to be a snapshot") from None
    try:
        return snapshot_from_dict(doc)
    except SnapshotError as exc:
        raise SnapshotError(f"snapshot {name}: {exc}") from None
    except (RecursionError, OverflowError, ValueError, TypeError) as exc:
        # A hostile value the field checks did not foresee is still bad input, never a crash.
        raise SnapshotError(f"snapshot {name}: {type(exc).__name__} in a field") from None


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # the BOM says which byte order
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise SnapshotError(
            f"snapshot {name}: not a text file (expected UTF-8 or UTF-16 JSON)"
        ) from None
