"""GPU-probe children that misbehave, for the dispatcher's isolation tests (spawn imports them)."""

from __future__ import annotations

import os
import threading
from typing import Any


def hang(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """Never answer, like an NVML init stuck in the driver."""
    threading.Event().wait()


def die(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """Exit at once without answering, like a segfault in a native library."""
    os._exit(3)


def answer(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """Send two GPUs (an iGPU listed first) and an issue pointing at the dGPU."""
    from llmcheck.snapshot import GpuInfo, GpuVendor, Issue, MemoryKind, gpu_to_dict, issue_to_dict

    igpu = GpuInfo(
        index=0,
        vendor=GpuVendor.AMD,
        memory_kind=MemoryKind.INTEGRATED,
        pci_bus_id="0000:12:00.0",
        total_bytes=512 * 2**20,
    )
    dgpu = GpuInfo(index=1, vendor=GpuVendor.AMD, pci_bus_id="0000:03:00.0", total_bytes=24 * 2**30)
    issue = Issue(source="amd", code="x", message="m", device_index=1)
    conn.send({"gpus": [gpu_to_dict(igpu), gpu_to_dict(dgpu)], "issues": [issue_to_dict(issue)]})
    conn.close()
