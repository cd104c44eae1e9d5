"""The NVIDIA probe against a fake pynvml that raises the real NVMLError classes."""

from __future__ import annotations

import dataclasses
import re

import pynvml
import pytest

from llmcheck.probe import nvidia
from llmcheck.probe.nvidia import NvidiaResult, peak_bandwidth_gb_s, probe_nvidia
from llmcheck.snapshot import GpuInfo, GpuVendor, MemoryKind, MigInstance, Source
from tests.fakes import nvml as fakes
from tests.fakes.nvml import GIB, MIB, FakeGpu, FakeNvml, NvmlScenario

# Every error class the binding defines: {code: class}, built by pynvml itself.
ALL_ERRORS = sorted(pynvml.NVMLError._valClassMapping.items())
LOST = {pynvml.NVML_ERROR_GPU_IS_LOST, pynvml.NVML_ERROR_RESET_REQUIRED}
QUIET = {pynvml.NVML_ERROR_NOT_SUPPORTED, pynvml.NVML_ERROR_FUNCTION_NOT_FOUND}


def run(scenario: NvmlScenario) -> tuple[NvidiaResult, FakeNvml]:
    fake = FakeNvml(scenario)
    return probe_nvidia(fake, host_ram_bytes=scenario.host_ram_bytes), fake


def codes(result: NvidiaResult) -> list[str]:
    return [issue.code for issue in result.issues]


# -- whole-driver failures -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "code", "hint_word"),
    [
        (fakes.no_driver, "nvml_library_not_found", "install the nvidia driver"),
        (fakes.driver_not_loaded, "nvml_driver_not_loaded", "modprobe"),
        (fakes.rm_version_mismatch, "nvml_driver_version_mismatch", "reboot"),
    ],
)
def test_driver_failures_are_one_clear_issue(scenario, code, hint_word):
    result, fake = run(scenario())
    assert result.gpus == ()
    assert codes(result) == [code]
    assert hint_word in result.issues[0].hint.lower()
    assert result.issues[0].device_index is None
    assert fake.shutdowns == 0  # nothing to shut down after a failed init


@pytest.mark.parametrize(("value", "error_class"), ALL_ERRORS, ids=lambda v: str(v))
def test_every_nvml_error_class_at_init_is_a_clear_issue(value, error_class):
    result, _ = run(NvmlScenario(errors={"nvmlInit": value}, gpus=(fakes.H100,)))
    assert result.gpus == ()
    [issue] = result.issues
    assert issue.source == "nvidia"
    assert re.fullmatch(r"nvml_[a-z_]+", issue.code)
    assert issue.message
    assert issue.hint
    assert error_class.__name__ in issue.message
    assert "Traceback" not in issue.message


def test_every_nvml_error_class_has_its_own_code():
    seen = {}
    for value, _ in ALL_ERRORS:
        result, _ = run(NvmlScenario(errors={"nvmlInit": value}))
        seen[value] = result.issues[0].code
    assert len(set(seen.values())) == len(seen)
    assert "nvml_error" not in seen.values()  # every class the binding knows is mapped


@pytest.mark.parametrize(("value", "error_class"), ALL_ERRORS, ids=lambda v: str(v))
def test_every_nvml_error_class_on_one_field_keeps_the_other_gpu(value, error_class):
    broken = FakeGpu(errors={"nvmlDeviceGetName": value})
    result, _ = run(NvmlScenario(gpus=(broken, fakes.RTX_4090), host_ram_bytes=64 * GIB))
    init_code = run(NvmlScenario(errors={"nvmlInit": value}))[0].issues[0].code

    assert [g.index for g in result.gpus] == ([1] if value in LOST else [0, 1])
    assert result.gpus[-1].name == "NVIDIA GeForce RTX 4090"
    if value in QUIET:
        assert result.issues == ()
    else:
        [issue] = result.issues
        assert issue.code == init_code  # one class, one code, wherever it happens
        assert issue.device_index == 0
        assert error_class.__name__ in issue.message
    if value not in LOST:
        gpu = result.gpus[0]
        assert gpu.name is None
        assert gpu.total_bytes == 81559 * MIB  # the failed field did not lose the rest


# -- hardware scenarios -----------------------------------------------------------------------


def test_one_h100_reads_every_field():
    result, fake = run(fakes.one_h100())
    total = 81559 * MIB
    assert result.issues == ()
    assert result.gpus == (
        GpuInfo(
            index=0,
            vendor=GpuVendor.NVIDIA,
            name="NVIDIA H100 80GB HBM3",
            uuid="GPU-6f1c2f8e-3a7d-4c61-9b0e-1d2c3b4a5f60",
            pci_bus_id="0000:19:00.0",
            pci_id="10de:2330",
            memory_kind=MemoryKind.DISCRETE,
            total_bytes=total,
            free_bytes=total - 532 * MIB - GIB,
            used_bytes=GIB,
            reserved_bytes=532 * MIB,
            memory_source=Source.NVML,
            bandwidth_gb_s=3352.3,
            bandwidth_source=Source.COMPUTED,
            memory_bus_width_bits=5120,
            max_memory_clock_mhz=2619,
            compute_capability="9.0",
            driver_version="580.95.05",
            cuda_driver_version="13.0",
            mig_enabled=False,
            processes_used_bytes=GIB,
        ),
    )
    assert fake.shutdowns == 1
    assert ("nvmlDeviceGetMemoryInfo_v2", fakes._Handle(0)) in fake.calls


def test_probe_loads_nvml_lazily_through_load_nvml(monkeypatch):
    fake = FakeNvml(fakes.one_h100())
    monkeypatch.setattr(nvidia, "_load_nvml", lambda: fake)
    result = probe_nvidia()
    assert [g.name for g in result.gpus] == ["NVIDIA H100 80GB HBM3"]
    assert fake.shutdowns == 1


def test_missing_binding_is_an_issue(monkeypatch):
    def no_binding():
        raise ImportError("No module named 'pynvml'")

    monkeypatch.setattr(nvidia, "_load_nvml", no_binding)
    result = probe_nvidia()
    assert result.gpus == ()
    assert codes(result) == ["nvml_binding_missing"]
    assert "pip install nvidia-ml-py" in result.issues[0].hint


def test_two_gpus_one_lost_keeps_the_healthy_one():
    result, fake = run(fakes.two_gpus_one_lost())
    [gpu] = result.gpus
    assert gpu.index == 1
    assert gpu.name == "NVIDIA GeForce RTX 4090"
    assert gpu.total_bytes == 24564 * MIB
    assert gpu.bandwidth_gb_s == 1008.1
    assert gpu.bandwidth_source is Source.COMPUTED
    assert gpu.compute_capability == "8.9"
    [issue] = result.issues
    assert issue.code == "nvml_gpu_lost"
    assert issue.device_index == 0
    assert "NVIDIA H100 80GB HBM3" in issue.message  # the name was read before it was lost
    # Nothing more was asked of the lost GPU once it answered GpuIsLost.
    gpu0_calls = [name for name, handle in fake.calls if handle == fakes._Handle(0)]
    assert gpu0_calls[-1] == "nvmlDeviceGetMemoryInfo_v2"
    assert fake.shutdowns == 1


def test_lost_handle_is_reported_and_skipped():
    lost = FakeGpu(errors={"nvmlDeviceGetHandleByIndex": pynvml.NVML_ERROR_GPU_IS_LOST})
    result, _ = run(NvmlScenario(gpus=(fakes.RTX_4090, lost)))
    assert [g.index for g in result.gpus] == [0]
    assert [(i.code, i.device_index) for i in result.issues] == [("nvml_gpu_lost", 1)]


def test_unsupported_calls_leave_fields_unknown_not_the_device():
    result, _ = run(fakes.unsupported_calls())
    assert result.issues == ()
    [gpu] = result.gpus
    assert gpu.name == "NVIDIA GeForce RTX 4090"
    assert gpu.uuid is None
    assert gpu.memory_bus_width_bits is None
    assert gpu.max_memory_clock_mhz is None
    assert gpu.compute_capability is None
    assert gpu.processes_used_bytes is None
    assert gpu.mig_enabled is False  # NotSupported: a GPU without MIG
    assert gpu.total_bytes == 24564 * MIB
    assert gpu.memory_kind is MemoryKind.DISCRETE
    # Bus width and clock unknown: the shipped table by PCI id gives the spec value.
    assert gpu.bandwidth_gb_s == 1008.0
    assert gpu.bandwidth_source is Source.TABLE


def test_unknown_gpu_without_width_or_clock_has_unknown_bandwidth():
    gpu = FakeGpu(
        name="NVIDIA Future GPU",
        pci_device_id=0xFFF010DE,
        errors={"nvmlDeviceGetMaxClockInfo": pynvml.NVML_ERROR_NOT_SUPPORTED},
    )
    result, _ = run(NvmlScenario(gpus=(gpu,)))
    assert result.gpus[0].bandwidth_gb_s is None
    assert result.gpus[0].bandwidth_source is None


def test_mig_enabled_a100_reports_each_slice():
    result, _ = run(fakes.mig_enabled_a100())
    assert result.issues == ()
    [gpu] = result.gpus
    assert gpu.mig_enabled is True
    assert gpu.mig_instances == (
        MigInstance(
            index=0,
            name="NVIDIA A100-SXM4-40GB MIG 3g.20gb",
            uuid="MIG-a1b2c3d4-0000-4000-8000-000000000000",
            total_bytes=19968 * MIB,
            free_bytes=19968 * MIB - 13 * MIB,
        ),
        MigInstance(
            index=1,
            name="NVIDIA A100-SXM4-40GB MIG 3g.20gb",
            uuid="MIG-a1b2c3d4-0000-4000-8000-000000000001",
            total_bytes=19968 * MIB,
            free_bytes=19968 * MIB - 13 * MIB - GIB,
        ),
    )
    assert gpu.processes_used_bytes is None  # NoPermission: unknown, not a problem
    assert gpu.bandwidth_gb_s == 1555.2


def test_spark_unified_memory_when_memory_info_is_not_supported():
    result, _ = run(fakes.spark_unified_memory())
    assert result.issues == ()
    [gpu] = result.gpus
    assert gpu.memory_kind is MemoryKind.UNIFIED
    assert gpu.unified_memory
    assert gpu.total_bytes is None
    assert gpu.free_bytes is None
    assert gpu.memory_source is Source.UNKNOWN
    assert gpu.bandwidth_gb_s == 273.0
    assert gpu.bandwidth_source is Source.TABLE
    assert gpu.compute_capability == "12.1"
    assert gpu.pci_bus_id == "000f:01:00.0"


def test_spark_unified_memory_when_total_is_host_ram():
    scenario = fakes.spark_total_equals_ram()
    result, _ = run(scenario)
    assert result.issues == ()
    [gpu] = result.gpus
    assert gpu.memory_kind is MemoryKind.UNIFIED
    assert gpu.total_bytes == scenario.host_ram_bytes  # as read
    assert gpu.memory_source is Source.NVML


def test_zero_total_is_unified_not_zero_bytes():
    gpu = FakeGpu(name="NVIDIA Thor", total_bytes=0, reserved_bytes=0, used_bytes=0, free_bytes=0)
    result, _ = run(NvmlScenario(gpus=(gpu,)))
    assert result.gpus[0].memory_kind is MemoryKind.UNIFIED
    assert result.gpus[0].total_bytes is None
    assert result.gpus[0].free_bytes is None


def test_discrete_gpu_as_large_as_host_ram_stays_discrete():
    """An 80 GiB H100 in an 80 GiB host is not unified: only known integrated parts are."""
    result, _ = run(NvmlScenario(gpus=(fakes.H100,), host_ram_bytes=81559 * MIB))
    assert result.gpus[0].memory_kind is MemoryKind.DISCRETE


def test_old_driver_without_v2_functions_falls_back_to_v1():
    result, fake = run(fakes.function_not_found_old_driver())
    assert result.issues == ()
    [gpu] = result.gpus
    assert gpu.total_bytes == 16160 * MIB
    assert gpu.reserved_bytes is None  # v1 has no reserved field
    assert gpu.memory_source is Source.NVML
    assert gpu.cuda_driver_version == "11.4"
    assert gpu.driver_version == "470.256.02"
    assert gpu.processes_used_bytes is None  # NVMLLibraryMismatchError: unknown
    assert gpu.bandwidth_gb_s == 898.0
    called = [name for name, _ in fake.calls]
    assert called.index("nvmlDeviceGetMemoryInfo_v2") < called.index("nvmlDeviceGetMemoryInfo")


def test_old_binding_with_bytes_and_no_v2():
    result, _ = run(fakes.old_binding_bytes())
    [gpu] = result.gpus
    assert gpu.name == "NVIDIA GeForce RTX 3090"
    assert gpu.uuid == "GPU-3c2b1a09-8f7e-4d6c-b5a4-938271605f4e"
    assert gpu.driver_version == "470.82.01"
    assert gpu.pci_bus_id == "0000:0a:00.0"
    assert gpu.total_bytes == 24576 * MIB
    assert gpu.used_bytes == 300 * MIB
    assert gpu.reserved_bytes is None
    # No nvmlDeviceGetMemoryBusWidth in this binding: table value, and a hint to upgrade.
    assert gpu.bandwidth_gb_s == 936.0
    assert gpu.bandwidth_source is Source.TABLE
    assert codes(result) == ["nvml_binding_outdated"]
    assert "memory bus width" in result.issues[0].message


def test_undecodable_name_is_an_issue_not_a_crash():
    """pynvml decodes names with strict UTF-8 (gpuopenanalytics/pynvml#53)."""
    fake = FakeNvml(NvmlScenario(gpus=(fakes.H100,)))

    def bad_name(handle):
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    fake.nvmlDeviceGetName = bad_name
    result = probe_nvidia(fake)
    assert result.gpus[0].name is None
    assert codes(result) == ["nvml_bad_string"]


def test_no_permission_keeps_the_gpu_with_unknown_memory():
    result, _ = run(fakes.no_permission())
    [gpu] = result.gpus
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.total_bytes is None
    assert gpu.free_bytes is None
    assert gpu.memory_kind is MemoryKind.DISCRETE
    assert gpu.memory_source is Source.UNKNOWN
    assert gpu.processes_used_bytes is None
    [issue] = result.issues
    assert issue.code == "nvml_no_permission"
    assert issue.device_index == 0
    assert "memory" in issue.message


def test_unavailable_free_value_is_unknown_not_huge():
    gpu = FakeGpu(free_bytes=pynvml.NVML_VALUE_NOT_AVAILABLE_ulonglong.value)
    result, _ = run(NvmlScenario(gpus=(gpu,)))
    assert result.gpus[0].free_bytes is None
    assert result.gpus[0].total_bytes == 81559 * MIB
    assert codes(result) == ["nvml_implausible_value"]


def test_driver_with_no_gpus():
    result, fake = run(NvmlScenario())
    assert result.gpus == ()
    assert codes(result) == ["nvml_no_devices"]
    assert fake.shutdowns == 1


def test_system_query_failures_keep_the_devices():
    scenario = NvmlScenario(
        gpus=(fakes.H100,),
        errors={
            "nvmlSystemGetDriverVersion": pynvml.NVML_ERROR_UNKNOWN,
            "nvmlSystemGetCudaDriverVersion_v2": pynvml.NVML_ERROR_UNKNOWN,
        },
    )
    result, _ = run(scenario)
    assert result.gpus[0].driver_version is None
    assert result.gpus[0].cuda_driver_version is None
    assert result.gpus[0].total_bytes == 81559 * MIB
    assert codes(result) == ["nvml_unknown_error"]
    assert "driver version" in result.issues[0].message


def test_count_failure_is_an_issue_and_nvml_is_shut_down():
    result, fake = run(
        NvmlScenario(gpus=(fakes.H100,), errors={"nvmlDeviceGetCount": pynvml.NVML_ERROR_TIMEOUT})
    )
    assert result.gpus == ()
    assert codes(result) == ["nvml_timeout"]
    assert fake.shutdowns == 1


def test_unexpected_exception_in_the_binding_does_not_escape():
    result, fake = run(NvmlScenario(gpus=(fakes.H100,), errors={"nvmlDeviceGetCount": OSError}))
    assert result.gpus == ()
    assert codes(result) == ["nvml_internal_error"]
    assert "OSError" in result.issues[0].message
    assert fake.shutdowns == 1


class _BadUtf8Error(UnicodeDecodeError):
    def __init__(self, _message: str) -> None:
        super().__init__("utf-8", b"\xff", 0, 1, "invalid start byte")


@pytest.mark.parametrize(
    "error", [pynvml.NVML_ERROR_UNINITIALIZED, TypeError, AttributeError, _BadUtf8Error]
)
def test_shutdown_failure_keeps_the_gpus_read(error):
    """A failed nvmlShutdown (NVMLError or a binding bug) is one issue; the GPUs read stay."""
    result, _ = run(NvmlScenario(gpus=(fakes.H100,), errors={"nvmlShutdown": error}))
    assert [g.name for g in result.gpus] == ["NVIDIA H100 80GB HBM3"]
    assert codes(result) == ["nvml_shutdown_failed"]
    assert result.issues[0].hint


def test_memory_unknown_on_a_discrete_gpu_says_why():
    """v2 and v1 memory info both FunctionNotFound: the GPU stays, memory unknown, and a record."""
    not_found = pynvml.NVML_ERROR_FUNCTION_NOT_FOUND
    gpu = dataclasses.replace(
        fakes.H100,
        errors={"nvmlDeviceGetMemoryInfo_v2": not_found, "nvmlDeviceGetMemoryInfo": not_found},
    )
    result, _ = run(NvmlScenario(gpus=(gpu,)))
    assert [g.total_bytes for g in result.gpus] == [None]
    assert result.gpus[0].memory_kind is MemoryKind.DISCRETE
    assert codes(result) == ["nvml_function_not_found"]
    assert "memory" in result.issues[0].message


def test_fake_rejects_calls_it_does_not_fake():
    with pytest.raises(AttributeError):
        FakeNvml(fakes.one_h100()).nvmlDeviceGetFanSpeed  # noqa: B018


# -- bandwidth -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock_mhz", "width_bits", "expected"),
    [
        (2619, 5120, 3352.3),  # H100 SXM (HBM3): spec 3350
        (10501, 384, 1008.1),  # RTX 4090 (GDDR6X): spec 1008
        (1215, 5120, 1555.2),  # A100 40GB (HBM2): spec 1555
        (14001, 256, 896.1),  # RTX 5070 Ti (GDDR7): spec 896
    ],
)
def test_peak_bandwidth_formula(clock_mhz, width_bits, expected):
    assert peak_bandwidth_gb_s(clock_mhz, width_bits) == expected


def test_shipped_bandwidth_table_is_sane():
    table = nvidia._bandwidth_table()
    assert len(table) >= 5
    for entry in table:
        assert entry.pci_id is None or re.fullmatch(r"10de:[0-9a-f]{4}", entry.pci_id)
        assert entry.bandwidth_gb_s is not None
        assert 50 < entry.bandwidth_gb_s < 20_000
        assert entry.names
    pci_ids = [e.pci_id for e in table if e.pci_id]
    assert len(pci_ids) == len(set(pci_ids))
