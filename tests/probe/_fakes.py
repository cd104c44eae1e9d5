"""Recorded command output, served the way the real tools answer (tests only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"


def fake_run(
    sysctl: str | None, ioreg: str | None = None, profiler: str | None = None
) -> Callable[[list[str]], str]:
    """A ``run`` seam: sysctl prints only the asked keys it knows, like the real one."""
    recorded = {}
    if sysctl is not None:
        for line in (DATA / "sysctl" / sysctl).read_text().splitlines():
            key, _, _ = line.partition(": ")
            recorded[key] = line

    def run(argv: list[str]) -> str:
        tool = argv[0]
        if tool == "/usr/sbin/sysctl" and sysctl is not None:
            return "".join(recorded[k] + "\n" for k in argv[1:] if k in recorded)
        if tool == "/usr/sbin/ioreg" and ioreg is not None:
            return (DATA / "sysctl" / ioreg).read_text()
        if tool == "/usr/sbin/system_profiler" and profiler is not None:
            return (DATA / "sysctl" / profiler).read_text()
        raise OSError(f"{tool}: No such file or directory")

    return run
