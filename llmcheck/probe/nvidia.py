"""NVIDIA GPUs through NVML (nvidia-ml-py's ``pynvml``): the only importer of pynvml.

:func:`probe_nvidia` reads every device separately: name, UUID, PCI ids, memory (v2 info with its
``reserved`` field, falling back to v1), bus width x max memory clock -> peak bandwidth, compute
capability, driver and CUDA driver versions, MIG slices and the memory processes hold.

Failures never raise. Each becomes an :class:`~llmcheck.snapshot.Issue` with a stable code taken
from the NVML error class (``nvml_driver_not_loaded``, ``nvml_gpu_lost``,
``nvml_driver_version_mismatch``, ...; see ``_ERRORS``). One lost GPU never hides the others, and
one unsupported query never loses the device: the field becomes ``None``.

Hangs are not handled here: the dispatcher (``llmcheck.probe``) runs GPU probing in a child process
under a timeout. ``python -m llmcheck.probe.nvidia`` prints the result as JSON (logs on stderr).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import sys
import tomllib
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from llmcheck.probe.nvidia_errors import (
    _BAD_STRING,
    _BAD_VALUE,
    _BINDING_OUTDATED,
    _LOST,
    _LOUD,
    _MEMORY_QUIET,
    _NVML_CLOCK_MEM,
    _NVML_DEVICE_MIG_ENABLE,
    _NVML_ERROR_NO_PERMISSION,
    _NVML_ERROR_NOT_FOUND,
    _NVML_ERROR_NOT_SUPPORTED,
    _QUIET,
    _describe,
)
from llmcheck.resources import resource_path
from llmcheck.snapshot import (
    MAX_PLAUSIBLE_BANDWIDTH_GB_S,
    MAX_PLAUSIBLE_BYTES,
    GpuInfo,
    GpuVendor,
    Issue,
    MemoryKind,
    MigInstance,
    Source,
    gpu_to_dict,
    issue_to_dict,
)

log = logging.getLogger(__name__)

SOURCE = "nvidia"

# WSL2 ships the real library here, registered through ld.so.conf; a CUDA-toolkit stub of the same
# soname elsewhere in the ld cache can win and make NVML see no GPU (Syllo/nvtop#441,
# ollama/ollama#1897). The path exists only inside WSL, so its presence is the capability test.
WSL_NVML_LIBRARY = Path("/usr/lib/wsl/lib/libnvidia-ml.so.1")

# A reported total this close to the host's RAM, on a part known to share it, is one pool (GB10
# reports total ~= MemTotal on some drivers: Syllo/nvtop#463, aristocratos/btop#1611).
UNIFIED_TOTAL_TOLERANCE = 0.10
# Names of NVIDIA parts whose GPU has no memory of its own (GB10 / DGX Spark, Jetson / Tegra).
_INTEGRATED_NAME_HINTS = ("gb10", "thor", "orin", "xavier", "jetson", "tegra", "nvgpu")


@dataclass(frozen=True, slots=True, kw_only=True)
class NvidiaResult:
    """What NVML showed: the usable GPUs, and the problems met on the way."""

    gpus: tuple[GpuInfo, ...] = ()
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _TableEntry:
    """One row of resources/gpus/nvidia.toml."""

    pci_id: str | None
    names: tuple[str, ...]
    bandwidth_gb_s: float | None
    unified: bool


def _load_nvml() -> ModuleType:
    """Import nvidia-ml-py's ``pynvml`` (lazily: ``import llmcheck`` works everywhere).

    Raises:
        ImportError: the binding is missing, or a different module shadows it.
    """
    with warnings.catch_warnings():
        # The deprecated `pynvml` wrapper package installs a redirector that warns on import.
        warnings.simplefilter("ignore", FutureWarning)
        import pynvml

    # pynvml <= 11.5 (gpuopenanalytics) ships its own module that shadows nvidia-ml-py's.
    if not callable(getattr(pynvml, "nvmlInit", None)) or not hasattr(pynvml, "NVMLError"):
        raise ImportError("the installed `pynvml` is not nvidia-ml-py's binding")
    # nvidia-ml-py ships no type hints, so mypy types the import as Any; name what it is.
    module: ModuleType = pynvml
    _prefer_wsl_library(module)
    return module


def _prefer_wsl_library(nvml: ModuleType) -> None:
    """In WSL2, load the driver's libnvidia-ml before pynvml's soname lookup can find a stub."""
    library = WSL_NVML_LIBRARY
    if getattr(nvml, "nvmlLib", True) is not None or not library.is_file():
        return
    try:
        handle = ctypes.CDLL(str(library))
    except OSError as err:
        log.info("could not load %s (%s); using the default library lookup", library, err)
        return
    lock = getattr(nvml, "libLoadLock", None)
    # ModuleType declares no settable attributes; nvmlLib is pynvml's own module global.
    if lock is None:
        nvml.nvmlLib = handle  # type: ignore[attr-defined]
        return
    with lock:
        if nvml.nvmlLib is None:
            nvml.nvmlLib = handle  # type: ignore[attr-defined]


def probe_nvidia(
    nvml: ModuleType | None = None,
    *,
    host_ram_bytes: int | None = None,
    on_device: Callable[[GpuInfo], None] | None = None,
) -> NvidiaResult:
    """Read every NVIDIA GPU through NVML. Never raises.

    Args:
        nvml: the ``pynvml`` module, or a stand-in for tests; None imports the real one.
        host_ram_bytes: the host's total RAM (MemTotal), to recognise a unified-memory part
            (GB10, Jetson) whose NVML total is the host's RAM.
        on_device: called with each GPU's identity (index, name, UUID, PCI ids; memory not yet
            read) as soon as it is known, so a caller whose wait for a hung memory query runs out
            still knows the GPU is there (``llmcheck.probe`` runs this in a child process).

    Returns:
        The GPUs NVML could read, and the issues met. Issue codes map NVML error classes:
        ``nvml_library_not_found`` (no NVIDIA driver), ``nvml_driver_not_loaded``,
        ``nvml_no_permission``, ``nvml_gpu_lost``, ``nvml_driver_version_mismatch``
        (LibRmVersionMismatch: reboot after a driver update), ``nvml_timeout``,
        ``nvml_unknown_error``, ... (one per class, see ``_ERRORS``); ``nvml_binding_missing``
        when nvidia-ml-py is not installed; ``nvml_no_devices`` when the driver shows no GPU.
    """
    if nvml is None:
        try:
            nvml = _load_nvml()
        except ImportError as err:
            return NvidiaResult(
                issues=(
                    Issue(
                        source=SOURCE,
                        code="nvml_binding_missing",
                        message=f"The NVIDIA binding nvidia-ml-py could not be imported ({err}).",
                        hint="Install it: `pip install nvidia-ml-py`.",
                    ),
                )
            )
    try:
        return _probe(nvml, host_ram_bytes, on_device)
    # The source's boundary: a bug in a binding or driver must not take the other probes down.
    except Exception as err:
        log.debug("NVIDIA probe failed", exc_info=True)
        return NvidiaResult(
            issues=(
                Issue(
                    source=SOURCE,
                    code="nvml_internal_error",
                    message=f"Reading the NVIDIA GPUs failed unexpectedly ({type(err).__name__}: "
                    f"{err}).",
                    hint="Please report this with the output of `nvidia-smi`.",
                ),
            )
        )


def _probe(
    nvml: ModuleType, host_ram_bytes: int | None, on_device: Callable[[GpuInfo], None] | None
) -> NvidiaResult:
    """Init, read, shut down."""
    system = _Calls(nvml, device_index=None)
    system.call("start NVML", "nvmlInit", quiet=_LOUD)
    if system.failures:
        return NvidiaResult(issues=tuple(system.issues()))
    try:
        result = _probe_devices(nvml, system, host_ram_bytes, on_device)
    except BaseException:
        _shutdown(nvml)
        raise
    shutdown_issue = _shutdown(nvml)
    if shutdown_issue is None:
        return result
    return NvidiaResult(gpus=result.gpus, issues=(*result.issues, shutdown_issue))


def _shutdown(nvml: ModuleType) -> Issue | None:
    """``nvmlShutdown()``; a failure of any kind is an issue, never a reason to drop the GPUs."""
    try:
        nvml.nvmlShutdown()
    # Every value was read before this call, so nothing it raises (an NVMLError, or a binding bug
    # such as a bad-UTF-8 decode, TypeError or AttributeError) may cost the GPUs already read.
    except Exception as err:
        log.debug("nvmlShutdown failed", exc_info=True)
        return Issue(
            source=SOURCE,
            code="nvml_shutdown_failed",
            message=f"NVIDIA: NVML could not be shut down cleanly ({type(err).__name__}: {err}); "
            "the GPU values were read before.",
            hint="Nothing to do; if it repeats, update the NVIDIA driver and nvidia-ml-py.",
        )
    return None


def _probe_devices(
    nvml: ModuleType,
    system: _Calls,
    host_ram_bytes: int | None,
    on_device: Callable[[GpuInfo], None] | None = None,
) -> NvidiaResult:
    """Read the driver, then every device on its own."""
    driver_version = _text(system.call("driver version", "nvmlSystemGetDriverVersion", quiet=_LOUD))
    cuda_version = _cuda_version(system)
    count = system.call("count the GPUs", "nvmlDeviceGetCount", quiet=_LOUD)
    gpus: list[GpuInfo] = []
    issues: list[Issue] = []
    if isinstance(count, int) and count == 0:
        issues.append(
            Issue(
                source=SOURCE,
                code="nvml_no_devices",
                message="The NVIDIA driver is loaded but shows no GPU.",
                hint="In a container, pass the GPUs in (`--gpus all`); otherwise check "
                "`nvidia-smi -L` and CUDA/NVIDIA device visibility settings.",
            )
        )
    for index in range(count if isinstance(count, int) else 0):
        device = _Calls(nvml, device_index=index)
        gpu = _read_device(
            nvml, device, index, driver_version, cuda_version, host_ram_bytes, on_device
        )
        if gpu is not None:
            gpus.append(gpu)
        issues.extend(device.issues())
    return NvidiaResult(gpus=tuple(gpus), issues=(*system.issues(), *issues))


def _cuda_version(system: _Calls) -> str | None:
    """The newest CUDA the driver supports: 13000 -> "13.0" (not the installed runtime)."""
    raw = system.call("CUDA driver version", "nvmlSystemGetCudaDriverVersion_v2", quiet=_QUIET)
    if raw is None and system.last_code in _QUIET:
        raw = system.call("CUDA driver version", "nvmlSystemGetCudaDriverVersion", quiet=_LOUD)
    if not isinstance(raw, int) or raw <= 0:
        return None
    return f"{raw // 1000}.{(raw % 1000) // 10}"


def _read_device(
    nvml: ModuleType,
    device: _Calls,
    index: int,
    driver_version: str | None,
    cuda_version: str | None,
    host_ram_bytes: int | None,
    on_device: Callable[[GpuInfo], None] | None = None,
) -> GpuInfo | None:
    """One GPU, field by field; None when it cannot be opened or is lost."""
    handle = device.call("open the device", "nvmlDeviceGetHandleByIndex", index, quiet=_LOUD)
    if handle is None:
        return None
    name = _text(device.call("name", "nvmlDeviceGetName", handle))
    device.name = name
    uuid = _text(device.call("UUID", "nvmlDeviceGetUUID", handle))
    pci_bus_id, pci_id = _pci(device.call("PCI info", "nvmlDeviceGetPciInfo", handle))
    table = _table_entry(pci_id, name)
    if on_device is not None and not device.lost:
        # Before the memory query, the one a wedged driver hangs in.
        on_device(
            GpuInfo(
                index=index,
                vendor=GpuVendor.NVIDIA,
                name=name,
                uuid=uuid,
                pci_bus_id=pci_bus_id,
                pci_id=pci_id,
            )
        )
    memory = _memory(device, handle)
    not_supported = memory is None and device.last_code == _NVML_ERROR_NOT_SUPPORTED
    width = _positive(device.call("memory bus width", "nvmlDeviceGetMemoryBusWidth", handle))
    clock = _positive(
        device.call("max memory clock", "nvmlDeviceGetMaxClockInfo", handle, _NVML_CLOCK_MEM)
    )
    capability = device.call("compute capability", "nvmlDeviceGetCudaComputeCapability", handle)
    mig_enabled, mig_instances = _mig(device, handle)
    processes_used = _processes_used_bytes(nvml, device, handle)
    if device.lost:
        return None

    kind = MemoryKind.DISCRETE
    total = free = used = reserved = None
    if memory is not None:
        total, free, used, reserved = (device.plausible_bytes(memory, key) for key in _MEMORY_KEYS)
    integrated_part = (table is not None and table.unified) or _named_integrated(name)
    if not_supported or (memory is not None and total is None and _raw(memory, "total") == 0):
        # GB10 / Jetson: no memory of its own; NVML says NotSupported or 0 (XuehaiPan/nvitop#208).
        kind = MemoryKind.UNIFIED
        total = free = used = reserved = None
    elif integrated_part and _near(total, host_ram_bytes):
        kind = MemoryKind.UNIFIED

    bandwidth, bandwidth_source = _bandwidth(width, clock, table)
    return GpuInfo(
        index=index,
        vendor=GpuVendor.NVIDIA,
        name=name,
        uuid=uuid,
        pci_bus_id=pci_bus_id,
        pci_id=pci_id,
        memory_kind=kind,
        total_bytes=total,
        free_bytes=free,
        used_bytes=used,
        reserved_bytes=reserved,
        memory_source=Source.NVML if total is not None else Source.UNKNOWN,
        bandwidth_gb_s=bandwidth,
        bandwidth_source=bandwidth_source,
        memory_bus_width_bits=width,
        max_memory_clock_mhz=clock,
        compute_capability=_capability(capability),
        driver_version=driver_version,
        cuda_driver_version=cuda_version,
        mig_enabled=mig_enabled,
        mig_instances=mig_instances,
        processes_used_bytes=processes_used,
    )


_MEMORY_KEYS = ("total", "free", "used", "reserved")


def _memory(calls: _Calls, handle: Any, what: str = "memory") -> Any:
    """Memory info v2 (has ``reserved``; ``used`` excludes it), else v1 (old drivers)."""
    version = getattr(calls.nvml, "nvmlMemory_v2", None)
    if version is not None:
        # Any v2 failure falls back to v1, which reports its own error: FunctionNotFound on
        # pre-R510 drivers (wookayin/gpustat#107), Unknown under WSL2 (XuehaiPan/nvitop#30),
        # TypeError from bindings without the `version` keyword.
        info = calls.call(what, "nvmlDeviceGetMemoryInfo", handle, version=version, quiet=None)
        if info is not None or calls.lost:
            return info
    # NotSupported stays quiet: it is the unified-memory signal (GB10, XuehaiPan/nvitop#208).
    # Anything else, FunctionNotFound included, leaves the memory unknown: record why.
    return calls.call(what, "nvmlDeviceGetMemoryInfo", handle, quiet=_MEMORY_QUIET)


def _mig(calls: _Calls, handle: Any) -> tuple[bool | None, tuple[MigInstance, ...]]:
    """MIG mode, and each slice's own memory when it is on."""
    mode = calls.call("MIG mode", "nvmlDeviceGetMigMode", handle)
    if mode is None:
        # NotSupported: a GPU without MIG (all consumer parts), so MIG is known to be off.
        return (False if calls.last_code == _NVML_ERROR_NOT_SUPPORTED else None), ()
    try:
        current = int(mode[0])
    except (TypeError, ValueError, IndexError):
        return None, ()
    if current != _NVML_DEVICE_MIG_ENABLE:
        return False, ()
    count = calls.call("MIG slice count", "nvmlDeviceGetMaxMigDeviceCount", handle)
    instances: list[MigInstance] = []
    for slot in range(count if isinstance(count, int) else 0):
        # Empty slots answer NotFound (nvitop `PhysicalDevice.mig_devices`).
        quiet = frozenset({*_QUIET, _NVML_ERROR_NOT_FOUND})
        mig = calls.call(
            f"MIG slice {slot}", "nvmlDeviceGetMigDeviceHandleByIndex", handle, slot, quiet=quiet
        )
        if calls.lost:
            break
        if mig is None:
            continue
        memory = _memory(calls, mig, f"MIG slice {slot} memory")
        total = free = None
        if memory is not None:
            total = calls.plausible_bytes(memory, "total")
            free = calls.plausible_bytes(memory, "free")
        instances.append(
            MigInstance(
                index=slot,
                name=_text(calls.call(f"MIG slice {slot} name", "nvmlDeviceGetName", mig)),
                uuid=_text(calls.call(f"MIG slice {slot} UUID", "nvmlDeviceGetUUID", mig)),
                total_bytes=total,
                free_bytes=free,
            )
        )
    return True, tuple(instances)


def _processes_used_bytes(nvml: ModuleType, calls: _Calls, handle: Any) -> int | None:
    """Memory held by compute processes, when the driver lets us see it (else None, no issue)."""
    quiet = frozenset({*_QUIET, _NVML_ERROR_NO_PERMISSION})
    mismatch = getattr(nvml, "NVMLLibraryMismatchError", None)
    processes = calls.call(
        "processes",
        "nvmlDeviceGetComputeRunningProcesses",
        handle,
        quiet=quiet,
        # The unversioned call raises this instead of FunctionNotFound on old drivers.
        quiet_types=(mismatch,) if isinstance(mismatch, type) else (),
    )
    if not isinstance(processes, list | tuple):
        return None
    total = 0
    for process in processes:
        used = getattr(process, "usedGpuMemory", None)
        # None under WDDM (NVML_VALUE_NOT_AVAILABLE): a partial sum would understate.
        if not isinstance(used, int) or used < 0 or used >= MAX_PLAUSIBLE_BYTES:
            return None
        total += used
    return total


class _Calls:
    """NVML calls for one device (or the system), each guarded; failures kept for issues."""

    def __init__(self, nvml: ModuleType, *, device_index: int | None) -> None:
        self.nvml = nvml
        self.device_index = device_index
        self.name: str | None = None
        self.failures: dict[int, list[str]] = {}
        self.error_names: dict[int, str] = {}
        self.lost: int | None = None
        self.last_code: int | None = None

    def call(
        self,
        what: str,
        function: str,
        *args: Any,
        quiet: frozenset[int] | None = _QUIET,
        quiet_types: tuple[type[BaseException], ...] = (),
        **kwargs: Any,
    ) -> Any:
        """``nvml.<function>(*args)``, or None when it fails (``quiet=None``: every error)."""
        self.last_code = None
        if self.lost is not None:
            return None
        try:
            return getattr(self.nvml, function)(*args, **kwargs)
        except self.nvml.NVMLError as err:
            code = int(getattr(err, "value", 999))
            self.last_code = code
            if code in _LOST and self.device_index is not None:
                self.lost = code
                self.error_names[code] = type(err).__name__
            elif quiet is not None and code not in quiet:
                self._fail(code, what, type(err).__name__)
        except UnicodeDecodeError:
            self._fail(_BAD_STRING, what, "UnicodeDecodeError")
        except quiet_types:
            pass
        except AttributeError:
            self._fail(_BINDING_OUTDATED, what, f"no pynvml.{function}")
        except TypeError:
            # Old bindings take no `version` keyword; let the caller fall back.
            if quiet is not None:
                self._fail(_BINDING_OUTDATED, what, "TypeError")
        return None

    def plausible_bytes(self, info: Any, key: str) -> int | None:
        """A byte count from an NVML struct, or None (recorded) when it is impossible."""
        value = _raw(info, key)
        if value is None or value == 0:
            return None if key == "total" else value
        if 0 < value < MAX_PLAUSIBLE_BYTES:
            return value
        # free/used can be NVML_VALUE_NOT_AVAILABLE (2**64 - 1) on some platforms.
        self._fail(_BAD_VALUE, f"memory {key}", str(value))
        return None

    def _fail(self, code: int, what: str, detail: str) -> None:
        self.last_code = code
        fields = self.failures.setdefault(code, [])
        if what not in fields:
            fields.append(what)
        self.error_names.setdefault(code, detail)

    def issues(self) -> Iterable[Issue]:
        """One issue per kind of failure (listing what it hid), and one when the GPU is lost."""
        who = "NVIDIA" if self.device_index is None else f"NVIDIA GPU {self.device_index}"
        if self.name and self.device_index is not None:
            who = f"{who} ({self.name})"
        if self.lost is not None:
            code, text, hint = _describe(self.lost)
            yield Issue(
                source=SOURCE,
                code=code,
                message=f"{who}: {text} [{self.error_names.get(self.lost, '')}]",
                hint=hint,
                device_index=self.device_index,
            )
        for error, fields in self.failures.items():
            code, text, hint = _describe(error)
            yield Issue(
                source=SOURCE,
                code=code,
                message=f"{who}: could not {_join(fields)}: {text} "
                f"[{self.error_names.get(error, '')}]",
                hint=hint,
                device_index=self.device_index,
            )


def _join(fields: list[str]) -> str:
    reads = [f if f.startswith(("start", "open", "count")) else f"read the {f}" for f in fields]
    return ", ".join(reads)


def _raw(info: Any, key: str) -> int | None:
    value = getattr(info, key, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    """A string from the binding: bytes in nvidia-ml-py < 11.515 and in ctypes char arrays."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip().strip("\x00")
    return value or None


def _positive(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 1 << 31:
        return value
    return None


def _pci(info: Any) -> tuple[str | None, str | None]:
    """("0000:19:00.0", "10de:2330") from nvmlPciInfo_t; NVML pads the domain to 8 digits."""
    if info is None:
        return None, None
    bus_id = _text(getattr(info, "busId", None)) or _text(getattr(info, "busIdLegacy", None))
    if bus_id is not None:
        parts = bus_id.lower().split(":")
        try:
            if len(parts) == 3:
                bus_id = f"{int(parts[0], 16):04x}:{parts[1]}:{parts[2]}"
        except ValueError:
            bus_id = bus_id.lower()
    pci_id = None
    raw = getattr(info, "pciDeviceId", None)
    # Device id in the high 16 bits, vendor (0x10de) in the low 16.
    if isinstance(raw, int) and raw > 0:
        pci_id = f"{raw & 0xFFFF:04x}:{(raw >> 16) & 0xFFFF:04x}"
    return bus_id, pci_id


def _capability(value: Any) -> str | None:
    try:
        major, minor = value
    except (TypeError, ValueError):
        return None
    if isinstance(major, int) and isinstance(minor, int) and major > 0 and minor >= 0:
        return f"{major}.{minor}"
    return None


def _named_integrated(name: str | None) -> bool:
    lowered = (name or "").lower()
    return any(hint in lowered for hint in _INTEGRATED_NAME_HINTS)


def _near(total: int | None, host_ram_bytes: int | None) -> bool:
    if total is None or host_ram_bytes is None or host_ram_bytes <= 0:
        return False
    return abs(total - host_ram_bytes) <= UNIFIED_TOTAL_TOLERANCE * host_ram_bytes


def peak_bandwidth_gb_s(max_memory_clock_mhz: int, memory_bus_width_bits: int) -> float:
    """Peak bandwidth = 2 x clock (MHz) x bus width (bits) / 8 / 1000, in GB/s.

    The factor 2 holds for GDDR and HBM alike: the driver reports the clock so that the DDR
    formula gives the data rate (ekondis/gpumembench#1). H100 SXM: 2 x 2619 x 5120 / 8000 = 3352.
    """
    return round(2 * max_memory_clock_mhz * memory_bus_width_bits / 8 / 1000, 1)


def _bandwidth(
    width: int | None, clock: int | None, table: _TableEntry | None
) -> tuple[float | None, Source | None]:
    if width is not None and clock is not None:
        value = peak_bandwidth_gb_s(clock, width)
        if 0 < value <= MAX_PLAUSIBLE_BANDWIDTH_GB_S:
            return value, Source.COMPUTED
    if table is not None and table.bandwidth_gb_s is not None:
        return table.bandwidth_gb_s, Source.TABLE
    return None, None


def _table_entry(pci_id: str | None, name: str | None) -> _TableEntry | None:
    """The shipped table's row for this GPU: by PCI id first, then by exact NVML name."""
    table = _bandwidth_table()
    if pci_id is not None:
        for entry in table:
            if entry.pci_id == pci_id:
                return entry
    if name is not None:
        lowered = name.lower()
        for entry in table:
            if lowered in entry.names:
                return entry
    return None


@lru_cache(maxsize=1)
def _bandwidth_table() -> tuple[_TableEntry, ...]:
    """resources/gpus/nvidia.toml; empty (logged) when it cannot be read."""
    node = resource_path("gpus", "nvidia.toml")
    try:
        data = tomllib.loads(node.read_text(encoding="utf-8"))
        return tuple(_parse_entry(row) for row in data.get("gpu", []))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, TypeError, ValueError) as err:
        log.warning("NVIDIA bandwidth table unreadable: %s", err)
        return ()


def _parse_entry(row: dict[str, Any]) -> _TableEntry:
    pci_id = row.get("pci_id")
    bandwidth = row.get("bandwidth_gb_s")
    names = row.get("names", [])
    if pci_id is not None and not isinstance(pci_id, str):
        raise TypeError(f"pci_id must be a string: {pci_id!r}")
    if bandwidth is not None and not isinstance(bandwidth, int | float):
        raise TypeError(f"bandwidth_gb_s must be a number: {bandwidth!r}")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"names must be a list of strings: {names!r}")
    return _TableEntry(
        pci_id=pci_id.lower() if pci_id else None,
        names=tuple(n.lower() for n in names),
        bandwidth_gb_s=float(bandwidth) if bandwidth is not None else None,
        unified=bool(row.get("unified", False)),
    )


def result_to_dict(result: NvidiaResult) -> dict[str, Any]:
    """The JSON form: ``{"gpus": [...], "problems": [...]}`` in the snapshot's shapes."""
    return {
        "gpus": [gpu_to_dict(gpu) for gpu in result.gpus],
        "problems": [issue_to_dict(issue) for issue in result.issues],
    }


# os.sysconf is POSIX only. A module-level platform check is one mypy reads (typeshed declares
# sysconf for non-Windows only), so `mypy --platform win32` checks this module too.
if sys.platform == "win32":

    def _host_ram_bytes() -> int | None:
        return None

else:

    def _host_ram_bytes() -> int | None:
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            return None


def main() -> int:
    """``python -m llmcheck.probe.nvidia``: the NVIDIA probe's result as JSON on stdout."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    result = probe_nvidia(host_ram_bytes=_host_ram_bytes())
    sys.stdout.write(json.dumps(result_to_dict(result), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
