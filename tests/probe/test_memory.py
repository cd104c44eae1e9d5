"""Memory probe: psutil / procfs RAM and cgroup v1 / v2 limits, through recorded trees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from llmcheck.probe.memory import (
    parse_meminfo,
    parse_mountinfo,
    parse_proc_cgroup,
    probe_memory,
    read_cgroup_memory,
)
from llmcheck.snapshot import Source

DATA = Path(__file__).resolve().parent.parent / "data"
CGROUP = DATA / "cgroup"
GiB = 2**30
MiB = 2**20


def _meminfo_root(tmp_path: Path) -> Path:
    (tmp_path / "proc").mkdir(exist_ok=True)
    (tmp_path / "proc" / "meminfo").write_text((DATA / "proc" / "meminfo_vm24g.txt").read_text())
    return tmp_path


def test_parse_meminfo_converts_kib_to_bytes() -> None:
    info = parse_meminfo("MemTotal:       24683656 kB\nHugePages_Total:       0\nbad line\n")
    assert info == {"MemTotal": 24683656 * 1024, "HugePages_Total": 0}


def test_procfs_fallback_reads_recorded_meminfo(tmp_path: Path) -> None:
    root = _meminfo_root(tmp_path)
    mem, issues = probe_memory(use_psutil=False, root=root)
    expected = parse_meminfo((DATA / "proc" / "meminfo_vm24g.txt").read_text())
    assert mem.total_bytes == expected["MemTotal"]
    assert mem.available_bytes == expected["MemAvailable"]
    assert mem.swap_total_bytes == expected["SwapTotal"]
    assert mem.source is Source.PROCFS
    assert mem.limit_bytes is None
    assert issues == ()


def test_broken_psutil_falls_back_to_procfs(tmp_path: Path) -> None:
    def fail() -> None:
        raise OSError("sysinfo failed")

    broken = SimpleNamespace(virtual_memory=fail, swap_memory=fail)
    mem, issues = probe_memory(psutil_module=broken, root=_meminfo_root(tmp_path))  # type: ignore[arg-type]
    assert mem.source is Source.PROCFS
    assert mem.total_bytes is not None
    assert [i.code for i in issues] == ["ram_unreadable"]


def test_absurd_psutil_values_are_faults_not_budgets(tmp_path: Path) -> None:
    vm = SimpleNamespace(total=0, available=2**60)
    swap = SimpleNamespace(total=0, free=0)
    fake = SimpleNamespace(virtual_memory=lambda: vm, swap_memory=lambda: swap)
    mem, _ = probe_memory(psutil_module=fake, root=_meminfo_root(tmp_path))  # type: ignore[arg-type]
    assert mem.source is Source.PROCFS  # psutil's 0 total was rejected, procfs used instead
    assert mem.total_bytes is not None
    assert mem.total_bytes > 0


def test_parse_proc_cgroup_hybrid() -> None:
    v2, v1 = parse_proc_cgroup("4:memory:/process_api/x\n1:cpu:/\n0::/\n")
    assert (v2, v1) == ("/", "/process_api/x")


def test_parse_mountinfo_unescapes_and_reads_super_options() -> None:
    line = "35 31 0:32 / /sys/fs/cgroup/mem\\040ory rw,relatime - cgroup cgroup rw,memory\n"
    (m,) = parse_mountinfo(line)
    assert m.mount_point == "/sys/fs/cgroup/mem ory"
    assert m.fs_type == "cgroup"
    assert "memory" in m.super_options


def test_v1_hybrid_layout_of_this_vm_has_no_limit() -> None:
    """The nested v1 path is followed (a sibling's 1 GiB limit must not leak in)."""
    cg = read_cgroup_memory(root=CGROUP / "v1_hybrid_unlimited")
    assert cg.version == 1
    assert cg.path is not None
    assert "process_api" in cg.path
    assert cg.limit_bytes is None
    assert cg.working_set_bytes == 4820992 - 483328


def test_v1_nested_takes_the_smallest_limit_up_the_tree() -> None:
    cg = read_cgroup_memory(root=CGROUP / "v1_nested")
    assert cg.version == 1
    assert cg.limit_bytes == 4 * GiB
    assert cg.working_set_bytes == 1 * GiB - 256 * MiB


def test_v2_max_means_no_limit() -> None:
    cg = read_cgroup_memory(root=CGROUP / "v2_max")
    assert cg.version == 2
    assert cg.limit_bytes is None
    assert cg.working_set_bytes == 300 * MiB


def test_v2_numeric_limit_and_working_set() -> None:
    cg = read_cgroup_memory(root=CGROUP / "v2_numeric")
    assert cg.limit_bytes == 2 * GiB
    assert cg.working_set_bytes == GiB - 256 * MiB


def test_v2_container_namespace_reads_the_mount_point() -> None:
    cg = read_cgroup_memory(root=CGROUP / "v2_container_ns")
    assert cg.limit_bytes == 3 * GiB


def test_v2_garbage_limit_is_an_issue_not_a_budget() -> None:
    cg = read_cgroup_memory(root=CGROUP / "v2_garbage")
    assert cg.limit_bytes is None
    assert [i.code for i in cg.issues] == ["cgroup_value_invalid"]


def test_probe_memory_applies_the_cgroup_limit(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(CGROUP / "v1_nested", tmp_path, dirs_exist_ok=True)
    mem, _ = probe_memory(use_psutil=False, root=_meminfo_root(tmp_path))
    assert mem.limit_bytes == 4 * GiB
    assert mem.limit_source is Source.CGROUP
    assert mem.limit_used_bytes == GiB - 256 * MiB
    assert mem.usable_bytes == min(mem.available_bytes or 0, 4 * GiB - (GiB - 256 * MiB))


def test_wsl_adds_a_plain_note(tmp_path: Path) -> None:
    _, issues = probe_memory(use_psutil=False, root=_meminfo_root(tmp_path), is_wsl=True)
    assert [i.code for i in issues] == ["wsl_memory"]


# --- this machine --------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="needs Linux /proc/meminfo")
def test_real_machine_matches_proc_meminfo() -> None:
    mem, _ = probe_memory()
    info = parse_meminfo(Path("/proc/meminfo").read_text())
    assert mem.total_bytes == info["MemTotal"]
    assert mem.available_bytes is not None
    # Available moves while other processes run; within 5 % or 256 MiB of MemAvailable.
    tolerance = max(256 * MiB, info["MemAvailable"] // 20)
    assert abs(mem.available_bytes - info["MemAvailable"]) <= tolerance


_CHILD = """
import json, os, sys
from pathlib import Path
Path(sys.argv[1], "cgroup.procs").write_text(str(os.getpid()))
from llmcheck.probe import probe_system
snap = probe_system(isolate=False)
print(json.dumps({"limit": snap.memory.limit_bytes, "source": snap.memory.limit_source,
                  "total": snap.memory.total_bytes}))
"""


def _make_limited_cgroup(limit_bytes: int) -> Path:
    cg = read_cgroup_memory()
    if cg.version is None or cg.path is None:
        pytest.skip("no memory cgroup is visible to this process")
    child = Path(cg.path) / f"llmcheck-test-{os.getpid()}"
    limit_file = "memory.limit_in_bytes" if cg.version == 1 else "memory.max"
    try:
        child.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot create a cgroup under {cg.path}: {exc}")
    try:
        (child / limit_file).write_text(str(limit_bytes))
    except OSError as exc:
        child.rmdir()
        pytest.skip(f"cannot set a memory limit (cgroup v{cg.version}): {exc}")
    return child


def test_probe_in_a_memory_limited_cgroup_reports_the_limit() -> None:
    """A child moved into a 256 MiB cgroup sees 256 MiB, not the host's RAM."""
    import json

    limit = 256 * MiB
    child = _make_limited_cgroup(limit)
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(child)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        # The child has exited, so the cgroup is empty and can go.
        for _ in range(3):
            try:
                child.rmdir()
                break
            except OSError:
                continue
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["limit"] == limit
    assert result["source"] == "cgroup"
    assert result["total"] > limit
