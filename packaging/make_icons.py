"""Render the icon PNG sizes, the Windows ``.ico`` and the macOS ``.icns`` from the SVG master.

Run from the repository root (needs PySide6, which the dev venv has)::

    .venv/bin/python packaging/make_icons.py

The outputs are committed under ``resources/icons/`` so that a wheel, a bundle and
``llmcheck --install-desktop-entry`` need no renderer. ``ico_bytes`` and ``icns_bytes`` are pure
container writers (PNG payloads in, file bytes out), tested in ``tests/test_packaging.py``.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Mapping
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"
MASTER_SVG = ICON_DIR / "llmcheck.svg"

# llmcheck.png is the 256 px one (the size desktops and Qt's window icon pick most often);
# the others are llmcheck-<N>.png. hicolor's common sizes, plus 512 for HiDPI and the .icns.
MAIN_PNG_SIZE_PX = 256
PNG_SIZES_PX = (16, 24, 32, 48, 64, 128, 256, 512)
# Windows shows 16-48 in Explorer lists and up to 256 on large tiles; PNG entries need Vista+.
ICO_SIZES_PX = (16, 24, 32, 48, 64, 128, 256)
# Apple's PNG-payload icon types (Icon Composer names), by pixel size.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_name(size_px: int) -> str:
    """The file name of one PNG size under ``resources/icons/``."""
    return "llmcheck.png" if size_px == MAIN_PNG_SIZE_PX else f"llmcheck-{size_px}.png"


def png_size_px(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk.

    Raises:
        ValueError: ``png`` is not a PNG file.
    """
    if len(png) < 24 or not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG file (no PNG signature and IHDR chunk)")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def ico_bytes(pngs: Mapping[int, bytes]) -> bytes:
    """A Windows ``.ico`` holding one PNG image per size (ICONDIR + ICONDIRENTRY + payloads).

    Args:
        pngs: Square PNG files by their pixel size (1 to 256).

    Raises:
        ValueError: a size outside 1..256, or a PNG whose size does not match its key.
    """
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))  # reserved, type 1 = icon, count
    offset = len(header) + 16 * len(sizes)
    entries = b""
    payload = b""
    for size in sizes:
        data = pngs[size]
        if not 1 <= size <= 256 or png_size_px(data) != (size, size):
            raise ValueError(f"ICO entry {size}: needs a {size}x{size} PNG of at most 256 px")
        dim = 0 if size == 256 else size  # 0 means 256 in an ICONDIRENTRY
        # width, height, palette colours, reserved, colour planes, bits per pixel, size, offset
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset + len(payload))
        payload += data
    return header + entries + payload


def icns_bytes(pngs: Mapping[int, bytes]) -> bytes:
    """A macOS ``.icns`` holding PNG payloads under their icon types (big-endian TLV blocks).

    Raises:
        ValueError: a size with no PNG icon type, or a PNG whose size does not match its key.
    """
    body = b""
    for size in sorted(pngs):
        if size not in ICNS_TYPES or png_size_px(pngs[size]) != (size, size):
            raise ValueError(f"ICNS entry {size}: sizes {sorted(ICNS_TYPES)} only, as square PNGs")
        body += ICNS_TYPES[size] + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def render_pngs(svg_path: Path, sizes_px: tuple[int, ...]) -> dict[int, bytes]:
    """Render ``svg_path`` to square PNGs with QtSvg (offscreen, no display needed)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Qt lives in llmcheck.gui for the app; this build tool is not part of the app's layers.
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice  # noqa: TID251
    from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: TID251
    from PySide6.QtSvg import QSvgRenderer  # noqa: TID251

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg_path))
    if not renderer.isValid():
        raise ValueError(f"{svg_path}: not a valid SVG")
    out: dict[int, bytes] = {}
    for size in sizes_px:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(0)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        out[size] = bytes(data.data())
    return out


def main() -> int:
    """Write every icon file next to the SVG master."""
    sizes = tuple(sorted(set(PNG_SIZES_PX) | set(ICO_SIZES_PX) | set(ICNS_TYPES)))
    pngs = render_pngs(MASTER_SVG, sizes)
    for size in PNG_SIZES_PX:
        (ICON_DIR / png_name(size)).write_bytes(pngs[size])
    (ICON_DIR / "llmcheck.ico").write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES_PX}))
    (ICON_DIR / "llmcheck.icns").write_bytes(icns_bytes({s: pngs[s] for s in ICNS_TYPES}))
    print(f"wrote {len(PNG_SIZES_PX)} PNGs, llmcheck.ico and llmcheck.icns to {ICON_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
