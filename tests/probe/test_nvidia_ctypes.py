"""End to end: the real nvidia-ml-py ctypes path against a fake libnvidia-ml.so.1 built from C.

Each test compiles ``tests/fakes/libnvml/fake_nvml.c`` and runs ``python -m llmcheck.probe.nvidia``
in a child process whose ``LD_LIBRARY_PATH`` finds the fake, then checks the JSON it prints.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.libnvml import build_fake_libnvml, find_c_compiler

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="builds a Linux .so"),
    pytest.mark.skipif(find_c_compiler() is None, reason="no C compiler (cc/gcc/clang) on PATH"),
]

MIB = 1 << 20
GIB = 1 << 30
H100_TOTAL = 81559 * MIB


@pytest.fixture(scope="module")
def libnvml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fake_libnvml(tmp_path_factory.mktemp("fake-nvml"))


@pytest.fixture(scope="module")
def libnvml_old(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fake_libnvml(tmp_path_factory.mktemp("fake-nvml"), defines=("FAKE_NVML_NO_V2",))


def probe(library_dir: Path | None, code: str | None = None, **env: str) -> dict[str, Any]:
    """Run the NVIDIA probe in a child process; return its JSON."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_NVML_")}
    child_env.pop("LD_LIBRARY_PATH", None)
    if library_dir is not None:
        child_env["LD_LIBRARY_PATH"] = str(library_dir)
    child_env.update(env)
    command = (
        [sys.executable, "-m", "llmcheck.probe.nvidia"]
        if code is None
        else [
            sys.executable,
            "-c",
            code,
        ]
    )
    done = subprocess.run(
        command, env=child_env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_h100_read_through_the_real_binding(libnvml):
    out = probe(libnvml.parent, FAKE_NVML_COUNT="1")
    assert out["problems"] == []
    [gpu] = out["gpus"]
    assert gpu["name"] == "NVIDIA H100 80GB HBM3"
    assert gpu["uuid"] == "GPU-6f1c2f8e-3a7d-4c61-9b0e-1d2c3b4a5f60"
    assert gpu["pci_bus_id"] == "0000:19:00.0"
    assert gpu["pci_id"] == "10de:2330"
    assert gpu["total_bytes"] == H100_TOTAL
    assert gpu["reserved_bytes"] == 532 * MIB
    assert gpu["used_bytes"] == GIB
    assert gpu["free_bytes"] == H100_TOTAL - 532 * MIB - GIB
    assert gpu["source"] == "nvml"
    assert gpu["memory_kind"] == "discrete"
    assert gpu["memory_bus_width_bits"] == 5120
    assert gpu["max_memory_clock_mhz"] == 2619
    assert gpu["bandwidth_gb_s"] == 3352.3
    assert gpu["bandwidth_source"] == "computed"
    assert gpu["compute_capability"] == "9.0"
    assert gpu["driver_version"] == "580.95.05"
    assert gpu["cuda_driver_version"] == "13.0"
    assert gpu["mig_enabled"] is False
    # pynvml's two-call dance (INSUFFICIENT_SIZE, then the array) worked.
    assert gpu["processes_used_bytes"] == GIB


def test_lost_gpu_does_not_hide_the_others(libnvml):
    out = probe(libnvml.parent, FAKE_NVML_COUNT="3", FAKE_NVML_LOST="1")
    assert [g["index"] for g in out["gpus"]] == [0, 2]
    assert [(p["code"], p["device_index"]) for p in out["problems"]] == [("nvml_gpu_lost", 1)]
    gb10 = out["gpus"][1]
    assert gb10["name"] == "NVIDIA GB10"
    assert gb10["unified_memory"] is True
    assert gb10["total_bytes"] is None
    assert gb10["bandwidth_gb_s"] == 273.0
    assert gb10["bandwidth_source"] == "table"


def test_rtx_4090_bandwidth_computed(libnvml):
    out = probe(libnvml.parent, FAKE_NVML_COUNT="2", FAKE_NVML_LOST="0")
    [gpu] = out["gpus"]
    assert gpu["name"] == "NVIDIA GeForce RTX 4090"
    assert gpu["total_bytes"] == 24564 * MIB
    assert gpu["bandwidth_gb_s"] == 1008.1
    assert gpu["mig_enabled"] is False  # NotSupported from the C library
    assert gpu["processes_used_bytes"] == 0


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("9", "nvml_driver_not_loaded"),
        ("18", "nvml_driver_version_mismatch"),
        ("4", "nvml_no_permission"),
        ("999", "nvml_unknown_error"),
    ],
)
def test_init_failure_is_a_problem_record(libnvml, error, code):
    out = probe(libnvml.parent, FAKE_NVML_INIT_ERROR=error)
    assert out["gpus"] == []
    assert [p["code"] for p in out["problems"]] == [code]
    assert out["problems"][0]["hint"]


def test_old_driver_without_v2_symbols(libnvml_old):
    """pynvml raises FunctionNotFound for the missing _v2 symbols; the probe falls back to v1."""
    out = probe(libnvml_old.parent, FAKE_NVML_COUNT="1")
    assert out["problems"] == []
    [gpu] = out["gpus"]
    assert gpu["total_bytes"] == H100_TOTAL
    assert gpu["reserved_bytes"] is None
    assert gpu["used_bytes"] == GIB + 532 * MIB  # v1 lumps reserved into used
    assert gpu["cuda_driver_version"] == "13.0"  # from the unversioned call


def test_wsl_library_location_is_preferred(libnvml):
    """With no LD_LIBRARY_PATH, only the explicit WSL2 path can find the library."""
    code = (
        "import json, sys; from pathlib import Path; import llmcheck.probe.nvidia as n\n"
        f"n.WSL_NVML_LIBRARY = Path({str(libnvml)!r})\n"
        "sys.stdout.write(json.dumps(n.result_to_dict(n.probe_nvidia())))\n"
    )
    out = probe(None, code, FAKE_NVML_COUNT="1")
    assert [g["name"] for g in out["gpus"]] == ["NVIDIA H100 80GB HBM3"]


@pytest.mark.skipif(
    ctypes.util.find_library("nvidia-ml") is not None, reason="a real NVIDIA driver is installed"
)
def test_no_library_is_library_not_found(tmp_path):
    out = probe(tmp_path, FAKE_NVML_COUNT="1")
    assert out["gpus"] == []
    assert [p["code"] for p in out["problems"]] == ["nvml_library_not_found"]
