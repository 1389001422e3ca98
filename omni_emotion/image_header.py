"""The picture size a still image declares in its header, read without decoding a pixel.

ffmpeg learns an image's size only by decoding it, and it allocates the whole picture first: a 1 KB PNG that
declares 16000x16000 16-bit pixels costs 2 GB before any limit can be checked. Reading the few header bytes
of the common still formats lets the pixel limit refuse such files first.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

__all__ = ["declared_image_size"]

# JPEG start-of-frame markers carry the size; C4 (DHT), C8 (reserved) and CC (DAC) share the range.
_JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_MAX_MARKERS = 4096  # a real file reaches its SOF within a few dozen segments


def declared_image_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) in pixels as a PNG, JPEG, GIF, BMP or WebP header declares it; None for anything else
    (videos, audio, other formats) or a header too short to say."""
    with open(path, "rb") as f:
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
