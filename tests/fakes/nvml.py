"""A fake ``pynvml`` for tests: only the calls llmcheck.probe.nvidia makes, set up from scenarios.

It raises the *real* ``pynvml.NVMLError_*`` classes (built the way pynvml's own ``_nvmlCheckReturn``
does: ``pynvml.NVMLError(code)`` yields the subclass), so the probe's error handling is exercised
against what the real binding throws. A call the fake does not implement raises AttributeError.

Scenarios are named after hardware or bugs; the numbers are what NVML reports on those parts
(H100 80GB HBM3: 81559 MiB total and 2619 MHz max memory clock, as `nvidia-smi` prints on one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml

MIB = 1 << 20
GIB = 1 << 30

ErrorSpec = int | type[BaseException]


@dataclass(frozen=True, kw_only=True)
class FakeMig:
    """One MIG slice."""

    name: str = "NVIDIA A100-SXM4-40GB MIG 3g.20gb"
    uuid: str
    total_bytes: int
    free_bytes: int
    used_bytes: int = 0


@dataclass(frozen=True, kw_only=True)
class FakeGpu:
    """One GPU as NVML reports it; ``errors`` maps a pynvml function name to what it raises.

    ``"nvmlDeviceGetMemoryInfo_v2"`` names the ``version=nvmlMemory_v2`` call, and ``"*"`` every
    call on the device after its handle was opened.
    """

    name: str | bytes = "NVIDIA H100 80GB HBM3"
    uuid: str | bytes = "GPU-6f1c2f8e-3a7d-4c61-9b0e-1d2c3b4a5f60"
    bus_id: bytes = b"00000000:19:00.0"
    pci_device_id: int = 0x233010DE
    total_bytes: int = 81559 * MIB
    reserved_bytes: int = 532 * MIB
    used_bytes: int = 1 * GIB
    free_bytes: int | None = None  # None: total - reserved - used
    bus_width_bits: int = 5120
    max_memory_clock_mhz: int = 2619
    compute_capability: tuple[int, int] = (9, 0)
    mig_mode: tuple[int, int] = (0, 0)
    mig: tuple[FakeMig | None, ...] = ()  # None: an empty slot (NotFound)
    processes_used_bytes: tuple[int | None, ...] = ()
    errors: Mapping[str, ErrorSpec] = field(default_factory=dict)

    @property
    def free(self) -> int:
        """Free bytes, as v2 reports them."""
        if self.free_bytes is not None:
            return self.free_bytes
        return self.total_bytes - self.reserved_bytes - self.used_bytes


@dataclass(frozen=True, kw_only=True)
class NvmlScenario:
    """A machine as NVML sees it."""

    gpus: tuple[FakeGpu, ...] = ()
    driver_version: str | bytes = "580.95.05"
    cuda_driver_version: int = 13000
    errors: Mapping[str, ErrorSpec] = field(default_factory=dict)  # system-level calls
    missing: frozenset[str] = frozenset()  # names an old binding lacks (AttributeError)
    memory_version_keyword: bool = True  # False: old binding, no `version=` (TypeError)
    host_ram_bytes: int | None = 256 * GIB


@dataclass(frozen=True)
class _Handle:
    gpu: int
    mig: int | None = None


def nvml_error(code: int) -> pynvml.NVMLError:
    """The real pynvml exception for an NVML return code (its subclass, e.g. GpuIsLost)."""
    return pynvml.NVMLError(code)


def _raise(spec: ErrorSpec) -> None:
    if isinstance(spec, int):
        raise nvml_error(spec)
    raise spec("raised by the fake NVML")


class FakeNvml:
    """Stands in for the ``pynvml`` module; records every call in ``calls``."""

    NVMLError = pynvml.NVMLError
    NVMLLibraryMismatchError = pynvml.NVMLLibraryMismatchError
    NVML_CLOCK_MEM = pynvml.NVML_CLOCK_MEM
    nvmlMemory_v2 = pynvml.nvmlMemory_v2

    def __init__(self, scenario: NvmlScenario) -> None:
        self.scenario = scenario
        self.calls: list[tuple[str, Any]] = []
        self.initialized = False
        self.shutdowns = 0

    def __getattribute__(self, name: str) -> Any:
        # An old binding simply lacks the newer functions and constants.
        if (
            name.startswith(("nvml", "NVML"))
            and name in object.__getattribute__(self, "scenario").missing
        ):
            raise AttributeError(name)
        return object.__getattribute__(self, name)

    # -- helpers ---------------------------------------------------------------------------

    def _enter(self, name: str, handle: _Handle | None = None) -> FakeGpu | None:
        self.calls.append((name, handle))
        if name in self.scenario.errors:
            _raise(self.scenario.errors[name])
        if not self.initialized:
            raise nvml_error(pynvml.NVML_ERROR_UNINITIALIZED)
        if handle is None:
            return None
        if not isinstance(handle, _Handle) or not 0 <= handle.gpu < len(self.scenario.gpus):
            raise nvml_error(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        gpu = self.scenario.gpus[handle.gpu]
        if name in gpu.errors:
            _raise(gpu.errors[name])
        if "*" in gpu.errors and name != "nvmlDeviceGetHandleByIndex":
            _raise(gpu.errors["*"])
        return gpu

    def _mig(self, gpu: FakeGpu, handle: _Handle) -> FakeMig | None:
        if handle.mig is None:
            return None
        mig = gpu.mig[handle.mig]
        assert mig is not None
        return mig

    # -- pynvml API ------------------------------------------------------------------------

    def nvmlInit(self) -> None:
        self.calls.append(("nvmlInit", None))
        if "nvmlInit" in self.scenario.errors:
            _raise(self.scenario.errors["nvmlInit"])
        self.initialized = True

    def nvmlShutdown(self) -> None:
        self._enter("nvmlShutdown")
        self.initialized = False
        self.shutdowns += 1

    def nvmlSystemGetDriverVersion(self) -> str | bytes:
        self._enter("nvmlSystemGetDriverVersion")
        return self.scenario.driver_version

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        self._enter("nvmlSystemGetCudaDriverVersion_v2")
        return self.scenario.cuda_driver_version

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._enter("nvmlSystemGetCudaDriverVersion")
        return self.scenario.cuda_driver_version

    def nvmlDeviceGetCount(self) -> int:
        self._enter("nvmlDeviceGetCount")
        return len(self.scenario.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> _Handle:
        handle = _Handle(index)
        self._enter("nvmlDeviceGetHandleByIndex", handle)
        return handle

    def nvmlDeviceGetName(self, handle: _Handle) -> str | bytes:
        gpu = self._enter("nvmlDeviceGetName", handle)
        assert gpu is not None
        mig = self._mig(gpu, handle)
        return mig.name if mig else gpu.name

    def nvmlDeviceGetUUID(self, handle: _Handle) -> str | bytes:
        gpu = self._enter("nvmlDeviceGetUUID", handle)
        assert gpu is not None
        mig = self._mig(gpu, handle)
        return mig.uuid if mig else gpu.uuid

    def nvmlDeviceGetPciInfo(self, handle: _Handle) -> SimpleNamespace:
        gpu = self._enter("nvmlDeviceGetPciInfo", handle)
        assert gpu is not None
        # ctypes char arrays come back as bytes, whatever the binding's version.
        return SimpleNamespace(busId=gpu.bus_id, pciDeviceId=gpu.pci_device_id)

    def nvmlDeviceGetMemoryInfo(self, handle: _Handle, **kwargs: Any) -> SimpleNamespace:
        if kwargs and not self.scenario.memory_version_keyword:
            raise TypeError("nvmlDeviceGetMemoryInfo() got an unexpected keyword 'version'")
        version = kwargs.pop("version", None)
        assert not kwargs
        name = "nvmlDeviceGetMemoryInfo_v2" if version else "nvmlDeviceGetMemoryInfo"
        gpu = self._enter(name, handle)
        assert gpu is not None
        if version is not None and version != pynvml.nvmlMemory_v2:
            raise nvml_error(pynvml.NVML_ERROR_ARGUMENT_VERSION_MISMATCH)
        mig = self._mig(gpu, handle)
        if mig is not None:
            total, reserved, free, used = mig.total_bytes, 0, mig.free_bytes, mig.used_bytes
        else:
            total, reserved, free, used = (
                gpu.total_bytes,
                gpu.reserved_bytes,
                gpu.free,
                gpu.used_bytes,
            )
        if version:
            return SimpleNamespace(
                version=version, total=total, reserved=reserved, free=free, used=used
            )
        # Since R510, v1 `used` lumps the reserved memory in (NVIDIA/gpu-operator#348).
        return SimpleNamespace(total=total, free=free, used=used + reserved)

    def nvmlDeviceGetMemoryBusWidth(self, handle: _Handle) -> int:
        gpu = self._enter("nvmlDeviceGetMemoryBusWidth", handle)
        assert gpu is not None
        return gpu.bus_width_bits

    def nvmlDeviceGetMaxClockInfo(self, handle: _Handle, clock_type: int) -> int:
        gpu = self._enter("nvmlDeviceGetMaxClockInfo", handle)
        assert gpu is not None
        assert clock_type == pynvml.NVML_CLOCK_MEM, "the probe asks for the memory clock only"
        return gpu.max_memory_clock_mhz

    def nvmlDeviceGetCudaComputeCapability(self, handle: _Handle) -> tuple[int, int]:
        gpu = self._enter("nvmlDeviceGetCudaComputeCapability", handle)
        assert gpu is not None
        return gpu.compute_capability

    def nvmlDeviceGetMigMode(self, handle: _Handle) -> list[int]:
        gpu = self._enter("nvmlDeviceGetMigMode", handle)
        assert gpu is not None
        return list(gpu.mig_mode)

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: _Handle) -> int:
        gpu = self._enter("nvmlDeviceGetMaxMigDeviceCount", handle)
        assert gpu is not None
        return len(gpu.mig)

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: _Handle, index: int) -> _Handle:
        gpu = self._enter("nvmlDeviceGetMigDeviceHandleByIndex", handle)
        assert gpu is not None
        if not 0 <= index < len(gpu.mig) or gpu.mig[index] is None:
            raise nvml_error(pynvml.NVML_ERROR_NOT_FOUND)
        return _Handle(handle.gpu, index)

    def nvmlDeviceGetComputeRunningProcesses(self, handle: _Handle) -> list[SimpleNamespace]:
        gpu = self._enter("nvmlDeviceGetComputeRunningProcesses", handle)
        assert gpu is not None
        return [
            SimpleNamespace(pid=1000 + i, usedGpuMemory=used, gpuInstanceId=0xFFFFFFFF)
            for i, used in enumerate(gpu.processes_used_bytes)
        ]


# -- scenarios -------------------------------------------------------------------------------

H100 = FakeGpu(processes_used_bytes=(1 * GIB,))

RTX_4090 = FakeGpu(
    name="NVIDIA GeForce RTX 4090",
    uuid="GPU-0b9e6c1a-77f2-4d0e-a8b3-5c4d3e2f1a09",
    bus_id=b"00000000:01:00.0",
    pci_device_id=0x268410DE,
    total_bytes=24564 * MIB,
    reserved_bytes=328 * MIB,
    used_bytes=900 * MIB,
    bus_width_bits=384,
    max_memory_clock_mhz=10501,
    compute_capability=(8, 9),
    errors={"nvmlDeviceGetMigMode": pynvml.NVML_ERROR_NOT_SUPPORTED},
)


def no_driver() -> NvmlScenario:
    """No NVIDIA driver at all: libnvidia-ml.so.1 cannot be loaded."""
    return NvmlScenario(errors={"nvmlInit": pynvml.NVML_ERROR_LIBRARY_NOT_FOUND})


def driver_not_loaded() -> NvmlScenario:
    """The driver's libraries are installed but the kernel module is not loaded."""
    return NvmlScenario(errors={"nvmlInit": pynvml.NVML_ERROR_DRIVER_NOT_LOADED})


def rm_version_mismatch() -> NvmlScenario:
    """The driver was upgraded and the machine not rebooted."""
    return NvmlScenario(errors={"nvmlInit": pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH})


def one_h100() -> NvmlScenario:
    """One H100 SXM5 80GB with one process holding 1 GiB."""
    return NvmlScenario(gpus=(H100,))


def two_gpus_one_lost() -> NvmlScenario:
    """GPU 0 falls off the bus while being read (Xid 79); GPU 1 is healthy."""
    lost = FakeGpu(
        uuid="GPU-11111111-2222-3333-4444-555555555555",
        errors={
            "nvmlDeviceGetMemoryInfo_v2": pynvml.NVML_ERROR_GPU_IS_LOST,
            "nvmlDeviceGetMemoryInfo": pynvml.NVML_ERROR_GPU_IS_LOST,
            "nvmlDeviceGetMemoryBusWidth": pynvml.NVML_ERROR_GPU_IS_LOST,
        },
    )
    return NvmlScenario(gpus=(lost, RTX_4090), host_ram_bytes=64 * GIB)


def unsupported_calls() -> NvmlScenario:
    """A GeForce whose driver answers NotSupported to everything optional."""
    not_supported = pynvml.NVML_ERROR_NOT_SUPPORTED
    gpu = FakeGpu(
        name="NVIDIA GeForce RTX 4090",
        uuid="GPU-0b9e6c1a-77f2-4d0e-a8b3-5c4d3e2f1a09",
        bus_id=b"00000000:01:00.0",
        pci_device_id=0x268410DE,
        total_bytes=24564 * MIB,
        reserved_bytes=328 * MIB,
        used_bytes=0,
        errors=dict.fromkeys(
            (
                "nvmlDeviceGetUUID",
                "nvmlDeviceGetMemoryBusWidth",
                "nvmlDeviceGetMaxClockInfo",
                "nvmlDeviceGetCudaComputeCapability",
                "nvmlDeviceGetMigMode",
                "nvmlDeviceGetComputeRunningProcesses",
            ),
            not_supported,
        ),
    )
    return NvmlScenario(gpus=(gpu,), host_ram_bytes=64 * GIB)


def mig_enabled_a100() -> NvmlScenario:
    """An A100 40GB in MIG mode with two 3g.20gb slices and five empty slots."""
    slices = tuple(
        FakeMig(
            uuid=f"MIG-a1b2c3d4-0000-4000-8000-00000000000{i}",
            total_bytes=19968 * MIB,
            free_bytes=19968 * MIB - 13 * MIB - i * GIB,
            used_bytes=13 * MIB + i * GIB,
        )
        for i in range(2)
    )
    gpu = FakeGpu(
        name="NVIDIA A100-SXM4-40GB",
        uuid="GPU-a1b2c3d4-e5f6-4789-abcd-ef0123456789",
        bus_id=b"00000000:07:00.0",
        pci_device_id=0x20B010DE,
        total_bytes=40960 * MIB,
        reserved_bytes=571 * MIB,
        used_bytes=26 * MIB,
        bus_width_bits=5120,
        max_memory_clock_mhz=1215,
        compute_capability=(8, 0),
        mig_mode=(1, 1),
        mig=(*slices, None, None, None, None, None),
        # Processes inside MIG slices are not visible from the parent without privileges.
        errors={"nvmlDeviceGetComputeRunningProcesses": pynvml.NVML_ERROR_NO_PERMISSION},
    )
    return NvmlScenario(gpus=(gpu,))


def spark_unified_memory() -> NvmlScenario:
    """DGX Spark (GB10) on a driver where memory info is NotSupported (XuehaiPan/nvitop#208)."""
    not_supported = pynvml.NVML_ERROR_NOT_SUPPORTED
    gpu = FakeGpu(
        name="NVIDIA GB10",
        uuid="GPU-5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
        bus_id=b"0000000F:01:00.0",
        pci_device_id=0x2E1210DE,
        compute_capability=(12, 1),
        errors={
            "nvmlDeviceGetMemoryInfo_v2": not_supported,
            "nvmlDeviceGetMemoryInfo": not_supported,
            "nvmlDeviceGetMemoryBusWidth": not_supported,
            "nvmlDeviceGetMaxClockInfo": not_supported,
            "nvmlDeviceGetMigMode": not_supported,
        },
    )
    return NvmlScenario(gpus=(gpu,), host_ram_bytes=128_526_065_664)


def spark_total_equals_ram() -> NvmlScenario:
    """GB10 on a driver that reports the whole host RAM as its total (Syllo/nvtop#463)."""
    host = 128_526_065_664
    gpu = FakeGpu(
        name="NVIDIA GB10",
        uuid="GPU-5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
        bus_id=b"0000000F:01:00.0",
        pci_device_id=0x2E1210DE,
        total_bytes=host,
        reserved_bytes=0,
        used_bytes=9 * GIB,
        compute_capability=(12, 1),
        errors={
            "nvmlDeviceGetMemoryBusWidth": pynvml.NVML_ERROR_NOT_SUPPORTED,
            "nvmlDeviceGetMaxClockInfo": pynvml.NVML_ERROR_NOT_SUPPORTED,
            "nvmlDeviceGetMigMode": pynvml.NVML_ERROR_NOT_SUPPORTED,
        },
    )
    return NvmlScenario(gpus=(gpu,), host_ram_bytes=host)


def function_not_found_old_driver() -> NvmlScenario:
    """A pre-R510 driver under a current binding: the _v2 symbols are missing."""
    not_found = pynvml.NVML_ERROR_FUNCTION_NOT_FOUND
    gpu = FakeGpu(
        name="Tesla V100-SXM2-16GB",
        uuid="GPU-7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928",
        bus_id=b"00000000:00:1E.0",
        pci_device_id=0x1DB110DE,
        total_bytes=16160 * MIB,
        reserved_bytes=0,
        used_bytes=0,
        bus_width_bits=4096,
        max_memory_clock_mhz=877,
        compute_capability=(7, 0),
        errors={
            "nvmlDeviceGetMemoryInfo_v2": not_found,
            "nvmlDeviceGetMigMode": pynvml.NVML_ERROR_NOT_SUPPORTED,
            # The unversioned wrapper turns FunctionNotFound into this (pynvml's
            # throwOnVersionMismatch).
            "nvmlDeviceGetComputeRunningProcesses": pynvml.NVMLLibraryMismatchError,
        },
    )
    return NvmlScenario(
        gpus=(gpu,),
        cuda_driver_version=11040,
        driver_version="470.256.02",
        errors={"nvmlSystemGetCudaDriverVersion_v2": not_found},
    )


def old_binding_bytes() -> NvmlScenario:
    """nvidia-ml-py < 11.510: bytes strings, no nvmlMemory_v2, no `version=` keyword."""
    gpu = FakeGpu(
        name=b"NVIDIA GeForce RTX 3090",
        uuid=b"GPU-3c2b1a09-8f7e-4d6c-b5a4-938271605f4e",
        bus_id=b"00000000:0A:00.0",
        pci_device_id=0x220410DE,
        total_bytes=24576 * MIB,
        reserved_bytes=0,
        used_bytes=300 * MIB,
        bus_width_bits=384,
        max_memory_clock_mhz=9751,
        compute_capability=(8, 6),
        errors={"nvmlDeviceGetMigMode": pynvml.NVML_ERROR_NOT_SUPPORTED},
    )
    return NvmlScenario(
        gpus=(gpu,),
        driver_version=b"470.82.01",
        missing=frozenset({"nvmlMemory_v2", "nvmlDeviceGetMemoryBusWidth"}),
        memory_version_keyword=False,
    )


def no_permission() -> NvmlScenario:
    """A container user the driver lets count the GPU but not read its memory or processes."""
    no = pynvml.NVML_ERROR_NO_PERMISSION
    gpu = FakeGpu(
        errors={
            "nvmlDeviceGetMemoryInfo_v2": no,
            "nvmlDeviceGetMemoryInfo": no,
            "nvmlDeviceGetComputeRunningProcesses": no,
        },
    )
    return NvmlScenario(gpus=(gpu,))


SCENARIOS = {
    f.__name__: f
    for f in (
        no_driver,
        driver_not_loaded,
        rm_version_mismatch,
        one_h100,
        two_gpus_one_lost,
        unsupported_calls,
        mig_enabled_a100,
        spark_unified_memory,
        spark_total_equals_ram,
        function_not_found_old_driver,
        old_binding_bytes,
        no_permission,
    )
}
