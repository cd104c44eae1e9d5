"""A real H100, recorded: what `llmcheck --json` and nvidia-smi said on the same machine.

The recording (tests/data/recorded/, made on a lent H100 80GB HBM3 with driver 580.159.04 on
2026-11-25) keeps the fakes honest: the same values fed through FakeNvml must give back exactly
what the real NVML gave, and the probe's numbers must agree with nvidia-smi's.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from llmcheck.catalog import load_catalog
from llmcheck.estimate import RunConfig, Verdict, estimate
from llmcheck.probe.nvidia import probe_nvidia
from llmcheck.snapshot import MemoryKind, gpu_to_dict, snapshot_from_dict
from tests.fakes.nvml import FakeGpu, FakeNvml, NvmlScenario
from tests.helpers import validator_for

RECORDED = Path(__file__).resolve().parent.parent / "data" / "recorded"
MIB = 1 << 20


def _doc() -> dict[str, Any]:
    return json.loads((RECORDED / "h100-llmcheck.json").read_text(encoding="utf-8"))


def _smi() -> dict[str, str]:
    with (RECORDED / "nvidia-smi.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, skipinitialspace=True))
    return dict(zip(rows[0], rows[1], strict=True))


def _mib(text: str) -> int:
    value, unit = text.split()
    assert unit == "MiB"
    return int(value) * MIB


def test_recorded_document_validates_and_reads_back() -> None:
    doc = _doc()
    validator_for("snapshot_document").validate(doc)
    snap = snapshot_from_dict(doc)
    assert len(snap.gpus) == 1
    assert snap.gpus[0].memory_kind is MemoryKind.DISCRETE
    assert snap.problems == ()


def test_probe_agrees_with_nvidia_smi_on_the_same_machine() -> None:
    gpu = snapshot_from_dict(_doc()).gpus[0]
    smi = _smi()
    assert gpu.name == smi["name"]
    assert gpu.uuid == smi["uuid"]
    assert gpu.total_bytes == _mib(smi["memory.total [MiB]"])
    assert gpu.reserved_bytes == _mib(smi["memory.reserved [MiB]"])
    # nvidia-smi rounds down to whole MiB; NVML gives bytes.
    assert gpu.free_bytes is not None
    assert 0 <= gpu.free_bytes - _mib(smi["memory.free [MiB]"]) < MIB
    assert gpu.max_memory_clock_mhz == int(smi["clocks.max.memory [MHz]"].split()[0])
    assert gpu.driver_version == smi["driver_version"]
    assert gpu.compute_capability == smi["compute_cap"]
    assert gpu.mig_enabled is (smi["mig.mode.current"] != "Disabled")
    # H100 SXM5: 5120-bit HBM3 at 2619 MHz -> 3352 GB/s peak (NVIDIA quotes 3.35 TB/s).
    assert gpu.bandwidth_gb_s == pytest.approx(3352.3, abs=0.1)


def test_fake_nvml_fed_the_recorded_values_gives_the_recorded_gpu() -> None:
    """The fake behaves like the real library: same inputs, same GpuInfo, field for field."""
    real = json.loads((RECORDED / "probe_nvidia.json").read_text(encoding="utf-8"))["gpus"][0]
    scenario = NvmlScenario(
        gpus=(
            FakeGpu(
                name=real["name"],
                uuid=real["uuid"],
                bus_id=b"00000000:00:06.0",
                pci_device_id=0x233010DE,
                total_bytes=real["total_bytes"],
                reserved_bytes=real["reserved_bytes"],
                used_bytes=real["used_bytes"],
                free_bytes=real["free_bytes"],
                bus_width_bits=5120,
                max_memory_clock_mhz=2619,
                compute_capability=(9, 0),
            ),
        ),
        driver_version="580.159.04",
        cuda_driver_version=13000,
        host_ram_bytes=_doc()["machine"]["memory"]["total_bytes"],
    )
    result = probe_nvidia(FakeNvml(scenario), host_ram_bytes=scenario.host_ram_bytes)
    assert result.issues == ()
    assert gpu_to_dict(result.gpus[0]) == real


def test_a_small_model_runs_great_on_the_recorded_h100() -> None:
    snap = snapshot_from_dict(_doc())
    variant = load_catalog().variant("lfm2-1.2b")
    fit = estimate(variant, "Q4_K_M", RunConfig(context_tokens=32768), snap)
    assert fit.verdict is Verdict.RUNS_GREAT
    assert fit.max_context_tokens == variant.gguf_context_tokens
