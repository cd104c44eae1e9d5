"""Issue #13 items 2, 8 and 12: inconsistent or hostile snapshots are refused through the real
command line (exit 2, one line naming the field); the live probe clamps what contradicts itself;
``--json`` leaves hardware ids out unless asked; the kernel's listing shows NVIDIA cards NVML
could not read.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcheck import cli
from llmcheck.estimate import budgets
from llmcheck.probe.consistency import clamp_inconsistent
from llmcheck.probe.linux_gpu import nvidia_cards_present
from llmcheck.snapshot import (
    GpuInfo,
    GpuVendor,
    MemoryInfo,
    MigInstance,
    SnapshotError,
    snapshot_from_dict,
)

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "tests" / "data" / "snapshots"
GIB = 1 << 30


def _doc(name: str = "two-gpus") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8"))
    return doc


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "llmcheck", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _gpu0(doc: dict[str, Any]) -> dict[str, Any]:
    gpu: dict[str, Any] = doc["machine"]["gpus"][0]
    return gpu


def _free_above_total(doc: dict[str, Any]) -> None:
    _gpu0(doc).update(total_bytes=GIB, free_bytes=24 * GIB, used_bytes=0, reserved_bytes=0)


def _ram_above_total(doc: dict[str, Any]) -> None:
    mem = doc["machine"]["memory"]
    mem["available_bytes"] = 4 * mem["total_bytes"]


def _mig_bigger_than_card(doc: dict[str, Any]) -> None:
    gpu = _gpu0(doc)
    gpu["mig_enabled"] = True
    gpu["mig_instances"] = [
        {
            "index": 0,
            "name": "1g.10gb",
            "uuid": None,
            "total_bytes": gpu["total_bytes"] * 2,
            "free_bytes": 40 * GIB,
        }
    ]


def _duplicate_index(doc: dict[str, Any]) -> None:
    doc["machine"]["gpus"][1]["index"] = 0


def _used_above_total(doc: dict[str, Any]) -> None:
    _gpu0(doc)["used_bytes"] = _gpu0(doc)["total_bytes"] + 1


def _swap_free_above_total(doc: dict[str, Any]) -> None:
    doc["machine"]["memory"]["swap_free_bytes"] = doc["machine"]["memory"]["swap_total_bytes"] + 1


def _huge_int_in_float(doc: dict[str, Any]) -> None:
    doc["machine"]["memory"]["bandwidth_gb_s"] = 10**400


def _huge_int_probe_seconds(doc: dict[str, Any]) -> None:
    doc["machine"]["probe_seconds"] = 10**4000


INCONSISTENT = {
    "free-above-total": (_free_above_total, "machine.gpus[0].free_bytes"),
    "ram-available-4x-total": (_ram_above_total, "machine.memory.available_bytes"),
    "mig-slice-bigger-than-card": (
        _mig_bigger_than_card,
        "machine.gpus[0].mig_instances[0].total_bytes",
    ),
    "duplicate-gpu-index": (_duplicate_index, "machine.gpus[1].index"),
    "used-above-total": (_used_above_total, "machine.gpus[0].used_bytes"),
    "swap-free-above-total": (_swap_free_above_total, "machine.memory.swap_free_bytes"),
    "310-digit-int-in-float-field": (_huge_int_in_float, "machine.memory.bandwidth_gb_s"),
    "4001-digit-int-in-float-field": (_huge_int_probe_seconds, "machine.probe_seconds"),
}


@pytest.mark.parametrize("name", list(INCONSISTENT))
def test_inconsistent_snapshot_is_refused_by_the_cli(name: str, tmp_path: Path) -> None:
    """Before the fix: believed ("runs great" on a 1 GiB card), or exit 4 for a huge number."""
    mutate, field = INCONSISTENT[name]
    doc = _doc()
    mutate(doc)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    done = _run(["check", "lfm2-1.2b", "-q", "Q4_K_M", "--snapshot", str(path)])
    assert done.returncode == cli.EXIT_USAGE, done.stdout + done.stderr
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert field in line
    assert "Traceback" not in done.stderr
    assert len(line) < 300  # a 4,000-digit number is named, not printed


def test_the_unmodified_snapshot_is_accepted(tmp_path: Path) -> None:
    """The refusals above come from the mutation, not from the file."""
    path = tmp_path / "good.json"
    path.write_text(json.dumps(_doc()), encoding="utf-8")
    done = _run(["check", "lfm2-1.2b", "-q", "Q4_K_M", "--snapshot", str(path), "--json"])
    assert done.returncode == 0, done.stderr


def test_every_recorded_snapshot_is_consistent() -> None:
    for path in sorted(SNAPSHOTS.glob("*.json")):
        snapshot_from_dict(json.loads(path.read_text(encoding="utf-8")))


def test_lenient_reading_is_only_for_the_probe() -> None:
    doc = _doc()
    _free_above_total(doc)
    with pytest.raises(SnapshotError, match=r"free_bytes: 25769803776 bytes free is more"):
        snapshot_from_dict(doc)
    assert snapshot_from_dict(doc, check_consistency=False).gpus[0].free_bytes == 24 * GIB


# --- the live probe clamps ---------------------------------------------------------------------


def test_probe_clamps_free_to_total_with_a_problem() -> None:
    card = GpuInfo(
        index=0,
        vendor=GpuVendor.NVIDIA,
        name="tiny",
        total_bytes=GIB,
        free_bytes=24 * GIB,
        used_bytes=2 * GIB,
        mig_enabled=True,
        mig_instances=(MigInstance(index=0, total_bytes=2 * GIB, free_bytes=GIB),),
    )
    mem = MemoryInfo(
        total_bytes=16 * GIB,
        available_bytes=64 * GIB,
        swap_total_bytes=GIB,
        swap_free_bytes=2 * GIB,
    )
    gpus, memory, issues = clamp_inconsistent((card,), mem)
    assert gpus[0].free_bytes == GIB
    assert gpus[0].used_bytes is None
    assert gpus[0].mig_instances[0].total_bytes is None
    assert memory.available_bytes == 16 * GIB
    assert memory.swap_free_bytes is None
    codes = [i.code for i in issues]
    assert codes.count("gpu_value_inconsistent") == 3
    assert codes.count("memory_value_inconsistent") == 2
    assert all(i.hint for i in issues)
    # Sizes read as the report writes them, never a raw byte count.
    assert "more memory free (24.0 GiB) than it has (1.00 GiB)" in issues[0].message
    assert "RAM available (64.0 GiB) was reported above the total (16.0 GiB)" in issues[3].message
    assert not any(str(24 * GIB) in i.message or str(64 * GIB) in i.message for i in issues)


def test_probe_clamp_leaves_a_consistent_machine_alone() -> None:
    card = GpuInfo(index=0, vendor=GpuVendor.NVIDIA, total_bytes=24 * GIB, free_bytes=20 * GIB)
    mem = MemoryInfo(total_bytes=16 * GIB, available_bytes=8 * GIB)
    assert clamp_inconsistent((card,), mem) == ((card,), mem, [])


def test_no_budget_above_the_device_after_clamping() -> None:
    from llmcheck.snapshot import CpuInfo, OsInfo, SystemSnapshot

    card = GpuInfo(index=0, vendor=GpuVendor.NVIDIA, total_bytes=GIB, free_bytes=24 * GIB)
    mem = MemoryInfo(total_bytes=16 * GIB, available_bytes=64 * GIB)
    gpus, memory, _ = clamp_inconsistent((card,), mem)
    snap = SystemSnapshot(os=OsInfo(system="Linux"), cpu=CpuInfo(), memory=memory, gpus=gpus)
    found = {b.device: b.budget_bytes for b in budgets(snap)}
    assert found == {"gpu:0": GIB, "cpu": 16 * GIB}


# --- hardware ids -----------------------------------------------------------------------------


def _h100_snapshot(tmp_path: Path) -> Path:
    doc = _doc("one-nvidia")
    gpu = _gpu0(doc)
    gpu.update(uuid="GPU-6f1c2f8e-3a7d-4c61-9b0e-1d2c3b4a5f60", pci_bus_id="0000:01:00.0")
    path = tmp_path / "with-ids.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_json_leaves_hardware_ids_out_by_default(tmp_path: Path) -> None:
    path = _h100_snapshot(tmp_path)
    done = _run(["--snapshot", str(path), "--json"])
    assert done.returncode == 0, done.stderr
    assert "GPU-6f1c2f8e" not in done.stdout
    assert "0000:01:00.0" not in done.stdout
    gpu = _gpu0(json.loads(done.stdout))
    assert gpu["uuid"] is None
    assert gpu["pci_bus_id"] is None
    assert gpu["pci_id"] == "10de:2684"  # the model of card, not this card: kept


def test_include_ids_keeps_them(tmp_path: Path) -> None:
    path = _h100_snapshot(tmp_path)
    for argv in (
        ["--include-ids", "--snapshot", str(path), "--json"],
        ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--include-ids", "--snapshot", str(path), "--json"],
    ):
        done = _run(argv)
        assert done.returncode == 0, done.stderr
        gpu = _gpu0(json.loads(done.stdout))
        assert gpu["uuid"] == "GPU-6f1c2f8e-3a7d-4c61-9b0e-1d2c3b4a5f60"
        assert gpu["pci_bus_id"] == "0000:01:00.0"


# --- NVIDIA cards without NVML ----------------------------------------------------------------


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_sysfs_pci_listing_names_the_cards(tmp_path: Path) -> None:
    devices = "sys/bus/pci/devices"
    _write(tmp_path, f"{devices}/0000:01:00.0/vendor", "0x10de\n")
    _write(tmp_path, f"{devices}/0000:01:00.0/class", "0x030000\n")
    _write(tmp_path, f"{devices}/0000:01:00.0/device", "0x2684\n")
    _write(tmp_path, f"{devices}/0000:01:00.1/vendor", "0x10de\n")  # its HDMI audio function
    _write(tmp_path, f"{devices}/0000:01:00.1/class", "0x040300\n")
    _write(tmp_path, f"{devices}/0000:01:00.1/device", "0x22ba\n")
    _write(tmp_path, f"{devices}/0000:19:00.0/vendor", "0x10de\n")
    _write(tmp_path, f"{devices}/0000:19:00.0/class", "0x030200\n")  # a 3D controller (H100)
    _write(tmp_path, f"{devices}/0000:19:00.0/device", "0x2330\n")
    _write(tmp_path, f"{devices}/0000:00:02.0/vendor", "0x8086\n")
    gpus, where = nvidia_cards_present(root=tmp_path)
    assert where == "sysfs PCI (vendor 0x10de)"
    assert [(g.index, g.name, g.pci_bus_id, g.total_bytes) for g in gpus] == [
        (0, "NVIDIA GeForce RTX 4090", "0000:01:00.0", None),
        (1, "NVIDIA H100 80GB HBM3", "0000:19:00.0", None),
    ]


def test_proc_driver_then_dev_nodes(tmp_path: Path) -> None:
    (tmp_path / "proc/driver/nvidia/gpus/0000:3b:00.0").mkdir(parents=True)
    gpus, where = nvidia_cards_present(root=tmp_path)
    assert where == "/proc/driver/nvidia/gpus"
    assert [g.pci_bus_id for g in gpus] == ["0000:3b:00.0"]
    other = tmp_path / "container"
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "nvidia-caps"):
        _write(other, f"dev/{name}", "")
    gpus, where = nvidia_cards_present(root=other)
    assert where == "/dev/nvidia* device nodes"
    assert [(g.index, g.vendor) for g in gpus] == [(0, GpuVendor.NVIDIA), (1, GpuVendor.NVIDIA)]
    assert nvidia_cards_present(root=tmp_path / "nothing") == ((), None)


def test_hung_nvml_init_falls_back_to_the_kernel_listing(tmp_path: Path) -> None:
    """The child hangs before naming any GPU: the cards come from /dev, their verdict unknown."""
    import llmcheck.probe as dispatcher
    from llmcheck.estimate import RunConfig, Verdict, estimate
    from tests.faults import _children
    from tests.faults.test_fault_matrix import _variant

    for name in ("nvidia0", "nvidiactl"):
        _write(tmp_path, f"dev/{name}", "")
    saved = dispatcher._child
    dispatcher._child = _children.hang_in_nvml_init
    try:
        snap = dispatcher.probe_system(
            timeout_s=1.0, isolate=True, root=tmp_path, progress=lambda _m: None
        )
    finally:
        dispatcher._child = saved
    [gpu] = snap.gpus
    assert gpu.vendor is GpuVendor.NVIDIA
    assert gpu.free_bytes is None
    assert {"gpu_probe_timeout", "gpu_unread"} <= {p.code for p in snap.problems}
    fit = estimate(_variant(), "Q4_K_M", RunConfig(device="gpu:0"), snap)
    assert fit.verdict is Verdict.UNKNOWN


# --- fuzz: any over-long integer in any float field --------------------------------------------

_FLOAT_PATHS = (
    ("memory", "bandwidth_gb_s"),
    ("memory", "bandwidth_low_gb_s"),
    ("memory", "bandwidth_high_gb_s"),
    ("gpu", "bandwidth_gb_s"),
    ("machine", "probe_seconds"),
)


@settings(max_examples=60, deadline=None)
@given(
    where=st.sampled_from(_FLOAT_PATHS),
    digits=st.integers(min_value=310, max_value=4300),
    lead=st.integers(min_value=1, max_value=9),
    negative=st.booleans(),
)
def test_any_huge_integer_in_a_float_field_is_bad_input(
    where: tuple[str, str], digits: int, lead: int, negative: bool
) -> None:
    """Issue #13 item 8: OverflowError in float() was an internal error (exit 4)."""
    from llmcheck.snapshot import snapshot_from_json_bytes

    value = int(str(lead) + "7" * (digits - 1)) * (-1 if negative else 1)
    doc = _doc()
    part, key = where
    target = {"memory": doc["machine"]["memory"], "gpu": _gpu0(doc), "machine": doc["machine"]}[
        part
    ]
    target[key] = value
    with pytest.raises(SnapshotError, match=re.escape(key)) as caught:
        snapshot_from_json_bytes(json.dumps(doc).encode(), name="fuzz.json")
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("", 20.0),
        ("1.5", 1.5),
        ("0", 20.0),
        ("nan", 20.0),
        ("lots", 20.0),
        ("601", 20.0),
        ("600", 600.0),
    ],
)
def test_gpu_probe_timeout_from_the_environment(text: str, seconds: float) -> None:
    from llmcheck.probe import gpu_probe_timeout_s

    assert gpu_probe_timeout_s({"LLMCHECK_GPU_PROBE_TIMEOUT_S": text}) == seconds


def _probe_with_child(child: str, root: Path) -> Any:
    import llmcheck.probe as dispatcher
    from tests.faults import _children

    saved = dispatcher._child
    dispatcher._child = getattr(_children, child)
    try:
        return dispatcher.probe_system(
            timeout_s=4.0, isolate=True, root=root, progress=lambda _m: None
        )
    finally:
        dispatcher._child = saved


def test_cards_the_hung_child_never_reached_come_from_the_kernel(tmp_path: Path) -> None:
    """NVML named the H100 at 0000:19:00.0, then hung; sysfs also shows a 4090 it never reached."""
    from llmcheck.estimate import RunConfig, Verdict, estimate
    from tests.faults.test_fault_matrix import _variant

    devices = "sys/bus/pci/devices"
    for slot, device in (("0000:19:00.0", "0x2330"), ("0000:65:00.0", "0x2684")):
        _write(tmp_path, f"{devices}/{slot}/vendor", "0x10de\n")
        _write(tmp_path, f"{devices}/{slot}/class", "0x030200\n")
        _write(tmp_path, f"{devices}/{slot}/device", f"{device}\n")
    snap = _probe_with_child("hang_in_memory_query", tmp_path)
    assert [(g.index, g.name, g.pci_bus_id, g.free_bytes) for g in snap.gpus] == [
        (0, "NVIDIA H100 80GB HBM3", "0000:19:00.0", None),
        (1, "NVIDIA GeForce RTX 4090", "0000:65:00.0", None),
    ]
    unread = [p for p in snap.problems if p.code == "gpu_unread"]
    assert [p.device_index for p in unread] == [0, 1]
    assert "named by NVML" in unread[0].message
    assert "sysfs PCI" in unread[1].message
    for device in ("auto", "gpu:0", "gpu:1"):
        fit = estimate(_variant(), "Q4_K_M", RunConfig(device=device), snap)
        assert fit.verdict is Verdict.UNKNOWN, device


def test_dev_nodes_beyond_the_named_gpus_are_counted(tmp_path: Path) -> None:
    for name in ("nvidia0", "nvidia1", "nvidia2", "nvidiactl"):
        _write(tmp_path, f"dev/{name}", "")
    snap = _probe_with_child("segfault_in_memory_query", tmp_path)
    assert [(g.index, g.name) for g in snap.gpus] == [
        (0, "NVIDIA H100 80GB HBM3"),
        (1, None),
        (2, None),
    ]
    assert {"gpu_probe_crashed", "gpu_unread"} <= {p.code for p in snap.problems}


def test_live_probe_clamps_a_driver_that_reports_more_free_than_total(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole dispatcher, in-process, with a fake NVML whose 1 GiB card has 24 GiB free."""
    import llmcheck.probe.nvidia as nvidia
    from llmcheck.probe import probe_system
    from tests.fakes import nvml as fake

    card = fake.FakeGpu(
        name="NVIDIA Tiny", total_bytes=GIB, reserved_bytes=0, used_bytes=0, free_bytes=24 * GIB
    )
    scenario = fake.NvmlScenario(gpus=(card,))
    monkeypatch.setattr(nvidia, "_load_nvml", lambda: fake.FakeNvml(scenario))
    snap = probe_system(isolate=False)
    [gpu] = [g for g in snap.gpus if g.name == "NVIDIA Tiny"]
    assert gpu.total_bytes == GIB
    assert gpu.free_bytes == GIB
    [issue] = [p for p in snap.problems if p.code == "gpu_value_inconsistent"]
    assert issue.device_index == gpu.index
    assert {b.device: b.budget_bytes for b in budgets(snap)}[f"gpu:{gpu.index}"] == GIB
