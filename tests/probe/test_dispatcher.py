"""probe_system: isolation of the GPU child, ordering, and the never-raise contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import llmcheck.probe as probe
from llmcheck.probe import _gpus_in_child, _order_gpus, probe_system
from llmcheck.probe.apple import probe_apple
from llmcheck.probe.cpu import probe_cpu
from llmcheck.probe.linux_gpu import probe_linux_gpus
from llmcheck.probe.memory import probe_memory
from llmcheck.probe.platform_info import probe_os
from llmcheck.probe.windows import probe_windows_gpus
from llmcheck.snapshot import (
    CpuInfo,
    Issue,
    MemoryInfo,
    MemoryKind,
    OsInfo,
    snapshot_from_dict,
    snapshot_to_dict,
)
from tests.probe import _child_targets
from tests.probe._fakes import DATA

GiB = 2**30


def test_probe_system_in_process_on_this_machine() -> None:
    snap = probe_system(isolate=False)
    assert snap.os.system != "unknown"
    assert snap.memory.total_bytes is not None
    assert snap.cpu.logical_cores is not None
    assert snap.probed_at is not None
    assert snap.probed_at.endswith("+00:00")
    assert snap.probe_seconds is not None
    assert [g.index for g in snap.gpus] == list(range(len(snap.gpus)))
    # The snapshot survives its JSON form.
    back = snapshot_from_dict(json.loads(json.dumps(snapshot_to_dict(snap))))
    assert back.memory.total_bytes == snap.memory.total_bytes
    assert back.cpu.features == snap.cpu.features


def test_probe_system_isolated_child_agrees_with_in_process() -> None:
    isolated = probe_system(timeout_s=60, isolate=True)
    inline = probe_system(isolate=False)
    assert [g.pci_id for g in isolated.gpus] == [g.pci_id for g in inline.gpus]
    codes = {i.code for i in isolated.problems}
    assert not codes & {"gpu_probe_timeout", "gpu_probe_crashed", "gpu_probe_failed"}


def test_hung_child_is_killed_and_reported() -> None:
    result = _gpus_in_child("Linux", None, timeout_s=0.5, target=_child_targets.hang)
    assert isinstance(result, Issue)
    assert result.code == "gpu_probe_timeout"


def test_crashed_child_is_reported_with_its_exit_code() -> None:
    result = _gpus_in_child("Linux", None, timeout_s=60, target=_child_targets.die)
    assert isinstance(result, Issue)
    assert result.code == "gpu_probe_crashed"
    assert "exit code 3" in result.message


def test_child_answer_is_read_back_and_renumbered() -> None:
    raw = _gpus_in_child("Linux", None, timeout_s=60, target=_child_targets.answer)
    assert isinstance(raw, dict)
    gpus, issues = probe._gpus_from_dicts(raw)
    gpus, issues = _order_gpus(gpus, issues)
    assert [(g.index, g.memory_kind) for g in gpus] == [
        (0, MemoryKind.DISCRETE),
        (1, MemoryKind.INTEGRATED),
    ]
    assert gpus[0].is_primary
    assert not gpus[1].is_primary
    assert issues[0].device_index == 0  # still points at the dGPU


def test_desktop_dgpu_and_igpu_from_sysfs_are_ordered() -> None:
    result = probe_linux_gpus(sysfs_root=DATA / "sysfs" / "dgpu_plus_igpu")
    gpus, _ = _order_gpus(result.gpus, result.issues)
    assert [g.name for g in gpus] == [
        "Radeon RX 7900 XTX",
        "Radeon Graphics (Raphael, Ryzen 7000 desktop)",
    ]
    assert [g.is_primary for g in gpus] == [True, False]


def test_a_failing_reader_does_not_hide_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(**_: object) -> tuple[MemoryInfo, tuple[Issue, ...]]:
        raise RuntimeError("boom")

    monkeypatch.setattr("llmcheck.probe.memory.probe_memory", explode)
    snap = probe_system(isolate=False)
    assert "memory_probe_failed" in {i.code for i in snap.problems}
    assert snap.memory.total_bytes is None
    assert snap.cpu.logical_cores is not None


def test_unknown_os_still_gives_a_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    def haiku(**_: object) -> tuple[OsInfo, tuple[Issue, ...]]:
        return OsInfo(system="Haiku"), (Issue(source="os", code="os_unsupported", message="m"),)

    monkeypatch.setattr("llmcheck.probe.platform_info.probe_os", haiku)
    snap = probe_system(isolate=False)
    assert snap.os.system == "Haiku"
    assert "os_unsupported" in {i.code for i in snap.problems}


# --- contract: with every native source failing, each probe returns its dataclass + issues ---


def _fail_read(path: Path) -> str:
    raise PermissionError(13, "Permission denied", str(path))


def _fail_run(argv: list[str]) -> str:
    raise OSError(f"{argv[0]} did not answer within 3 s")


def test_contract_every_probe_survives_total_failure(tmp_path: Path) -> None:
    class BrokenPsutil:
        def virtual_memory(self) -> None:
            raise OSError("no sysinfo")

        def swap_memory(self) -> None:
            raise OSError("no sysinfo")

    mem, mem_issues = probe_memory(psutil_module=BrokenPsutil(), read_text=_fail_read)  # type: ignore[arg-type]
    assert isinstance(mem, MemoryInfo)
    assert mem.total_bytes is None
    assert mem_issues

    for system in ("Linux", "Darwin", "Windows"):
        cpu, cpu_issues = probe_cpu(
            system=system,
            machine="x86_64",
            read_text=_fail_read,
            run=_fail_run,
            feature_present=lambda _c: False,
            registry_string=lambda _k, _v: _fail_run(["reg"]),
        )
        assert isinstance(cpu, CpuInfo)
        assert cpu_issues, system

    os_info, _ = probe_os(proc_root=tmp_path, fs_root=tmp_path, read_text=_fail_read, environ={})
    assert isinstance(os_info, OsInfo)

    gpu_results = [
        probe_linux_gpus(sysfs_root=DATA / "sysfs" / "rx7900xtx", read_text=_fail_read),
        probe_apple(run=_fail_run),
        probe_windows_gpus(read_adapters=lambda: _fail_run(["winreg"])),  # type: ignore[arg-type, return-value]
    ]
    assert gpu_results[0].gpus == ()  # vendor file unreadable: nothing claimed
    for result in gpu_results[1:]:
        assert result.gpus == ()
        assert result.issues
