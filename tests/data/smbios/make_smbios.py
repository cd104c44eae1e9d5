"""Write the SMBIOS type 17 fixtures in this folder (run from anywhere; idempotent).

This VM exposes no SMBIOS to anyone (no /sys/firmware/dmi) and no root-readable real machine was
at hand, so the blobs are assembled field by field from DMTF DSP0134 3.x section 7.18 ("Memory
Device (Type 17)"), with values as dmidecode prints them for such machines. Layouts:

* ddr4-3200-x2/entries/17-N/raw: a laptop, SMBIOS 3.1 (0x28-byte structures), two SODIMM slots,
  both 8 GiB DDR4-3200 (configured 3200), 64-bit data width. The Linux sysfs layout.
* ddr5-5600-x2/entries/17-N/raw: a desktop, SMBIOS 3.3 (0x5C), four slots, A2 and B2 populated
  with 16 GiB DDR5-6000 kits the board runs at 5600.
* server-12x-ddr5.dmi: a whole table (as /sys/firmware/dmi/tables/DMI or the RSMB payload on
  Windows): type 16, 24 type 17 slots of which 12 hold 64 GiB DDR5-4800 RDIMMs (size in the
  extended field, 72-bit total / 64-bit data width), type 127.
* server-12x-ddr5.rsmb: the same table behind Windows' RawSMBIOSData header.
"""

from __future__ import annotations

import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
DDR4, DDR5 = 0x1A, 0x22


def type17(
    handle: int,
    *,
    length: int,
    locator: str,
    bank: str,
    mem_type: int,
    size_mb: int,
    total_width: int = 64,
    data_width: int = 64,
    speed: int = 0,
    configured: int = 0,
    form_factor: int = 0x0D,  # 0x0D SODIMM, 0x09 DIMM
    manufacturer: str = "Samsung",
    part: str = "M471A1K43DB1-CWE",
) -> bytes:
    """One type 17 structure: formatted area of ``length`` bytes plus its strings."""
    body = bytearray(length)
    populated = size_mb > 0
    strings = [locator, bank]
    if populated:
        strings += [manufacturer, "00000000", "None", part]
    struct.pack_into("<BBH", body, 0, 17, length, handle)
    struct.pack_into("<HH", body, 0x04, 0x1000, 0xFFFE)
    struct.pack_into(
        "<HH", body, 0x08, total_width if populated else 0xFFFF, data_width if populated else 0xFFFF
    )
    size_word = 0 if not populated else (0x7FFF if size_mb >= 0x7FFF else size_mb)
    struct.pack_into("<H", body, 0x0C, size_word)
    body[0x0E] = form_factor
    body[0x10], body[0x11] = 1, 2
    body[0x12] = mem_type if populated else 0x02  # 0x02 = unknown
    struct.pack_into("<H", body, 0x13, 0x0080 if populated else 0x0004)  # synchronous / unknown
    struct.pack_into("<H", body, 0x15, speed)
    if populated:
        body[0x17], body[0x18], body[0x19], body[0x1A] = 3, 4, 5, 6
    if length >= 0x20:
        body[0x1B] = 1 if populated else 0  # rank
        struct.pack_into("<I", body, 0x1C, size_mb if size_word == 0x7FFF else 0)
    if length >= 0x22:
        struct.pack_into("<H", body, 0x20, configured)
    if length >= 0x28:
        struct.pack_into("<HHH", body, 0x22, 1200, 1200, 1200 if populated else 0)
    text = b"".join(s.encode() + b"\0" for s in strings) + b"\0"
    return bytes(body) + text


def type16(handle: int, devices: int) -> bytes:
    """Physical Memory Array: system memory, ECC, 24 slots."""
    body = bytearray(0x17)
    struct.pack_into("<BBH", body, 0, 16, 0x17, handle)
    body[4], body[5], body[6] = 0x03, 0x03, 0x06  # motherboard, system memory, multi-bit ECC
    struct.pack_into("<I", body, 7, 0x80000000)
    struct.pack_into("<HH", body, 0x0B, 0xFFFE, devices)
    struct.pack_into("<Q", body, 0x0F, 6 << 40)
    return bytes(body) + b"\0\0"


def write_entries(folder: str, structures: list[bytes]) -> None:
    for i, raw in enumerate(structures):
        entry = HERE / folder / "entries" / f"17-{i}"
        entry.mkdir(parents=True, exist_ok=True)
        (entry / "raw").write_bytes(raw)


def main() -> None:
    write_entries(
        "ddr4-3200-x2",
        [
            type17(
                0x3A + i,
                length=0x28,
                locator=f"DIMM {i}",
                bank=f"BANK {i}",
                mem_type=DDR4,
                size_mb=8192,
                speed=3200,
                configured=3200,
            )
            for i in range(2)
        ],
    )
    slots = [("A1", 0), ("A2", 16384), ("B1", 0), ("B2", 16384)]
    write_entries(
        "ddr5-5600-x2",
        [
            type17(
                0x40 + i,
                length=0x5C,
                locator=f"DIMM_{loc}",
                bank=f"BANK {i}",
                mem_type=DDR5,
                size_mb=size,
                speed=6000,
                configured=5600,
                form_factor=0x09,
                manufacturer="G Skill Intl",
                part="F5-6000J3038F16G",
            )
            for i, (loc, size) in enumerate(slots)
        ],
    )
    table = [type16(0x1000, 24)]
    for i in range(24):
        populated = i % 2 == 0  # 1 DIMM per channel: slot 0 of each of the 12 channels
        table.append(
            type17(
                0x1100 + i,
                length=0x5C,
                locator=f"P0 CHANNEL {chr(65 + i // 2)} DIMM {i % 2}",
                bank=f"BANK {i}",
                mem_type=DDR5,
                size_mb=65536 if populated else 0,
                total_width=80,
                data_width=64,
                speed=4800,
                configured=4800,
                form_factor=0x09,
                manufacturer="Micron Technology",
                part="MTC40F2046S1RC48BA1",
            )
        )
    table.append(b"\x7f\x04\xff\xfe\0\0")  # end of table
    dmi = b"".join(table)
    (HERE / "server-12x-ddr5.dmi").write_bytes(dmi)
    (HERE / "server-12x-ddr5.rsmb").write_bytes(struct.pack("<BBBBI", 0, 3, 5, 0, len(dmi)) + dmi)


if __name__ == "__main__":
    main()
