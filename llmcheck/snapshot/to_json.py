"""A snapshot's JSON form: the "machine" and "problems" parts of ``llmcheck --json``."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Any

from llmcheck.snapshot.types import (
    GpuInfo,
    Issue,
    SystemSnapshot,
)

# --------------------------------------------------------------------------------------------
# JSON form. The same dictionaries are the "machine" and "problems" parts of `llmcheck --json`.
# --------------------------------------------------------------------------------------------


class SnapshotError(ValueError):
    """A snapshot document is malformed; the message names the field."""


def issue_to_dict(issue: Issue) -> dict[str, Any]:
    """The JSON form of one problem record."""
    return {
        "source": issue.source,
        "code": issue.code,
        "message": issue.message,
        "hint": issue.hint,
        "device_index": issue.device_index,
    }


def gpu_to_dict(gpu: GpuInfo, *, include_ids: bool = True) -> dict[str, Any]:
    """The JSON form of one GPU; ``include_ids=False`` writes null for its UUIDs and PCI bus id.

    The probe's child process sends GPUs with their ids (the dispatcher orders them by bus id);
    what is printed for people to share leaves them out (:func:`snapshot_to_dict`).
    """
    return {
        "index": gpu.index,
        "vendor": str(gpu.vendor),
        "name": gpu.name,
        "uuid": gpu.uuid if include_ids else None,
        "pci_bus_id": gpu.pci_bus_id if include_ids else None,
        "pci_id": gpu.pci_id,
        "memory_kind": str(gpu.memory_kind),
        "unified_memory": gpu.unified_memory,
        "total_bytes": gpu.total_bytes,
        "free_bytes": gpu.free_bytes,
        "used_bytes": gpu.used_bytes,
        "reserved_bytes": gpu.reserved_bytes,
        "source": str(gpu.memory_source),
        "visible_vram_bytes": gpu.visible_vram_bytes,
        "gtt_total_bytes": gpu.gtt_total_bytes,
        "gtt_free_bytes": gpu.gtt_free_bytes,
        "working_set_cap_bytes": gpu.working_set_cap_bytes,
        "working_set_cap_source": _opt_str(gpu.working_set_cap_source),
        "bandwidth_gb_s": gpu.bandwidth_gb_s,
        "bandwidth_source": _opt_str(gpu.bandwidth_source),
        "memory_bus_width_bits": gpu.memory_bus_width_bits,
        "max_memory_clock_mhz": gpu.max_memory_clock_mhz,
        "gpu_cores": gpu.gpu_cores,
        "compute_capability": gpu.compute_capability,
        "driver_version": gpu.driver_version,
        "cuda_driver_version": gpu.cuda_driver_version,
        "mig_enabled": gpu.mig_enabled,
        "mig_instances": [
            {
                "index": m.index,
                "name": m.name,
                "uuid": m.uuid if include_ids else None,
                "total_bytes": m.total_bytes,
                "free_bytes": m.free_bytes,
            }
            for m in gpu.mig_instances
        ],
        "processes_used_bytes": gpu.processes_used_bytes,
        "is_primary": gpu.is_primary,
    }


def snapshot_to_dict(snapshot: SystemSnapshot, *, include_ids: bool = False) -> dict[str, Any]:
    """The JSON form of the machine (the report's "machine" object).

    GPU UUIDs and PCI bus ids are permanent hardware identifiers, and ``llmcheck --json`` is
    meant to be shared: they are null unless ``include_ids`` (``--include-ids``). No verdict
    needs them; the hostname is never written at all.
    """
    return {
        "os": {
            "system": snapshot.os.system,
            "release": snapshot.os.release,
            "version": snapshot.os.version,
            "machine": snapshot.os.machine,
            "is_wsl": snapshot.os.is_wsl,
            "in_container": snapshot.os.in_container,
        },
        "cpu": {
            "brand": snapshot.cpu.brand,
            "arch": snapshot.cpu.arch,
            "cores": snapshot.cpu.physical_cores,
            "logical_cores": snapshot.cpu.logical_cores,
            "features": list(snapshot.cpu.features),
            "source": str(snapshot.cpu.source),
        },
        "memory": {
            "total_bytes": snapshot.memory.total_bytes,
            "available_bytes": snapshot.memory.available_bytes,
            "usable_bytes": snapshot.memory.usable_bytes,
            "source": str(snapshot.memory.source),
            "limit_bytes": snapshot.memory.limit_bytes,
            "limit_used_bytes": snapshot.memory.limit_used_bytes,
            "limit_source": _opt_str(snapshot.memory.limit_source),
            "swap_total_bytes": snapshot.memory.swap_total_bytes,
            "swap_free_bytes": snapshot.memory.swap_free_bytes,
            "bandwidth_gb_s": snapshot.memory.bandwidth_gb_s,
            "bandwidth_source": _opt_str(snapshot.memory.bandwidth_source),
            "bandwidth_low_gb_s": snapshot.memory.bandwidth_low_gb_s,
            "bandwidth_high_gb_s": snapshot.memory.bandwidth_high_gb_s,
        },
        "gpus": [gpu_to_dict(g, include_ids=include_ids) for g in snapshot.gpus],
        "probed_at": snapshot.probed_at,
        "probe_seconds": snapshot.probe_seconds,
        "source": str(snapshot.source),
    }


def _opt_str(value: StrEnum | None) -> str | None:
    return None if value is None else str(value)


def without_ids(snapshot: SystemSnapshot) -> SystemSnapshot:
    """The snapshot as a shared ``--json`` file reads back: no GPU or MIG UUIDs, no bus ids."""
    gpus = tuple(
        replace(
            g,
            uuid=None,
            pci_bus_id=None,
            mig_instances=tuple(replace(m, uuid=None) for m in g.mig_instances),
        )
        for g in snapshot.gpus
    )
    return replace(snapshot, gpus=gpus)
