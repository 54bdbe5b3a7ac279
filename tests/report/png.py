"""Just enough PNG decoding (stdlib zlib) to tell a rendered page from a blank one.

Handles what Chromium writes: 8-bit RGB or RGBA, not interlaced, any of the five filters.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]  # unfiltered scanlines

    def pixel(self, x: int, y: int) -> tuple[int, ...]:
        start = x * self.channels
        return tuple(self.rows[y][start:start + 3])

    def colours(self, *, step: int = 1) -> Counter[tuple[int, ...]]:
        """How many pixels have each RGB colour (every ``step``-th pixel of every row)."""
        counts: Counter[tuple[int, ...]] = Counter()
        stride = self.channels * step
        for row in self.rows:
            for start in range(0, len(row), stride):
                counts[tuple(row[start:start + 3])] += 1
        return counts


def decode(data: bytes) -> Image:
    """Decode a PNG; raises ValueError for anything outside the supported subset."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG file")
    offset, header, idat = len(SIGNATURE), b"", bytearray()
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, "
                         f"interlace {interlace}")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], raw[start + 1:start + 1 + stride]
        row = _unfilter(kind, line, previous, channels)
        rows.append(row)
        previous = row
    return Image(width, height, channels, rows)


def _unfilter(kind: int, line: bytes, previous: bytes, bpp: int) -> bytes:
    if kind == 0:
        return line
    if kind == 2:  # Up: the common case, done without a per-byte Python loop
        return bytes(map(lambda a, b: (a + b) & 0xFF, line, previous))
    out = bytearray(line)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            out[i] = (out[i] + left) & 0xFF
        elif kind == 3:
            out[i] = (out[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            upper_left = previous[i - bpp] if i >= bpp else 0
            estimate = left + up - upper_left
            da, db, dc = abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)
            nearest = left if da <= db and da <= dc else up if db <= dc else upper_left
            out[i] = (out[i] + nearest) & 0xFF
        else:
            raise ValueError(f"bad PNG filter type {kind}")
    return bytes(out)
