"""Reading a screenshot's pixels with the standard library, to tell a page from a blank.

Chromium saves 8-bit, non-interlaced PNGs (RGB or RGBA); that is all this decodes.
:func:`blankness` says how much of the image differs from its most common colour (the
page's background) and how many colours it has: a page that rendered text, tables and
buttons has thousands of non-background pixels and dozens of colours, a blank or
single-colour page has none. :func:`encode` writes such a PNG (for the check's own test).
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # greyscale, RGB, greyscale+alpha, RGBA

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]

    def pixels(self, box: Box | None = None) -> list[bytes]:
        """Every pixel, or those of ``box`` (clipped to the image), row by row."""
        left, top, width, height = box or (0, 0, self.width, self.height)
        right, bottom = min(left + width, self.width), min(top + height, self.height)
        step = self.channels
        return [
            row[i : i + step]
            for row in self.rows[max(top, 0) : bottom]
            for i in range(max(left, 0) * step, right * step, step)
        ]


@dataclass(frozen=True)
class Blankness:
    colours: int
    background_share: float
    """The share of pixels in the most common colour."""

    def looks_blank(self, *, min_colours: int = 8, max_background: float = 0.995) -> bool:
        return self.colours < min_colours or self.background_share > max_background


def decode(data: bytes) -> Image:
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    offset, header, idat = len(SIGNATURE), b"", bytearray()
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunk = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError(
            f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}"
        )
    channels = _CHANNELS[colour]
    return Image(
        width, height, channels, _unfilter(zlib.decompress(bytes(idat)), width, height, channels)
    )


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    stride = width * bpp
    add = _adder(stride)
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind in (0, 2):  # None and Up, the filters Chromium uses most: no per-byte loop
            line = line if kind == 0 else bytearray(add(bytes(line), bytes(previous)))
            rows.append(bytes(line))
            previous = line
            continue
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return rows


def _adder(size: int) -> Callable[[bytes, bytes], bytes]:
    """Bytewise addition modulo 256 of two equal-length strings, on big integers (SWAR)."""
    low = int.from_bytes(b"\x7f" * size, "big")
    high = int.from_bytes(b"\x80" * size, "big")

    def add(a: bytes, b: bytes) -> bytes:
        x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
        return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(size, "big")

    return add


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def blankness(path: Path, box: Box | None = None) -> Blankness:
    """How blank the image is, or the part of it in ``box`` (left, top, width, height)."""
    counts = Counter(decode(path.read_bytes()).pixels(box))
    total = sum(counts.values())
    if not total:
        return Blankness(colours=0, background_share=1.0)
    return Blankness(colours=len(counts), background_share=counts.most_common(1)[0][1] / total)


def encode(rows: list[bytes], *, filter_type: int = 0) -> bytes:
    """An RGB PNG of ``rows`` (3 bytes a pixel), each row filtered with None (0) or Up (2)."""
    width = len(rows[0]) // 3
    previous = bytes(len(rows[0]))
    lines = []
    for row in rows:
        if filter_type == 2:
            lines.append(
                b"\x02" + bytes((a - b) & 0xFF for a, b in zip(row, previous, strict=True))
            )
        else:
            lines.append(b"\x00" + row)
        previous = row
    body = zlib.compress(b"".join(lines))

    def chunk(kind: bytes, content: bytes) -> bytes:
        crc = zlib.crc32(kind + content)
        return struct.pack(">I", len(content)) + kind + content + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
