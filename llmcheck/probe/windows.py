"""GPUs on Windows from the display-adapter class in the registry (AMD, Intel; NVIDIA if no NVML).

Each adapter's driver writes ``HardwareInformation.qwMemorySize`` (REG_QWORD, bytes) under
``HKLM\\SYSTEM\\CurrentControlSet\\Control\\Class\\{4d36e968-e325-11ce-bfc1-08002be10318}\\000N``.
WMI's ``Win32_VideoController.AdapterRAM`` is a uint32 and reads 4293918720 for every card of
4 GiB or more (https://github.com/Jinjinov/Hardware.Info/issues/40,
https://github.com/AlexsJones/llmfit/issues/830), so it is never used. The older
``HardwareInformation.MemorySize`` (DWORD or 4-byte binary, the same 32-bit cap) is a fallback
only when the QWORD is missing.

``winreg`` is imported only inside :func:`read_display_adapters`; the parser takes a list of
``(subkey, values)`` so it is tested on Linux, including from ``.reg`` exports
(:func:`parse_reg_export`).

Issue codes (source "windows"): ``registry_unreadable``, ``vram_unknown``, ``vram_capped_32bit``,
``gpu_not_in_table``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

from llmcheck.probe.linux_gpu import (
    NVIDIA_VENDOR_ID,
    GpuProbeResult,
    load_pci_table,
    lookup_pci,
)
from llmcheck.snapshot import MAX_PLAUSIBLE_BYTES, GpuInfo, GpuVendor, Issue, MemoryKind, Source

SOURCE = "windows"
CLASS_KEY = r"SYSTEM\CurrentControlSet\Control\Class\{4d36e968-e325-11ce-bfc1-08002be10318}"

Adapters = list[tuple[str, dict[str, Any]]]
ReadAdapters = Callable[[], Adapters]

_VENDORS = {"1002": GpuVendor.AMD, "8086": GpuVendor.INTEL, "10de": GpuVendor.NVIDIA}
_MATCHING_ID = re.compile(r"ven_([0-9a-f]{4})&dev_([0-9a-f]{4})", re.IGNORECASE)
# Values below this are in the wrong unit or a placeholder (llmfit parse_windows_registry_vram).
_MIN_VRAM_BYTES = 64 * 2**20
# The 32-bit MemorySize / AdapterRAM ceiling: a value this close to 4 GiB is a cap, not a size.
_CAP_32BIT_BYTES = 0xFFF00000
# An iGPU's "dedicated" memory on Windows is its BIOS carve-out (hardware-probing.md §3.3).
_IGPU_CARVE_OUT_MAX_BYTES = 2 * 2**30
_SOFTWARE_ADAPTERS = ("microsoft basic render", "microsoft basic display", "remote display")


def read_display_adapters() -> Adapters:
    """Every numbered subkey of the display-adapter class with its values (Windows only).

    Raises ``OSError`` when the registry cannot be read (or this is not Windows).
    """
    # A platform check rather than `except ImportError`: mypy reads it, and typeshed declares
    # winreg's functions for Windows only.
    if sys.platform == "win32":
        import winreg

        adapters: Adapters = []
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, CLASS_KEY) as cls:
            i = 0
            while True:
                try:
                    name = winreg.EnumKey(cls, i)
                except OSError:
                    break  # no more subkeys
                i += 1
                if not name.isdigit():
                    continue  # "Properties" and "Configuration" deny access and hold no adapter
                values: dict[str, Any] = {}
                try:
                    with winreg.OpenKey(cls, name) as sub:
                        j = 0
                        while True:
                            try:
                                value_name, data, _kind = winreg.EnumValue(sub, j)
                            except OSError:
                                break
                            values[value_name] = data
                            j += 1
                except OSError:
                    continue  # one unreadable adapter key must not hide the others
                adapters.append((name, values))
        return adapters
    raise OSError("the Windows registry is not available on this OS")


def parse_reg_export(text: str) -> Adapters:
    """Adapters from a ``regedit`` export (``.reg``, version 5.00) of the display class key.

    Handles strings, ``dword:``, ``hex(b):`` (QWORD) and ``hex:`` (binary) values, which is what
    the adapter keys hold; other types are kept as raw text.
    """
    adapters: Adapters = []
    current: dict[str, Any] | None = None
    pending = ""
    for raw_line in text.splitlines():
        line = pending + raw_line.strip()
        if line.endswith("\\"):
            pending = line[:-1]  # regedit wraps long hex lists with a trailing backslash
            continue
        pending = ""
        if line.startswith("[") and line.endswith("]"):
            sub = line[1:-1].rsplit("\\", 1)[-1]
            current = {}
            if sub.isdigit():
                adapters.append((sub, current))
            continue
        if current is None or not line.startswith('"'):
            continue
        match = re.match(r'"((?:[^"\\]|\\.)*)"=(.*)$', line)
        if match is None:
            continue
        name, value = match.group(1), match.group(2)
        current[_unescape_reg(name)] = _reg_value(value)
    return adapters


def _unescape_reg(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _reg_value(value: str) -> Any:
    if value.startswith('"') and value.endswith('"'):
        return _unescape_reg(value[1:-1])
    # A hand-edited or truncated export may hold "dword:zz" or "hex:1ff": keep such a value as
    # raw text (the size readers then ignore it) rather than let ValueError end the parse.
    try:
        if value.startswith("dword:"):
            return int(value[6:], 16)
        for prefix in ("hex(b):", "hex:"):
            if value.startswith(prefix):
                body = value[len(prefix) :].replace(" ", "")
                data = bytes(int(b, 16) for b in body.split(",") if b)
                return int.from_bytes(data, "little") if prefix == "hex(b):" else data
    except ValueError:
        return value
    return value


def _memory_size(values: dict[str, Any]) -> tuple[int | None, bool]:
    """(bytes, from_32bit_field) from the adapter's values; None when absent or absurd."""
    q = values.get("HardwareInformation.qwMemorySize")
    if isinstance(q, bytes):
        q = int.from_bytes(q[:8], "little")
    if isinstance(q, int) and _MIN_VRAM_BYTES <= q <= MAX_PLAUSIBLE_BYTES:
        return q, False
    m = values.get("HardwareInformation.MemorySize")
    if isinstance(m, bytes):
        m = int.from_bytes(m[:4], "little")
    if isinstance(m, int):
        m &= 0xFFFFFFFF  # PowerShell prints a negative Int32 for sizes above 2 GiB
        if m >= _MIN_VRAM_BYTES:
            return m, True
    return None, False


def probe_windows_gpus(
    *,
    read_adapters: ReadAdapters = read_display_adapters,
    skip_vendors: frozenset[str] = frozenset({NVIDIA_VENDOR_ID}),
    table: dict[str, dict[str, Any]] | None = None,
) -> GpuProbeResult:
    """Every hardware display adapter in the registry, minus ``skip_vendors``. Never raises."""
    try:
        adapters = read_adapters()
    except OSError as exc:
        return GpuProbeResult(
            issues=(
                Issue(
                    source=SOURCE,
                    code="registry_unreadable",
                    message=f"Could not read the display adapters from the registry: {exc}",
                    hint="GPUs other than NVIDIA (via NVML) are unknown.",
                ),
            )
        )
    try:
        rows = load_pci_table() if table is None else table
    except (OSError, ValueError):
        rows = {}
    skip = {v.lower().removeprefix("0x") for v in skip_vendors}
    gpus: list[GpuInfo] = []
    issues: list[Issue] = []
    for _subkey, values in adapters:
        desc = str(values.get("DriverDesc") or "").strip()
        if not desc or desc.lower().startswith(_SOFTWARE_ADAPTERS):
            continue
        match = _MATCHING_ID.search(str(values.get("MatchingDeviceId") or ""))
        if match is None:
            continue  # not a PCI device: virtual, remote or indirect display
        vendor_hex, device_hex = match.group(1).lower(), match.group(2).lower()
        if vendor_hex in skip:
            continue
        vendor = _VENDORS.get(vendor_hex, GpuVendor.OTHER)
        index = len(gpus)
        pci_id = f"{vendor_hex}:{device_hex}"
        size, capped = _memory_size(values)
        if capped and size is not None and size >= _CAP_32BIT_BYTES:
            issues.append(
                Issue(
                    source=SOURCE,
                    code="vram_capped_32bit",
                    device_index=index,
                    message=f"{desc}: only the 32-bit memory size is recorded; it reads 4 GiB,"
                    " the field's ceiling.",
                    hint="Update the GPU driver; the real VRAM is at least 4 GiB.",
                )
            )
            size = None
        entry = lookup_pci(pci_id, size, rows)
        if entry is not None:
            kind = entry.kind
        elif size is not None and size <= _IGPU_CARVE_OUT_MAX_BYTES:
            kind = MemoryKind.INTEGRATED
        else:
            kind = MemoryKind.DISCRETE
        if size is None:
            issues.append(
                Issue(
                    source=SOURCE,
                    code="vram_unknown",
                    device_index=index,
                    message=f"{desc}: the driver recorded no memory size.",
                    hint="llmcheck will not guess this GPU's memory.",
                )
            )
        gpus.append(
            GpuInfo(
                index=index,
                vendor=vendor,
                name=desc,
                pci_id=pci_id,
                memory_kind=kind,
                total_bytes=size,
                memory_source=Source.REGISTRY if size is not None else Source.UNKNOWN,
                bandwidth_gb_s=entry.bandwidth_gb_s if entry else None,
                bandwidth_source=Source.TABLE
                if entry and entry.bandwidth_gb_s is not None
                else None,
                driver_version=str(values["DriverVersion"]) if "DriverVersion" in values else None,
                is_primary=kind is not MemoryKind.INTEGRATED,
            )
        )
    return GpuProbeResult(gpus=tuple(gpus), issues=tuple(issues))
