"""SMBIOS type 17 ("Memory Device"): each DIMM's type, data width and speed.

Linux exposes the records only to root (``/sys/firmware/dmi/entries/17-*/raw``, mode 0400);
Windows to everyone (``GetSystemFirmwareTable('RSMB')``: no WMI, no admin). Parsing only: the
bandwidth they imply is :func:`llmcheck.probe.bandwidth.bandwidth_from_devices`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import struct
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = [
    "MEMORY_TYPES",
    "MemoryDevice",
    "RawTable",
    "devices_from_table",
    "parse_rsmb",
    "parse_type17",
    "read_linux_type17",
    "read_windows_smbios",
    "walk_smbios_table",
]

MIB = 1 << 20

# SMBIOS Memory Type (DMTF DSP0134 3.x, table "Memory Device - Type"); the ones a PC of the last
# fifteen years carries. Others read as "other" and are used only with a width and speed.
MEMORY_TYPES = {
    0x18: "DDR3",
    0x1A: "DDR4",
    0x1B: "LPDDR",
    0x1C: "LPDDR2",
    0x1D: "LPDDR3",
    0x1E: "LPDDR4",
    0x20: "HBM",
    0x21: "HBM2",
    0x22: "DDR5",
    0x23: "LPDDR5",
    0x24: "HBM3",
}
_UNKNOWN_WORD = 0xFFFF


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MemoryDevice:
    """One SMBIOS type 17 record (a DIMM slot or a soldered LPDDR package)."""

    locator: str | None
    memory_type: str | None  # "DDR4", "DDR5", "LPDDR5" ...; None: unknown or other
    size_bytes: int | None  # 0: empty slot; None: unknown
    data_width_bits: int | None
    speed_mts: int | None  # rated
    configured_speed_mts: int | None  # what the board runs it at

    @property
    def populated(self) -> bool:
        """Whether a module sits in this slot (unknown size counts as present)."""
        return self.size_bytes != 0

    @property
    def effective_speed_mts(self) -> int | None:
        """The configured speed, else the rated one."""
        return self.configured_speed_mts or self.speed_mts


def _strings(raw: bytes, length: int) -> list[str]:
    # The formatted area is followed by NUL-terminated strings, the set ending in a double NUL.
    area = raw[length:]
    end = area.find(b"\x00\x00")
    area = area[: end if end >= 0 else len(area)]
    return [s.decode("ascii", "replace").strip() for s in area.split(b"\x00")]


def _word(raw: bytes, offset: int, length: int) -> int | None:
    return struct.unpack_from("<H", raw, offset)[0] if offset + 2 <= length else None


def _dword(raw: bytes, offset: int, length: int) -> int | None:
    return struct.unpack_from("<I", raw, offset)[0] if offset + 4 <= length else None


def _speed(word: int | None, extended: int | None) -> int | None:
    # 0 = unknown; 0xFFFF = "see the extended field" (SMBIOS 3.3+, speeds above 65534 MT/s).
    if word == _UNKNOWN_WORD:
        word = (extended & 0x7FFFFFFF) if extended is not None else None
    return word if word else None


def parse_type17(raw: bytes) -> MemoryDevice | None:
    """One SMBIOS type 17 structure (formatted area + strings), as in ``entries/17-N/raw``.

    Offsets from DMTF DSP0134 (3.x) 7.18: 0x08 total width, 0x0A data width, 0x0C size, 0x10
    device locator, 0x12 memory type, 0x15 speed, 0x1C extended size, 0x20 configured speed,
    0x54 / 0x58 extended speeds. Fields past the structure's length (older SMBIOS) read as None.
    Returns None when ``raw`` is not a type 17 structure.
    """
    if len(raw) < 0x15 or raw[0] != 17:
        return None
    length = min(raw[1], len(raw))
    strings = _strings(raw, length)
    locator_index = raw[0x10] if length > 0x10 else 0
    locator = strings[locator_index - 1] if 0 < locator_index <= len(strings) else None
    data_width = _word(raw, 0x0A, length)
    size_word = _word(raw, 0x0C, length)
    size: int | None
    if size_word is None or size_word == _UNKNOWN_WORD:
        size = None
    elif size_word == 0x7FFF:
        ext = _dword(raw, 0x1C, length)
        size = (ext & 0x7FFFFFFF) * MIB if ext is not None else None
    elif size_word & 0x8000:
        size = (size_word & 0x7FFF) * 1024  # granularity bit: kilobytes
    else:
        size = size_word * MIB
    return MemoryDevice(
        locator=locator or None,
        memory_type=MEMORY_TYPES.get(raw[0x12]) if length > 0x12 else None,
        size_bytes=size,
        data_width_bits=None if data_width in (None, 0, _UNKNOWN_WORD) else data_width,
        speed_mts=_speed(_word(raw, 0x15, length), _dword(raw, 0x54, length)),
        configured_speed_mts=_speed(_word(raw, 0x20, length), _dword(raw, 0x58, length)),
    )


def walk_smbios_table(table: bytes) -> Iterator[bytes]:
    """Each structure of a raw SMBIOS table (Linux ``tables/DMI``, Windows RSMB payload)."""
    pos = 0
    while pos + 4 <= len(table):
        kind, length = table[pos], table[pos + 1]
        if length < 4:
            return  # corrupt: a structure is at least its 4-byte header
        end = table.find(b"\x00\x00", pos + length)
        if end < 0:
            return
        yield table[pos : end + 2]
        if kind == 127:  # end-of-table
            return
        pos = end + 2


ReadBytes = Callable[[Path], bytes]


def _read_bytes(path: Path) -> bytes:
    return path.read_bytes()


def read_linux_type17(
    *, sysfs: Path = Path("/sys/firmware/dmi"), read_bytes: ReadBytes = _read_bytes
) -> list[MemoryDevice]:
    """Type 17 records from sysfs; empty when unreadable (only root may read them)."""
    devices: list[MemoryDevice] = []
    try:
        entries = sorted((sysfs / "entries").glob("17-*"), key=lambda p: int(p.name[3:] or 0))
        for entry in entries:
            device = parse_type17(read_bytes(entry / "raw"))
            if device is not None:
                devices.append(device)
    except (OSError, ValueError):
        return []  # EACCES for non-root is the normal case, not a problem worth reporting
    return devices


RawTable = Callable[[], bytes | None]


# ctypes.windll exists on Windows only. A module-level platform check is one mypy reads (typeshed
# declares windll for win32 only), so each platform's definition is type-checked on its platform.
if sys.platform == "win32":

    def read_windows_smbios() -> bytes | None:
        """The raw SMBIOS table from ``GetSystemFirmwareTable('RSMB')`` (no admin needed), or None.

        The buffer is a RawSMBIOSData header (4 version bytes, a DWORD length) then the table
        (learn.microsoft.com, GetSystemFirmwareTable).
        """
        try:
            kernel32 = ctypes.windll.kernel32
            get_table = kernel32.GetSystemFirmwareTable
        except (AttributeError, OSError):
            return None
        provider = int.from_bytes(b"RSMB", "big")
        size = get_table(provider, 0, None, 0)
        if not 8 < size <= 1 << 24:
            return None
        buf = ctypes.create_string_buffer(size)
        if get_table(provider, 0, buf, size) != size:
            return None
        return parse_rsmb(buf.raw)

else:

    def read_windows_smbios() -> bytes | None:
        """None: the SMBIOS table is read through Win32 only on Windows."""
        return None


def parse_rsmb(data: bytes) -> bytes | None:
    """The SMBIOS table inside a RawSMBIOSData buffer (8-byte header, then ``Length`` bytes)."""
    if len(data) < 8:
        return None
    length = struct.unpack_from("<I", data, 4)[0]
    return data[8 : 8 + length] if 8 + length <= len(data) else None


def devices_from_table(table: bytes) -> list[MemoryDevice]:
    """Every type 17 record of a raw SMBIOS table."""
    out: list[MemoryDevice] = []
    for structure in walk_smbios_table(table):
        device = parse_type17(structure) if structure[0] == 17 else None
        if device is not None:
            out.append(device)
    return out
