"""AMD and Intel GPUs on Linux, read from sysfs (``/sys/class/drm/card*/device``).

amdgpu exposes VRAM and GTT sizes as plain files (kernel ``Documentation/gpu/amdgpu/
driver-misc.rst``). On an APU ``mem_info_vram_total`` is only the BIOS carve-out and
``mem_info_gtt_total`` the system RAM the GPU may map; the two are reported side by side, never
summed as if both were free VRAM (Ollama summed them to 132 GiB on a 128 GiB machine:
https://github.com/ROCm/ROCm/issues/6004 via hardware-probing.md §3.2). Intel has no stable sysfs
file for discrete VRAM (hardware-probing.md §4): a few candidate files are tried and absence
stays unknown.

Names and bandwidth come from ``resources/gpus/pci.toml``. NVIDIA cards are skipped by default
(NVML covers them); when NVML failed, the dispatcher passes ``skip_vendors=frozenset()`` and a
sysfs-visible NVIDIA card is reported present with unknown memory.

Issue codes (source "amd" / "intel" / "nvidia" / "gpu"): ``sysfs_unreadable``,
``sysfs_value_invalid``, ``gpu_not_in_table``, ``vram_unknown``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmcheck.probe.platform_info import ReadText, parse_byte_count, read_text_file
from llmcheck.resources import resource_path
from llmcheck.snapshot import GpuInfo, GpuVendor, Issue, MemoryKind, Source

# PCI vendor ids; the one place they are spelled (the Windows probe and the dispatcher read them).
NVIDIA_VENDOR_ID = "0x10de"
VENDOR_IDS = {
    "0x1002": GpuVendor.AMD,
    "0x8086": GpuVendor.INTEL,
    NVIDIA_VENDOR_ID: GpuVendor.NVIDIA,
}

# Intel discrete VRAM candidates; none is mainline ABI (hardware-probing.md §4).
_INTEL_LMEM_FILES = (
    "device/tile0/physical_vram_size_bytes",
    "device/tile0/memory/physical_vram_size_bytes",
    "lmem_total_bytes",
    "device/lmem_total_bytes",
)

# An AMD part missing from the table with at most this much "VRAM" is taken for an APU's
# carve-out (BIOS carve-outs are 512 MiB-2 GiB by default; discrete boards since 2017 have more).
_APU_CARVE_OUT_MAX_BYTES = 2 * 2**30


@dataclass(frozen=True, slots=True, kw_only=True)
class PciEntry:
    """One row of ``resources/gpus/pci.toml`` (after a VRAM-size variant was chosen)."""

    pci_id: str
    name: str
    kind: MemoryKind
    bandwidth_gb_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuProbeResult:
    """What one OS GPU probe found: the GPUs and the problems."""

    gpus: tuple[GpuInfo, ...] = ()
    issues: tuple[Issue, ...] = ()


_KINDS = {
    "discrete": MemoryKind.DISCRETE,
    "integrated": MemoryKind.INTEGRATED,
    "unified": MemoryKind.UNIFIED,
}


@functools.cache
def load_pci_table() -> dict[str, dict[str, Any]]:
    """The PCI table keyed by "vvvv:dddd" (lower-case hex); raises ValueError naming the row."""
    text = resource_path("gpus", "pci.toml").read_text(encoding="utf-8")
    return parse_pci_table(text)


def parse_pci_table(text: str) -> dict[str, dict[str, Any]]:
    """Parse and check ``pci.toml`` text; raises ValueError naming the bad row."""
    doc = tomllib.loads(text)
    table: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(table_rows(doc, "gpu", "pci.toml")):
        pci_id = str(row.get("pci_id", "")).lower()
        if len(pci_id) != 9 or pci_id[4] != ":" or row.get("kind") not in _KINDS:
            raise ValueError(f"pci.toml: gpu[{i}] needs pci_id 'vvvv:dddd' and a known kind")
        if not isinstance(row.get("name"), str):
            raise ValueError(f"pci.toml: gpu[{i}] ({pci_id}) needs a name")
        for v in table_rows(row, "variant", f"pci.toml: {pci_id}"):
            if not isinstance(v.get("vram_gib"), int | float) or not isinstance(v.get("name"), str):
                raise ValueError(f"pci.toml: {pci_id} variant needs vram_gib and name")
        table[pci_id] = row
    return table


def table_rows(doc: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """``doc[key]`` as a list of tables (``[[key]]``); raises ValueError naming ``where``."""
    rows = doc.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"{where}: {key} must be an array of tables ([[{key}]])")
    return rows


def lookup_pci(
    pci_id: str, vram_total_bytes: int | None, table: dict[str, dict[str, Any]] | None = None
) -> PciEntry | None:
    """Name, kind and bandwidth for a PCI id, choosing a board variant by VRAM size."""
    rows = load_pci_table() if table is None else table
    row = rows.get(pci_id.lower())
    if row is None:
        return None
    name: str = row["name"]
    bandwidth = row.get("bandwidth_gb_s")
    variants = row.get("variant", [])
    if variants:
        bandwidth = None  # ambiguous until a variant matches
        if vram_total_bytes is not None:
            gib = vram_total_bytes / 2**30
            best = min(variants, key=lambda v: abs(v["vram_gib"] - gib))
            if abs(best["vram_gib"] - gib) <= 0.1 * best["vram_gib"]:
                name, bandwidth = best["name"], best.get("bandwidth_gb_s")
    return PciEntry(
        pci_id=pci_id.lower(),
        name=name,
        kind=_KINDS[row["kind"]],
        bandwidth_gb_s=float(bandwidth) if bandwidth is not None else None,
    )


def _device_dirs(sysfs_root: Path) -> list[Path]:
    drm = sysfs_root / "class" / "drm"
    try:
        entries = sorted(drm.iterdir())
    except OSError:
        return []
    dirs: list[Path] = []
    for entry in entries:
        name = entry.name
        # cardN-DP-1 are connectors; in containers only renderD* may exist.
        if (name.startswith("card") and "-" not in name) or name.startswith("renderD"):
            dirs.append(entry)
    return dirs


def probe_linux_gpus(
    *,
    sysfs_root: Path = Path("/sys"),
    read_text: ReadText = read_text_file,
    skip_vendors: frozenset[str] = frozenset({NVIDIA_VENDOR_ID}),
    ram_total_bytes: int | None = None,
    table: dict[str, dict[str, Any]] | None = None,
) -> GpuProbeResult:
    """Every display-class GPU sysfs shows, except the vendors in ``skip_vendors``. Never raises.

    Args:
        sysfs_root: ``/sys`` or a recorded tree.
        read_text: file reader seam.
        skip_vendors: PCI vendor ids ("0x10de") another probe already covers.
        ram_total_bytes: host RAM (MemTotal), bounds a unified APU's working set.
        table: a parsed PCI table (tests); the shipped one when None.
    """
    gpus: list[GpuInfo] = []
    issues: list[Issue] = []
    seen: set[str] = set()
    try:
        rows = load_pci_table() if table is None else table
    except (OSError, ValueError) as exc:
        rows = {}
        issues.append(
            Issue(
                source="gpu",
                code="pci_table_invalid",
                message=str(exc),
                hint="GPU names and bandwidth are unknown; reinstall llmcheck.",
            )
        )
    for card in _device_dirs(sysfs_root):
        found = _read_card(card, read_text, skip_vendors, ram_total_bytes, rows, seen, len(gpus))
        if found is None:
            continue
        gpu, card_issues = found
        if gpu is not None:
            gpus.append(gpu)
        issues.extend(card_issues)
    return GpuProbeResult(gpus=tuple(gpus), issues=tuple(issues))


def _read_card(
    card: Path,
    read_text: ReadText,
    skip_vendors: frozenset[str],
    ram_total_bytes: int | None,
    rows: dict[str, dict[str, Any]],
    seen: set[str],
    index: int,
) -> tuple[GpuInfo | None, list[Issue]] | None:
    dev = card / "device"
    denied: list[Issue] = []

    def read(name: str) -> str | None:
        try:
            return read_text(dev / name).strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            denied.append(
                Issue(
                    source="gpu",
                    code="sysfs_unreadable",
                    message=f"Could not read {dev / name}: {exc}",
                    hint="A GPU may be present that llmcheck cannot identify; check the"
                    " permissions of /sys/class/drm.",
                )
            )
            return None

    vendor_id = (read("vendor") or "").lower()
    if vendor_id not in VENDOR_IDS or vendor_id in skip_vendors:
        # An unreadable vendor file hides whatever card this is: say so rather than skip it.
        return (None, denied) if denied else None
    pci_class = read("class")
    if pci_class is not None and not pci_class.lower().startswith("0x03"):
        return None  # not a display controller
    uevent = _parse_uevent(read("uevent") or "")
    slot = uevent.get("PCI_SLOT_NAME")
    key = slot or str(card.resolve())
    if key in seen:
        return None  # card0 and renderD128 are the same device
    seen.add(key)
    vendor = VENDOR_IDS[vendor_id]
    source = str(vendor)
    device_id = (read("device") or "").lower().removeprefix("0x")
    pci_id = f"{vendor_id.removeprefix('0x')}:{device_id}" if len(device_id) == 4 else None
    issues: list[Issue] = denied  # class, uevent or device id unreadable: still the card

    def size(name: str, path: Path | None = None, *, zero_ok: bool = False) -> int | None:
        target = path or (dev / name)
        try:
            raw = read_text(target)
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(
                Issue(
                    source=source,
                    code="sysfs_unreadable",
                    device_index=index,
                    message=f"Could not read {target}: {exc}",
                    hint="Run as a user in the 'video'/'render' group, or check the driver.",
                )
            )
            return None
        value = 0 if zero_ok and raw.strip() == "0" else parse_byte_count(raw)
        if value is None:
            issues.append(
                Issue(
                    source=source,
                    code="sysfs_value_invalid",
                    device_index=index,
                    message=f"{target} holds {raw.strip()[:40]!r}, not a byte count.",
                    hint="This value is treated as unknown.",
                )
            )
        return value

    if vendor is GpuVendor.NVIDIA:
        # NVML failed or is absent: the card exists, its memory is unknown.
        issues.append(
            Issue(
                source="nvidia",
                code="vram_unknown",
                device_index=index,
                message="An NVIDIA GPU is visible in sysfs but NVML could not read it.",
                hint="Install or load the NVIDIA driver to see its memory.",
            )
        )
        return GpuInfo(index=index, vendor=vendor, pci_bus_id=slot, pci_id=pci_id), issues

    vram_total = size("mem_info_vram_total")
    vram_used = size("mem_info_vram_used", zero_ok=True)  # a total of 0 is a fault, use is not
    visible = size("mem_info_vis_vram_total")
    gtt_total = size("mem_info_gtt_total")
    gtt_used = size("mem_info_gtt_used", zero_ok=True)
    if vendor is GpuVendor.INTEL and vram_total is None:
        for rel in _INTEL_LMEM_FILES:
            path = card / rel
            vram_total = size(rel, path)
            if vram_total is not None:
                break

    entry = lookup_pci(pci_id, vram_total, rows) if pci_id else None
    if entry is not None:
        kind = entry.kind
    elif vendor is GpuVendor.INTEL:
        # Intel iGPUs sit at 00:02.0 (llmfit parse_intel_gpus_from_lspci uses the same rule).
        integrated = (slot or "").endswith(":00:02.0") or vram_total is None
        kind = MemoryKind.INTEGRATED if integrated else MemoryKind.DISCRETE
    else:
        small = vram_total is not None and vram_total <= _APU_CARVE_OUT_MAX_BYTES
        kind = MemoryKind.INTEGRATED if small else MemoryKind.DISCRETE
    if entry is None and pci_id is not None:
        issues.append(
            Issue(
                source=source,
                code="gpu_not_in_table",
                device_index=index,
                message=f"GPU {pci_id} is not in llmcheck's table; name and bandwidth unknown,"
                f" taken for {kind} memory.",
                hint="Please report this GPU so it can be added to resources/gpus/pci.toml.",
            )
        )

    gpu = GpuInfo(
        index=index,
        vendor=vendor,
        name=entry.name if entry else None,
        pci_bus_id=slot,
        pci_id=pci_id,
        memory_kind=kind,
        visible_vram_bytes=visible,
        gtt_total_bytes=gtt_total,
        gtt_free_bytes=_free(gtt_total, gtt_used),
        bandwidth_gb_s=entry.bandwidth_gb_s if entry else None,
        bandwidth_source=Source.TABLE if entry and entry.bandwidth_gb_s is not None else None,
        is_primary=kind is not MemoryKind.INTEGRATED,
    )
    # On an APU / iGPU total_bytes is the carve-out the driver calls VRAM; GTT stays separate.
    gpu = dataclasses.replace(
        gpu,
        total_bytes=vram_total,
        used_bytes=vram_used,
        free_bytes=_free(vram_total, vram_used),
        memory_source=Source.SYSFS if vram_total is not None else Source.UNKNOWN,
    )
    if kind is MemoryKind.DISCRETE and vram_total is None:
        issues.append(
            Issue(
                source=source,
                code="vram_unknown",
                device_index=index,
                message=f"The VRAM size of {gpu.name or pci_id or 'this GPU'} is unknown.",
                hint="The driver exposes no size file; llmcheck will not guess.",
            )
        )
    if kind is MemoryKind.UNIFIED and vram_total is not None and gtt_total is not None:
        # What the GPU may hold at once: carve-out + GTT, but never more than the machine's
        # physical RAM (MemTotal excludes the carve-out, so add it back).
        cap = vram_total + gtt_total
        if ram_total_bytes is not None:
            cap = min(cap, ram_total_bytes + vram_total)
        gpu = dataclasses.replace(
            gpu, working_set_cap_bytes=cap, working_set_cap_source=Source.COMPUTED
        )
    return gpu, issues


def _free(total: int | None, used: int | None) -> int | None:
    if total is None or used is None or used > total:
        return None
    return total - used


def _parse_uevent(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


# --- NVIDIA cards present when NVML could not be read ---------------------------------------

# A machine has at most a few dozen GPUs; the listing below stops there whatever the folder holds.
_MAX_LISTED = 256
_NVIDIA_DEV_NODE = re.compile(r"nvidia([0-9]{1,3})")


def nvidia_cards_present(
    *, root: Path = Path("/"), read_text: ReadText = read_text_file
) -> tuple[tuple[GpuInfo, ...], str | None]:
    """The NVIDIA GPUs the kernel shows, read without NVML, and where they were seen.

    For a GPU probe that hung or crashed inside NVML: the cards are there, their memory is
    unknown. Tried in order, each a bounded listing of plain kernel files that never enter the
    driver's NVML path: PCI devices in sysfs with vendor 0x10de and a display class (0x03xxxx:
    VGA or 3D controller), then the driver's ``/proc/driver/nvidia/gpus/<bus id>`` folders, then
    ``/dev/nvidia<N>`` device nodes (what a container with ``--gpus`` sees). Never raises.

    Returns:
        The GPUs (indexes 0..n-1, vendor NVIDIA, name from the shipped tables when the PCI id is
        known, memory None) and the place they were seen ("sysfs PCI", ...), or ``((), None)``.
    """
    found = _nvidia_from_sysfs(root / "sys" / "bus" / "pci" / "devices", read_text)
    if found:
        return found, "sysfs PCI (vendor 0x10de)"
    bus_ids = sorted(_listing(root / "proc" / "driver" / "nvidia" / "gpus"))
    if bus_ids:
        return tuple(
            GpuInfo(index=i, vendor=GpuVendor.NVIDIA, pci_bus_id=b.lower())
            for i, b in enumerate(bus_ids)
        ), "/proc/driver/nvidia/gpus"
    nodes = sorted(
        int(m.group(1))
        for m in map(_NVIDIA_DEV_NODE.fullmatch, _listing(root / "dev"))
        if m is not None
    )
    if nodes:
        return tuple(
            GpuInfo(index=i, vendor=GpuVendor.NVIDIA) for i in range(len(nodes))
        ), "/dev/nvidia* device nodes"
    return (), None


def _listing(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.name for e, _ in zip(entries, range(_MAX_LISTED), strict=False)]
    except OSError:
        return []


def _nvidia_from_sysfs(devices: Path, read_text: ReadText) -> tuple[GpuInfo, ...]:
    gpus: list[GpuInfo] = []
    for slot in sorted(_listing(devices)):
        try:
            vendor = read_text(devices / slot / "vendor").strip().lower()
            if vendor != NVIDIA_VENDOR_ID:
                continue
            pci_class = read_text(devices / slot / "class").strip().lower()
            device = read_text(devices / slot / "device").strip().lower().removeprefix("0x")
        except (OSError, UnicodeDecodeError):
            continue
        if not pci_class.startswith("0x03"):
            continue  # the card's audio or USB function, not the GPU
        pci_id = f"10de:{device}" if len(device) == 4 else None
        gpus.append(
            GpuInfo(
                index=len(gpus),
                vendor=GpuVendor.NVIDIA,
                name=_nvidia_name(pci_id),
                pci_bus_id=slot.lower(),
                pci_id=pci_id,
            )
        )
    return tuple(gpus)


def _nvidia_name(pci_id: str | None) -> str | None:
    """The NVML-style name of an NVIDIA PCI id from ``resources/gpus/nvidia.toml``, if listed."""
    if pci_id is None:
        return None
    return _nvidia_names().get(pci_id)


@functools.cache
def _nvidia_names() -> dict[str, str]:
    try:
        doc = tomllib.loads(resource_path("gpus", "nvidia.toml").read_text(encoding="utf-8"))
        rows = table_rows(doc, "gpu", "nvidia.toml")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError):
        return {}  # a name is a nicety here: the card is reported either way
    names: dict[str, str] = {}
    for row in rows:
        pci_id, listed = row.get("pci_id"), row.get("names")
        if (
            isinstance(pci_id, str)
            and isinstance(listed, list)
            and listed
            and isinstance(listed[0], str)
        ):
            names.setdefault(pci_id.lower(), listed[0])
    return names
