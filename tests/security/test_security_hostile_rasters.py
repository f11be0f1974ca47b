"""A hostile-raster corpus generated here (issue 16, items 12-14): byte mutations and truncations
of a small tiled DEFLATE GeoTIFF, and hand-built TIFFs (2^31 x 2^31 pixels declared in a file of
a few hundred bytes, one 32768 x 32768 DEFLATE tile of 1 GiB in 1 MB, NaN and 1e308
georeferencing). Every one goes through `ingest`, image:import, :getPixels and loadGeoTIFF:
ingest reports it or ingests it (never raises), and every HTTP answer is a 2xx or a 4xx."""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
from security_kit import Api, failed, succeeded

from openee.catalog.ingest import ingest
from openee.catalog.sqlite import SqliteCatalog

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


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("corpus")
    base = base_tif(folder / "base.tif").read_bytes()
    rng = random.Random(16)
    files = []
    for i in range(24):  # byte mutations: the header and tag area mostly, the data sometimes
        data = bytearray(base)
        for _ in range(rng.choice([1, 4, 16])):
            at = rng.randrange(8, 600) if rng.random() < 0.8 else rng.randrange(len(data))
            data[at] = rng.randrange(256)
        files.append(folder / f"mutant{i:02}.tif")
        files[-1].write_bytes(bytes(data))
    for i, keep in enumerate((16, 200, len(base) // 2, len(base) - 7)):  # truncations
        files.append(folder / f"cut{i}.tif")
        files[-1].write_bytes(base[:keep])
    bombs = {
        "declared_2e31.tif": tiff(2**31, 2**31, b"\0" * 64),
        "tile_32768.tif": tiff(32768, 32768, deflated_zeros(1 << 30), tile=32768, compression=8),
        "nan_scale.tif": tiff(64, 64, bytes(64 * 64), scale=(float("nan"), 120.0)),
        "huge_origin.tif": tiff(64, 64, bytes(64 * 64), origin=(1e308, 1e308)),
        "zero_scale.tif": tiff(64, 64, bytes(64 * 64), scale=(0.0, 0.0)),
        "fine.tif": tiff(64, 64, bytes(range(256)) * 16),  # the builder makes readable files
    }
    for name, data in bombs.items():
        files.append(folder / name)
        files[-1].write_bytes(data)
    return files


def test_ingest_reports_or_ingests_every_file_of_the_corpus(
    corpus: list[Path], tmp_path: Path
) -> None:
    store = SqliteCatalog(tmp_path / "c.sqlite")
    report = ingest(store, [corpus[0].parent], "CORPUS")  # never raises
    failed_names = {Path(f).name for f, _ in report.failed}
    for name in ("declared_2e31.tif", "tile_32768.tif", "nan_scale.tif", "huge_origin.tif"):
        assert name in failed_names
    assert all("\n" not in why for _, why in report.failed)
    assert report.images + len(report.failed) == len(corpus) + 1  # base.tif too
    assert store.get("projects/earthengine-public/assets/CORPUS/fine") is not None


def test_import_and_reads_of_the_corpus_answer_2xx_or_4xx(api: Api, corpus: list[Path]) -> None:
    folder = api.area / "corpus"
    folder.mkdir(parents=True)
    refused = set()
    for path in corpus:
        copy = folder / path.name
        copy.write_bytes(path.read_bytes())
        name = f"corpus_{path.stem}"
        answer = api.import_image(name, [str(copy)])
        if succeeded(answer):
            for scale in (120.0, 960.0):
                assert api.get_pixels(name, scale=scale, size=64).status_code < 500
        else:
            assert failed(answer)
            refused.add(path.name)
        assert api.load_geotiff(str(copy)).status_code < 500
    assert {"declared_2e31.tif", "tile_32768.tif", "nan_scale.tif"} <= refused
    assert "fine.tif" not in refused
