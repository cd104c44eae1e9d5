"""The what-if catalog: common GPUs and unified-memory devices as SystemSnapshots.

Pure Python (no Qt), so tests and benchmarks can read it without a display. Data lives in
``resources/machines.toml``; each entry becomes a snapshot whose numbers name ``Source.TABLE``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from llmcheck.probe.apple import default_working_set_cap_bytes
from llmcheck.resources import resource_path
from llmcheck.snapshot import (
    CpuInfo,
    GpuInfo,
    GpuVendor,
    MemoryInfo,
    MemoryKind,
    OsInfo,
    Source,
    SystemSnapshot,
)

GIB = 1 << 30
_KINDS = ("gpu", "unified", "cpu")
_MAX_NUMBER = 1e9


class MachineCatalogError(ValueError):
    """resources/machines.toml is malformed; the message names the entry and key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogMachine:
    """One catalogued machine: a device, its memory and bandwidth, and where they came from."""

    id: str
    name: str
    kind: str  # "gpu" | "unified" | "cpu"
    vendor: GpuVendor | None
    device_memory_bytes: int  # VRAM for "gpu", the shared pool for "unified", RAM for "cpu"
    bandwidth_gb_s: float
    host_ram_bytes: int
    host_ram_bandwidth_gb_s: float
    os_reserved_bytes: int
    source_note: str


def load_machines(text: str | None = None) -> tuple[CatalogMachine, ...]:
    """Read the what-if catalog.

    Args:
        text: TOML text to parse instead of the shipped ``resources/machines.toml``.

    Raises:
        MachineCatalogError: a missing or bad key, naming the entry.
    """
    if text is None:
        text = resource_path("machines.toml").read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MachineCatalogError(f"machines.toml: {exc}") from None
    except ValueError as exc:
        # tomllib lets Python's int limit through: an integer of more than 4,300 digits.
        raise MachineCatalogError(f"machines.toml: {exc}") from None
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise MachineCatalogError("machines.toml: [defaults] must be a table")
    entries = doc.get("machine", [])
    if not isinstance(entries, list) or not entries:
        raise MachineCatalogError("machines.toml: no [[machine]] entries")
    machines = tuple(_machine(entry, defaults, i) for i, entry in enumerate(entries))
    ids = [m.id for m in machines]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise MachineCatalogError(f"machines.toml: duplicate id {duplicates[0]!r}")
    return machines


def _machine(entry: Any, defaults: dict[str, Any], index: int) -> CatalogMachine:
    where = f"machines.toml: machine[{index}]"
    if not isinstance(entry, dict):
        raise MachineCatalogError(f"{where}: expected a table")
    ident = entry.get("id")
    if isinstance(ident, str):
        where = f"machines.toml: machine {ident!r}"

    def get(key: str, kind: type | tuple[type, ...], *, default: Any = None) -> Any:
        value = entry.get(key, defaults.get(key, default))
        if value is None or isinstance(value, bool) or not isinstance(value, kind):
            raise MachineCatalogError(f"{where}: key {key!r} is missing or not a {kind}")
        return value

    def number(key: str) -> float:
        # Finite and below any real device (1e9 GiB, 1e9 GB/s): TOML allows inf, nan and
        # integers too large for a float.
        value = get(key, (int, float))
        if not -_MAX_NUMBER < value < _MAX_NUMBER:  # also False for nan
            raise MachineCatalogError(f"{where}: key {key!r} is not a plausible number")
        return float(value)

    kind = get("kind", str)
    if kind not in _KINDS:
        raise MachineCatalogError(f"{where}: kind {kind!r} is not one of {', '.join(_KINDS)}")
    memory_key = "vram_gib" if kind == "gpu" else "memory_gib"
    memory_gib = number(memory_key)
    bandwidth = number("bandwidth_gb_s")
    if int(memory_gib * GIB) <= 0 or bandwidth <= 0:
        raise MachineCatalogError(f"{where}: memory and bandwidth must be positive")
    vendor_raw = entry.get("vendor")
    try:
        vendor = None if vendor_raw is None else GpuVendor(vendor_raw)
    except ValueError:
        raise MachineCatalogError(f"{where}: unknown vendor {vendor_raw!r}") from None
    if kind != "cpu" and vendor is None:
        raise MachineCatalogError(f"{where}: a {kind} machine needs a vendor")
    device_bytes = int(memory_gib * GIB)
    host_ram = device_bytes if kind != "gpu" else int(number("host_ram_gib") * GIB)
    host_bw = bandwidth if kind != "gpu" else number("host_ram_bandwidth_gb_s")
    return CatalogMachine(
        id=get("id", str),
        name=get("name", str),
        kind=kind,
        vendor=vendor,
        device_memory_bytes=device_bytes,
        bandwidth_gb_s=bandwidth,
        host_ram_bytes=host_ram,
        host_ram_bandwidth_gb_s=host_bw,
        os_reserved_bytes=int(number("os_reserved_gib") * GIB),
        source_note=get("source", str),
    )


def machine_snapshot(machine: CatalogMachine) -> SystemSnapshot:
    """The SystemSnapshot of an idle catalogued machine (every number from Source.TABLE)."""
    available = max(0, machine.host_ram_bytes - machine.os_reserved_bytes)
    memory = MemoryInfo(
        total_bytes=machine.host_ram_bytes,
        available_bytes=available,
        source=Source.TABLE,
        bandwidth_gb_s=machine.host_ram_bandwidth_gb_s,
        bandwidth_source=Source.TABLE,
    )
    gpus: tuple[GpuInfo, ...] = ()
    if machine.kind != "cpu" and machine.vendor is not None:
        unified = machine.kind == "unified"
        gpus = (
            GpuInfo(
                index=0,
                vendor=machine.vendor,
                name=machine.name,
                memory_kind=MemoryKind.UNIFIED if unified else MemoryKind.DISCRETE,
                total_bytes=machine.device_memory_bytes,
                # An idle device: a unified pool has what the OS leaves; a card is all free.
                free_bytes=available if unified else machine.device_memory_bytes,
                memory_source=Source.TABLE,
                bandwidth_gb_s=machine.bandwidth_gb_s,
                bandwidth_source=Source.TABLE,
                # Metal's cap, by the same documented default the Apple probe falls back to.
                working_set_cap_bytes=(
                    default_working_set_cap_bytes(machine.device_memory_bytes)
                    if machine.vendor is GpuVendor.APPLE else None
                ),
                working_set_cap_source=(
                    Source.DEFAULT if machine.vendor is GpuVendor.APPLE else None
                ),
            ),
        )
    system = {"apple": "Darwin"}.get(str(machine.vendor), "Linux")
    arch = "arm64" if machine.vendor is GpuVendor.APPLE or machine.id.startswith(
        ("dgx-spark", "jetson")
    ) else "x86_64"
    return SystemSnapshot(
        os=OsInfo(system=system, machine=arch),
        cpu=CpuInfo(arch=arch, source=Source.TABLE),
        memory=memory,
        gpus=gpus,
        source=Source.TABLE,
        hostname_hint=machine.name,
    )
