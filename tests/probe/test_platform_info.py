"""OS, WSL and container detection, and the shared seams."""

from __future__ import annotations

import platform
from pathlib import Path

from llmcheck.probe.platform_info import parse_byte_count, parse_sysctl, probe_os, run_command


def _uname(system: str, release: str = "6.8.0") -> platform.uname_result:
    return platform.uname_result(system, "node", release, "#1 SMP", "x86_64")


def _proc(tmp_path: Path, osrelease: str, init_cgroup: str = "0::/init.scope\n") -> Path:
    (tmp_path / "proc" / "sys" / "kernel").mkdir(parents=True)
    (tmp_path / "proc" / "sys" / "kernel" / "osrelease").write_text(osrelease)
    (tmp_path / "proc" / "1").mkdir()
    (tmp_path / "proc" / "1" / "cgroup").write_text(init_cgroup)
    (tmp_path / "root").mkdir()
    return tmp_path


def test_wsl_from_kernel_release(tmp_path: Path) -> None:
    root = _proc(tmp_path, "5.15.167.4-microsoft-standard-WSL2\n")
    info, issues = probe_os(
        proc_root=root / "proc", fs_root=root / "root", environ={}, uname=_uname("Linux")
    )
    assert info.is_wsl
    assert not info.in_container
    assert issues == ()


def test_wsl_from_environment(tmp_path: Path) -> None:
    root = _proc(tmp_path, "6.8.0\n")
    info, _ = probe_os(
        proc_root=root / "proc",
        fs_root=root / "root",
        environ={"WSL_DISTRO_NAME": "Ubuntu"},
        uname=_uname("Linux"),
    )
    assert info.is_wsl


def test_container_from_dockerenv_and_from_cgroup(tmp_path: Path) -> None:
    root = _proc(tmp_path, "6.8.0\n")
    (root / "root" / ".dockerenv").write_text("")
    info, _ = probe_os(
        proc_root=root / "proc", fs_root=root / "root", environ={}, uname=_uname("Linux")
    )
    assert info.in_container
    (root / "root" / ".dockerenv").unlink()
    (root / "proc" / "1" / "cgroup").write_text("0::/kubepods/besteffort/pod1/abc\n")
    info, _ = probe_os(
        proc_root=root / "proc", fs_root=root / "root", environ={}, uname=_uname("Linux")
    )
    assert info.in_container


def test_bare_metal_is_neither(tmp_path: Path) -> None:
    root = _proc(tmp_path, "6.8.0-45-generic\n")
    info, _ = probe_os(
        proc_root=root / "proc", fs_root=root / "root", environ={}, uname=_uname("Linux")
    )
    assert (info.system, info.is_wsl, info.in_container) == ("Linux", False, False)


def test_unknown_os_gets_an_issue(tmp_path: Path) -> None:
    info, issues = probe_os(proc_root=tmp_path, fs_root=tmp_path, environ={}, uname=_uname("Haiku"))
    assert info.system == "Haiku"
    assert [i.code for i in issues] == ["os_unsupported"]


def test_parse_byte_count_rejects_faults() -> None:
    assert parse_byte_count("4096\n") == 4096
    assert parse_byte_count("0") is None
    assert parse_byte_count("-5") is None
    assert parse_byte_count("garbage") is None
    assert parse_byte_count(str(2**51)) is None


def test_parse_sysctl_both_forms() -> None:
    assert parse_sysctl("hw.memsize: 17179869184\nkern.ostype = Darwin\n") == {
        "hw.memsize": "17179869184",
        "kern.ostype": "Darwin",
    }


def test_run_command_missing_tool_raises_oserror(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(OSError, match="could not run"):
        run_command([str(tmp_path / "no-such-tool")])
