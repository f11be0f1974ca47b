"""The hostile-raster corpus of issue 16 (items 12-14), built on demand: byte mutations and
truncations of a small tiled DEFLATE GeoTIFF, and hand-built TIFFs (2^31 x 2^31 pixels declared
in a file of a few hundred bytes, one 32768 x 32768 DEFLATE tile of 1 GiB in 1 MB, NaN, 1e308 and
zero georeferencing). Used by tests/security/test_security_hostile_rasters.py and by
bench/hostile_memory.py (the memory figures of docs/security.md)."""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import numpy as np
import rasterio

SHORT, LONG, DOUBLE = 3, 4, 12
EPSG_32633 = [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32633]


def tiff(
    width: int,
    height: int,
    block: bytes,
    *,
    tile: int | None = None,
    compression: int = 1,
    scale: tuple[float, float] = (120.0, 120.0),
    origin: tuple[float, float] = (500000.0, 5100000.0),
) -> bytes:
    """A little-endian classic TIFF of one uint8 band with one block (a tile of `tile` pixels,
    or a strip of the whole image), georeferenced in EPSG:32633."""
    entries: list[tuple[int, int, list[float] | list[int]]] = [
        (256, LONG, [width]),
        (257, LONG, [height]),
        (258, SHORT, [8]),
        (259, SHORT, [compression]),
        (262, SHORT, [1]),
        (277, SHORT, [1]),
        (284, SHORT, [1]),
    ]
    if tile:
        entries += [(322, LONG, [tile]), (323, LONG, [tile]), (324, LONG, [0]),
                    (325, LONG, [len(block)])]  # fmt: skip
    else:
        entries += [(273, LONG, [0]), (278, LONG, [height]), (279, LONG, [len(block)])]
    entries += [
        (33550, DOUBLE, [scale[0], scale[1], 0.0]),
        (33922, DOUBLE, [0.0, 0.0, 0.0, origin[0], origin[1], 0.0]),
        (34735, SHORT, EPSG_32633),
    ]
    entries.sort()
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(entries) + 4
    extra = b""
    packed = []
    for tag, kind, values in entries:
        fmt = {SHORT: "H", LONG: "I", DOUBLE: "d"}[kind]
        raw = struct.pack(f"<{len(values)}{fmt}", *values)
        if len(raw) <= 4:
            packed.append(struct.pack("<HHI", tag, kind, len(values)) + raw.ljust(4, b"\0"))
        else:
            packed.append(struct.pack("<HHII", tag, kind, len(values), data_offset + len(extra)))
            extra += raw
    block_offset = data_offset + len(extra)
    header = b"II*\0" + struct.pack("<I", ifd_offset)
    ifd = struct.pack("<H", len(entries)) + b"".join(packed) + b"\0\0\0\0"
    out = bytearray(header + ifd + extra + block)
    offset_tag = 324 if tile else 273
    for i, (tag, _, _) in enumerate(entries):  # the block's offset, now known
        if tag == offset_tag:
            at = ifd_offset + 2 + 12 * i + 8
            out[at : at + 4] = struct.pack("<I", block_offset)
    return bytes(out)


def deflated_zeros(size: int) -> bytes:
    squeeze = zlib.compressobj(1)
    chunk = bytes(1 << 20)
    parts = [squeeze.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + squeeze.flush()


def base_tif(path: Path) -> Path:
    values = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 1000) + 1
    with rasterio.open(
        path, "w", driver="GTiff", width=64, height=64, count=1, dtype="uint16",
        crs="EPSG:32633", transform=rasterio.transform.from_origin(500000, 5100000, 120, 120),
        tiled=True, blockxsize=16, blockysize=16, compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(values, 1)
    return path


BOMBS = {
    "declared_2e31.tif": "2^31 x 2^31 pixels declared in 200 bytes",
    "tile_32768.tif": "one 32768 x 32768 DEFLATE tile (1 GiB decoded) in 1 MB",
    "nan_scale.tif": "NaN pixel size",
    "huge_origin.tif": "1e308 origin",
    "zero_scale.tif": "zero pixel size",
    "fine.tif": "a readable file made by the same builder",
}


def build_corpus(folder: Path) -> dict[str, list[Path]]:
    """The 34 files of the corpus written in `folder` (which also gets `base.tif`, the file
    mutated), by family: 'mutations' (24), 'truncations' (4), then one family per bomb."""
    base = base_tif(folder / "base.tif").read_bytes()
    rng = random.Random(16)
    families: dict[str, list[Path]] = {"mutations": [], "truncations": []}
    for i in range(24):  # byte mutations: the header and tag area mostly, the data sometimes
        data = bytearray(base)
        for _ in range(rng.choice([1, 4, 16])):
            at = rng.randrange(8, 600) if rng.random() < 0.8 else rng.randrange(len(data))
            data[at] = rng.randrange(256)
        path = folder / f"mutant{i:02}.tif"
        path.write_bytes(bytes(data))
        families["mutations"].append(path)
    for i, keep in enumerate((16, 200, len(base) // 2, len(base) - 7)):  # truncations
        path = folder / f"cut{i}.tif"
        path.write_bytes(base[:keep])
        families["truncations"].append(path)
    bombs = {
        "declared_2e31.tif": tiff(2**31, 2**31, b"\0" * 64),
        "tile_32768.tif": tiff(32768, 32768, deflated_zeros(1 << 30), tile=32768, compression=8),
        "nan_scale.tif": tiff(64, 64, bytes(64 * 64), scale=(float("nan"), 120.0)),
        "huge_origin.tif": tiff(64, 64, bytes(64 * 64), origin=(1e308, 1e308)),
        "zero_scale.tif": tiff(64, 64, bytes(64 * 64), scale=(0.0, 0.0)),
        "fine.tif": tiff(64, 64, bytes(range(256)) * 16),  # the builder makes readable files
    }
    for name, data in bombs.items():
        path = folder / name
        path.write_bytes(data)
        families[name.removesuffix(".tif")] = [path]
    return families
