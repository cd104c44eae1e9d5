"""Probe values that contradict one another, made safe before any budget is drawn from them.

A snapshot file that claims more free memory than its device has is refused by the reader
(:func:`llmcheck.snapshot.inconsistencies`). A live probe cannot refuse the machine: a driver
that reports 24 GiB free on a 1 GiB card, or a kernel whose available RAM tops its total, gets the
part clamped to its whole (or dropped to unknown) and a problem record, so no budget is ever
larger than the device (issue #13 item 2).

Issue codes (source "probe"): ``gpu_value_inconsistent``, ``memory_value_inconsistent``.
"""

from __future__ import annotations

import dataclasses

from llmcheck.snapshot import GpuInfo, Issue, MemoryInfo
from llmcheck.units import format_bytes

SOURCE = "probe"


def _over(part: int | None, whole: int | None) -> bool:
    return part is not None and whole is not None and part > whole


def clamp_inconsistent(
    gpus: tuple[GpuInfo, ...], memory: MemoryInfo
) -> tuple[tuple[GpuInfo, ...], MemoryInfo, list[Issue]]:
    """Values that contradict one another, made safe: never a budget above what a device has.

    Returns:
        The GPUs and memory with each contradiction resolved (free clamped to total; a value
        that cannot be clamped sensibly becomes None), and one problem record per fix.
    """
    issues: list[Issue] = []

    def note(code: str, what: str, fix: str, index: int | None = None) -> None:
        issues.append(
            Issue(
                source=SOURCE,
                code=code,
                message=f"{what}; {fix}.",
                hint="The driver or OS reported impossible numbers; please report"
                " this with the output of llmcheck --json.",
                device_index=index,
            )
        )

    out: list[GpuInfo] = []
    for g in gpus:
        who = f"GPU {g.index} ({g.name or g.vendor})"
        total = g.total_bytes
        if _over(g.free_bytes, total):
            note(
                "gpu_value_inconsistent",
                f"{who} reported more memory free ({format_bytes(g.free_bytes)}) than it has"
                f" ({format_bytes(total)})",
                "free memory taken as the total",
                g.index,
            )
            g = dataclasses.replace(g, free_bytes=total)
        if _over(g.used_bytes, total):
            note(
                "gpu_value_inconsistent",
                f"{who} reported more memory used ({format_bytes(g.used_bytes)}) than it has"
                f" ({format_bytes(total)})",
                "used memory is unknown",
                g.index,
            )
            g = dataclasses.replace(g, used_bytes=None)
        if _over(g.reserved_bytes, total):
            note(
                "gpu_value_inconsistent",
                f"{who} reported more memory reserved ({format_bytes(g.reserved_bytes)}) than it"
                f" has ({format_bytes(total)})",
                "reserved memory is unknown",
                g.index,
            )
            g = dataclasses.replace(g, reserved_bytes=None)
        if _over(g.visible_vram_bytes, total):
            note(
                "gpu_value_inconsistent",
                f"{who} reported more CPU-visible VRAM than VRAM",
                "visible VRAM is unknown",
                g.index,
            )
            g = dataclasses.replace(g, visible_vram_bytes=None)
        if _over(g.gtt_free_bytes, g.gtt_total_bytes):
            note(
                "gpu_value_inconsistent",
                f"{who} reported more GTT free than GTT total",
                "GTT free is unknown",
                g.index,
            )
            g = dataclasses.replace(g, gtt_free_bytes=None)
        migs = []
        for m in g.mig_instances:
            if _over(m.total_bytes, total):
                note(
                    "gpu_value_inconsistent",
                    f"{who} MIG slice {m.index} is larger than the card",
                    "that slice's memory is unknown",
                    g.index,
                )
                m = dataclasses.replace(m, total_bytes=None, free_bytes=None)
            if _over(m.free_bytes, m.total_bytes):
                note(
                    "gpu_value_inconsistent",
                    f"{who} MIG slice {m.index} has more free than total",
                    "its free memory taken as its total",
                    g.index,
                )
                m = dataclasses.replace(m, free_bytes=m.total_bytes)
            migs.append(m)
        out.append(dataclasses.replace(g, mig_instances=tuple(migs)))
    mem = memory
    if _over(mem.available_bytes, mem.total_bytes):
        note(
            "memory_value_inconsistent",
            f"RAM available ({format_bytes(mem.available_bytes)}) was"
            f" reported above the total ({format_bytes(mem.total_bytes)})",
            "available RAM taken as the total",
        )
        mem = dataclasses.replace(mem, available_bytes=mem.total_bytes)
    if _over(mem.swap_free_bytes, mem.swap_total_bytes):
        note(
            "memory_value_inconsistent",
            "free swap was reported above the total swap",
            "free swap is unknown",
        )
        mem = dataclasses.replace(mem, swap_free_bytes=None)
    return tuple(out), mem, issues
