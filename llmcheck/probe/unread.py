"""The GPUs a hung or crashed GPU probe could not read: present, memory unknown, each said why.

Issue #13: a GPU that was there but could not be read is *unknown*, never absent; verdicts that
need it are then unknown too. Kept apart from the dispatcher (``probe/__init__.py``) so each stays
short; it imports no native library.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from llmcheck.snapshot import GpuInfo, Issue

SOURCE = "probe"


def unread_gpus(
    answer: Issue, seen: tuple[GpuInfo, ...], system: str, root: Path
) -> tuple[tuple[GpuInfo, ...], tuple[Issue, ...]]:
    """The GPUs a hung or crashed probe could not read: present, memory unknown, each said why.

    ``answer`` is the child's failure; ``seen``, the GPUs it named before it stopped (it names
    each NVIDIA GPU before asking for its memory). On Linux the kernel's listing
    (:func:`llmcheck.probe.linux_gpu.nvidia_cards_present`) adds the cards the child never
    reached (matched by PCI bus id; by count where the listing has none).
    """
    why = {
        "gpu_probe_timeout": "the GPU probe timed out",
        "gpu_probe_crashed": "the GPU probe crashed",
    }.get(answer.code, "the probe failed")
    found: list[tuple[GpuInfo, str]] = []
    if seen:
        # Identity only: whatever else the message held, memory was not read.
        found = [
            (
                GpuInfo(
                    index=g.index,
                    vendor=g.vendor,
                    name=g.name,
                    uuid=g.uuid,
                    pci_bus_id=g.pci_bus_id,
                    pci_id=g.pci_id,
                ),
                "named by NVML before it stopped answering",
            )
            for g in seen
        ]
    if system == "Linux":
        from llmcheck.probe.linux_gpu import nvidia_cards_present

        listed, where = nvidia_cards_present(root=root)
        buses = {g.pci_bus_id for g, _ in found if g.pci_bus_id}
        if all(g.pci_bus_id for g in listed):
            extra = [g for g in listed if g.pci_bus_id not in buses]
        else:
            extra = list(listed[len(found) :])
        first = max((g.index for g, _ in found), default=-1) + 1
        found += [
            (dataclasses.replace(g, index=first + i), f"listed in {where}")
            for i, g in enumerate(extra)
        ]
    gpus = tuple(g for g, _ in found)
    issues = tuple(
        Issue(
            source=SOURCE,
            code="gpu_unread",
            message=f"NVIDIA GPU {g.index} ({g.name or g.pci_id or 'name unknown'}) is present"
            f" ({where}) but its memory could not be read: {why}.",
            hint="Verdicts that need this GPU are unknown. Check `nvidia-smi`; a hung driver"
            " often needs a reboot.",
            device_index=g.index,
        )
        for g, where in found
    )
    return gpus, issues
