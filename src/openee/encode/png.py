"""An 8-bit PNG writer for map tiles and thumbnails: grey+alpha or RGBA, one IDAT chunk, rows
unfiltered (filter type 0), deflated by ISA-L at level 1.

Why not Pillow's writer: a 256x256 RGBA tile took 3-11 ms there (its adaptive per-row filters
and zlib), 0.9-1.2 ms here, and came out no smaller: at this speed the filter search does not pay
for these (resampled, often masked) pixels (bench/TILES.md, 2026-12-05). The format is the W3C
PNG specification's (signature, IHDR, IDAT, IEND, each chunk with its CRC-32); any decoder reads
it, and the pixels are the same whichever writer wrote them.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from isal import isal_zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types by samples per pixel: grey, grey+alpha, RGB, RGBA.
COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}
DEFLATE_LEVEL = 1


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def write_png(pixels: np.ndarray) -> bytes:
    """The PNG of an (H, W, samples) uint8 array, samples 1-4 (grey, grey+alpha, RGB, RGBA)."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in COLOR_TYPES:
        raise ValueError(f"expected (H, W, 1-4) uint8 pixels, got {pixels.dtype} {pixels.shape}")
    height, width, samples = pixels.shape
    rows = np.empty((height, 1 + width * samples), np.uint8)
    rows[:, 0] = 0  # filter type 0 (None) on every row
    rows[:, 1:] = pixels.reshape(height, width * samples)
    header = struct.pack(">IIBBBBB", width, height, 8, COLOR_TYPES[samples], 0, 0, 0)
    return b"".join(
        (
            SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", isal_zlib.compress(rows, DEFLATE_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )
