"""nvml_may_load: the GPU probe's child process only where an NVML library could load."""

from __future__ import annotations

from pathlib import Path

import pytest

import llmcheck.probe as probe
from llmcheck.probe import nvml_may_load
from llmcheck.snapshot import Issue


def linux_root(tmp_path: Path, *files: str, cache: bytes | None = None) -> Path:
    """A folder laid out like a Linux root: /dev with the usual nodes plus ``files``."""
    (tmp_path / "dev").mkdir()
    for name in ("null", "tty", "kvm"):
        (tmp_path / "dev" / name).touch()
    for rel in files:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    if cache is not None:
        (tmp_path / "etc").mkdir(exist_ok=True)
        (tmp_path / "etc" / "ld.so.cache").write_bytes(cache)
    return tmp_path


CACHE_WITHOUT = b"glibc-ld.so.cache1.1\x00libz.so.1\x00/lib/x86_64-linux-gnu/libz.so.1\x00"
CACHE_WITH = CACHE_WITHOUT + b"libnvidia-ml.so.1\x00/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1\x00"


def test_linux_without_driver_runs_in_process(tmp_path: Path) -> None:
    root = linux_root(tmp_path, "usr/lib/x86_64-linux-gnu/libz.so.1", cache=CACHE_WITHOUT)
    assert nvml_may_load("Linux", root=root, environ={}) is False


@pytest.mark.parametrize(
    "files",
    [
        ("dev/nvidiactl",),
        ("dev/nvidia0",),
        ("dev/dxg",),  # WSL2's GPU bridge
        ("usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1",),
        ("usr/lib64/libnvidia-ml.so.1",),
        ("usr/lib/wsl/lib/libnvidia-ml.so.1",),
        ("usr/local/nvidia/lib64/libnvidia-ml.so.1",),
    ],
)
def test_linux_with_a_driver_trace_isolates(tmp_path: Path, files: tuple[str, ...]) -> None:
    root = linux_root(tmp_path, *files, cache=CACHE_WITHOUT)
    assert nvml_may_load("Linux", root=root, environ={}) is True


def test_linux_ld_cache_entry_isolates(tmp_path: Path) -> None:
    """A library the loader finds only through ld.so.conf (a driver in /opt) counts."""
    root = linux_root(tmp_path, cache=CACHE_WITH)
    assert nvml_may_load("Linux", root=root, environ={}) is True


def test_linux_ld_library_path_isolates(tmp_path: Path) -> None:
    root = linux_root(tmp_path, "opt/driver/lib/libnvidia-ml.so.1", cache=CACHE_WITHOUT)
    env = {"LD_LIBRARY_PATH": "/nowhere::/opt/driver/lib"}
    assert nvml_may_load("Linux", root=root, environ=env) is True
    assert nvml_may_load("Linux", root=root, environ={}) is False


def test_linux_unreadable_dev_isolates(tmp_path: Path) -> None:
    """When in doubt (no /dev to list), keep the child."""
    assert nvml_may_load("Linux", root=tmp_path, environ={}) is True


def test_macos_never_has_nvml(tmp_path: Path) -> None:
    assert nvml_may_load("Darwin", root=tmp_path, environ={}) is False


def test_windows_looks_where_nvidia_ml_py_looks(tmp_path: Path) -> None:
    windir, program_files = tmp_path / "Windows", tmp_path / "Program Files"
    env = {"WINDIR": str(windir), "ProgramFiles": str(program_files)}
    assert nvml_may_load("Windows", environ=env) is False
    nvsmi = program_files / "NVIDIA Corporation" / "NVSMI" / "nvml.dll"
    nvsmi.parent.mkdir(parents=True)
    nvsmi.touch()
    assert nvml_may_load("Windows", environ=env) is True
    nvsmi.unlink()
    dch = windir / "System32" / "nvml.dll"  # DCH drivers
    dch.parent.mkdir(parents=True)
    dch.touch()
    assert nvml_may_load("Windows", environ=env) is True


def test_unknown_os_isolates(tmp_path: Path) -> None:
    assert nvml_may_load("FreeBSD", root=tmp_path, environ={}) is True


def test_default_probe_skips_the_child_without_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_child(*_args: object) -> None:
        raise AssertionError("the GPU child must not start")

    monkeypatch.setattr(probe, "nvml_may_load", lambda *_a, **_k: False)
    monkeypatch.setattr(probe, "_start_child", no_child)
    snap = probe.probe_system()
    assert snap.memory.total_bytes is not None
    assert not {i.code for i in snap.problems} & {"gpu_probe_failed", "gpu_probe_crashed"}


def test_default_probe_isolates_with_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []

    def fake_child(system: str, *_args: object) -> Issue:
        started.append(system)
        return Issue(source="probe", code="gpu_probe_crashed", message="fake")

    monkeypatch.setattr(probe, "nvml_may_load", lambda *_a, **_k: True)
    monkeypatch.setattr(probe, "_start_child", fake_child)
    snap = probe.probe_system()
    assert len(started) == 1
    assert "gpu_probe_crashed" in {i.code for i in snap.problems}


def test_explicit_isolate_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """isolate=True keeps the child even where no NVML could load (the fault tests rely on it)."""
    started: list[str] = []

    def fake_child(system: str, *_args: object) -> Issue:
        started.append(system)
        return Issue(source="probe", code="gpu_probe_crashed", message="fake")

    monkeypatch.setattr(probe, "nvml_may_load", lambda *_a, **_k: False)
    monkeypatch.setattr(probe, "_start_child", fake_child)
    probe.probe_system(isolate=True)
    assert started
