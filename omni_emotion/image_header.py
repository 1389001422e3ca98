"""The picture size a still image declares in its header, read without decoding a pixel.

ffmpeg and OpenCV learn an image's size only by decoding it, and they allocate the whole picture first: a
1 KB PNG that declares 16000x16000 16-bit pixels costs 2 GB before any limit can be checked. Reading the few
header bytes of the common still formats lets the pixel limit refuse such files first. Where only a known
size is safe (a picture decoded by OpenCV), formats outside ``HEADER_FORMATS`` are refused.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

__all__ = ["HEADER_FORMATS", "declared_image_size"]

# what declared_image_size reads, as people name them
HEADER_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WebP", "TIFF", "Radiance HDR")

# JPEG start-of-frame markers carry the size; C4 (DHT), C8 (reserved) and CC (DAC) share the range.
_JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_MAX_MARKERS = 4096  # a real file reaches its SOF within a few dozen segments
_TIFF_WIDTH, _TIFF_HEIGHT = 256, 257  # ImageWidth and ImageLength tags of the first IFD
_TIFF_MAX_ENTRIES = 4096
_HDR_MAX_HEADER = 65_536  # bytes of "KEY=value" lines before the resolution line


def declared_image_size(source: str | Path | BinaryIO) -> tuple[int, int] | None:
    """(width, height) in pixels as a PNG, JPEG, GIF, BMP, WebP, TIFF or Radiance HDR header declares it;
    None for anything else (videos, audio, other formats) or a header too short to say. ``source``: a path
    or a seekable binary file (e.g. ``io.BytesIO`` of a video packet)."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as f:
            return _read_size(f)
    return _read_size(source)


def _read_size(f: BinaryIO) -> tuple[int, int] | None:
    head = f.read(32)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return _unpack(">II", head, 16)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _unpack("<HH", head, 6)
    if head[:2] == b"BM":
        return _bmp(head)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head)
    if head[:2] == b"\xff\xd8":
        return _jpeg(f)
    if head[:4] in (b"II*\0", b"MM\0*"):
        return _tiff(f, "<" if head[:2] == b"II" else ">")
    if head.startswith((b"#?RADIANCE", b"#?RGBE")):
        return _hdr(f)
    return None


def _unpack(fmt: str, data: bytes, offset: int) -> tuple[int, int] | None:
    if len(data) < offset + struct.calcsize(fmt):
        return None
    width, height = struct.unpack_from(fmt, data, offset)
    return int(width), abs(int(height))


def _bmp(head: bytes) -> tuple[int, int] | None:
    if len(head) < 18:
        return None
    # the 12-byte OS/2 header has 16-bit sizes; later ones signed 32-bit (a negative height is top-down)
    os2 = struct.unpack_from("<I", head, 14)[0] == 12
    return _unpack("<HH", head, 18) if os2 else _unpack("<ii", head, 18)


def _webp(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and len(head) >= 30:
        width, height = struct.unpack_from("<HH", head, 26)
        return width & 0x3FFF, height & 0x3FFF
    return None


def _jpeg(f: BinaryIO) -> tuple[int, int] | None:
    """Walk the marker segments up to the first start-of-frame."""
    f.seek(2)
    for _ in range(_JPEG_MAX_MARKERS):
        marker = f.read(4)
        if len(marker) < 4 or marker[0] != 0xFF:
            return None
        kind, length = marker[1], int.from_bytes(marker[2:4], "big")
        if kind in _JPEG_SOF:
            size = _unpack(">HH", f.read(5), 1)
            return None if size is None else (size[1], size[0])  # stored as height, width
        if length < 2:
            return None
        f.seek(length - 2, 1)
    return None


def _tiff(f: BinaryIO, order: str) -> tuple[int, int] | None:
    """Width and length from the first image file directory (classic TIFF; BigTIFF is not read)."""
    f.seek(4)
    offset = _unpack_one(order + "I", f.read(4))
    if offset is None:
        return None
    f.seek(offset)
    count = _unpack_one(order + "H", f.read(2))
    if count is None or count > _TIFF_MAX_ENTRIES:
        return None
    sizes: dict[int, int] = {}
    entries = f.read(12 * count)
    for start in range(0, len(entries) - 11, 12):
        tag, kind = struct.unpack_from(order + "HH", entries, start)
        if tag in (_TIFF_WIDTH, _TIFF_HEIGHT):
            # SHORT (3) or LONG (4), stored left-justified in the value field
            sizes[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), entries, start + 8)[0]
    if _TIFF_WIDTH in sizes and _TIFF_HEIGHT in sizes:
        return sizes[_TIFF_WIDTH], sizes[_TIFF_HEIGHT]
    return None


def _unpack_one(fmt: str, data: bytes) -> int | None:
    return struct.unpack(fmt, data)[0] if len(data) == struct.calcsize(fmt) else None


def _hdr(f: BinaryIO) -> tuple[int, int] | None:
    """The resolution line after the header's blank line: ``-Y height +X width`` (or another orientation)."""
    f.seek(0)
    text = f.read(_HDR_MAX_HEADER)
    end = text.find(b"\n\n")
    if end < 0:
        return None
    line = text[end + 2 :].split(b"\n", 1)[0].split()
    if len(line) != 4 or not (line[1].isdigit() and line[3].isdigit()):
        return None
    sizes = {line[0][-1:]: int(line[1]), line[2][-1:]: int(line[3])}
    if set(sizes) != {b"X", b"Y"}:
        return None
    return sizes[b"X"], sizes[b"Y"]
