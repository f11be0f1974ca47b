"""Image exports: an evaluated Image, its grid cut into files (fileDimensions) and chunks, the
chunks computed by the pixel engine's chunk function on the server's executor (threads, or Dask
tasks with OPENEE_DASK_SCHEDULER), each written into its file's window as it arrives.

A chunk is a pure function of (band sources, chunk grid), so a task retried on another Dask
worker gives the same bytes. Files are written in the operation's staging folder and handed to
`exports.py` for an atomic publish when all are complete; a ledger of finished windows lets an
export resume after a restart.

Earth Engine's conventions kept here: a single file is `<prefix>.tif`; files of a split image
are `<prefix>-<row offset>-<column offset>.tif`, both offsets in pixels of the whole image,
10 digits zero-padded (docs/decisions/0029); `maxPixels` defaults to 1e8 with Earth Engine's
message; masked pixels are written as `noData` (tagged as the files' nodata) or 0.

fileFormat NPY (the client's 'NPY' / 'NUMPY') writes one `<prefix>.npy` of the whole grid: the
structured (height, width) array of computePixels' NPY, a field per band in the band's own type,
0 where a band is masked (docs/decisions/0043).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.windows import Window

from openee.encode.npy import npy_header, structured_dtype
from openee.encode.tfrecord import TfRecordOptions
from openee.engine.chunks import compute_chunk
from openee.engine.executors import ChunkExecutor, ChunkFuture
from openee.errors import InvalidArgumentError, OpeneeError
from openee.raster.arrays import check_arrays
from openee.raster.grid import PixelGrid
from openee.raster.image import Image
from openee.raster.pixels import Pixels
from openee.raster.read import window_bytes
from openee.raster.sources import BandSource, FileBand, children
from openee.services.pixels import resolve_grid

DEFAULT_MAX_PIXELS = 100_000_000
DEFAULT_TILE_SIZE = 256
# Without fileDimensions, files are at most this many pixels a side (openee's choice, so that a
# file of a few float bands stays a size GDAL and most tools handle comfortably).
DEFAULT_FILE_SIDE = 32768
IMAGE_FORMATS = {"GEO_TIFF": ".tif", "NPY": ".npy"}
# NPY exports are one file of the whole grid (NPY has no georeferencing to place shards by).
ONE_FILE = (2**31 - 1, 2**31 - 1)


@dataclass(frozen=True)
class ImageOptions:
    """What an ExportImageRequest asks of the files (parsed once, at the request)."""

    file_format: str = "GEO_TIFF"
    cloud_optimized: bool = False
    no_data: float | None = None
    file_dimensions: tuple[int, int] | None = None  # (width, height)
    tile_size: int = DEFAULT_TILE_SIZE
    skip_empty: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    # Asset exports: one file whose last band is the image's mask (0 = masked), overviews
    # resampled by the pyramiding policy.
    mask_band: bool = False
    overview_resampling: str = "nearest"
    # TF_RECORD_IMAGE exports (export_tfrecord.py): patches, margins, compression, file size.
    tfrecord: TfRecordOptions | None = None


# -- the grid -----------------------------------------------------------------------------------


def export_grid(image: Image) -> PixelGrid:
    """The grid the expression gives: the one Image.clipToBoundsAndScale / reproject set, else
    the image's native grid cropped to its footprint (an Image.clip's geometry)."""
    try:
        grid = resolve_grid(image, None)
    except InvalidArgumentError:
        raise InvalidArgumentError(
            "Unable to export an image without a single native grid (e.g. a composite): give "
            "a region with a scale or dimensions, or a crs and crsTransform."
        ) from None
    footprint = image.footprint_geometry
    if footprint is None:
        return grid
    shape = footprint.transformed(grid.crs)
    if shape.is_empty:
        return grid
    inverse = ~grid.transform
    xmin, ymin, xmax, ymax = shape.bounds
    corners = [inverse @ (x, y) for x in (xmin, xmax) for y in (ymin, ymax)]
    cols = [c for c, _ in corners]
    rows = [r for _, r in corners]
    col0 = max(0, math.floor(min(cols) + 1e-9))
    row0 = max(0, math.floor(min(rows) + 1e-9))
    col1 = min(grid.width, math.ceil(max(cols) - 1e-9))
    row1 = min(grid.height, math.ceil(max(rows) - 1e-9))
    if col1 <= col0 or row1 <= row0:
        return grid
    return grid.subgrid(row0, col0, row1 - row0, col1 - col0)


def check_max_pixels(grid: PixelGrid, max_pixels: int) -> None:
    count = grid.width * grid.height
    if count > max_pixels:
        raise InvalidArgumentError(
            f"Export too large: specified {count} pixels (max: {max_pixels}). Specify higher "
            "maxPixels value if you intend to export a large area."
        )


@dataclass(frozen=True)
class FilePart:
    """One output file: its name suffix and where it sits in the whole grid."""

    suffix: str
    row: int
    col: int
    grid: PixelGrid


def file_parts(grid: PixelGrid, dims: tuple[int, int] | None, extension: str) -> list[FilePart]:
    """The files of an export, row-major: one `<prefix><ext>` or Earth Engine's shard names."""
    width, height = dims or (DEFAULT_FILE_SIDE, DEFAULT_FILE_SIDE)
    if grid.width <= width and grid.height <= height:
        return [FilePart(extension, 0, 0, grid)]
    parts = []
    for row in range(0, grid.height, height):
        for col in range(0, grid.width, width):
            h, w = min(height, grid.height - row), min(width, grid.width - col)
            parts.append(
                FilePart(
                    f"-{row:010d}-{col:010d}{extension}", row, col, grid.subgrid(row, col, h, w)
                )
            )
    return parts


def export_dtype(sources: Sequence[BandSource]) -> np.dtype:
    """One pixel type for all bands (GeoTIFF has one): the smallest that holds them all."""
    dtype = np.result_type(*[np.dtype(s.dtype) for s in sources])
    if dtype == np.bool_:
        return np.dtype(np.uint8)
    if dtype in (np.int64, np.uint64):
        return np.dtype(np.float64)
    return np.dtype(dtype)


# -- execution ----------------------------------------------------------------------------------


def timed_chunk(sources: tuple[BandSource, ...], grid: PixelGrid) -> tuple[list[Pixels], float]:
    """The chunk function with the CPU seconds its thread spent (the operation's usage)."""
    start = time.thread_time()
    pixels = compute_chunk(sources, grid)
    return pixels, time.thread_time() - start


@dataclass(frozen=True)
class ChunkWindow:
    part: int
    row: int  # in the file
    col: int
    grid: PixelGrid


def export_chunk_size(chunk_size: int, opts: ImageOptions) -> int:
    """The server's chunk size rounded to whole GeoTIFF tiles (at least one), so that each
    compressed tile is written once, by one window."""
    return max(opts.tile_size, chunk_size // opts.tile_size * opts.tile_size)


def windows(parts: Sequence[FilePart], chunk_size: int) -> list[ChunkWindow]:
    """Every chunk of every file, file by file: chunks align with the file's origin."""
    return [
        ChunkWindow(i, row, col, sub)
        for i, part in enumerate(parts)
        for row, col, sub in part.grid.chunks(chunk_size)
    ]


@dataclass
class Progress:
    """What the operation reports while it runs."""

    done: int
    total: int
    cpu_seconds: float = 0.0
    resumed: int = 0  # windows finished before a restart


Report = Callable[[Progress], None]


class _FileWriter:
    """One staged GeoTIFF filled window by window. Each window is written by opening the file,
    writing and closing it, so a finished window is on disk (and in the ledger) even if the
    process is killed: a resumed export continues the same file."""

    def __init__(
        self, path: Path, part: FilePart, names: Sequence[str], dtype: np.dtype, opts: ImageOptions
    ) -> None:
        self.path = path
        self.fill = opts.no_data if opts.no_data is not None else 0
        self.dtype = dtype
        self.mask_band = len(names) + 1 if opts.mask_band else None
        if path.exists():
            return  # a resumed export: the windows in the ledger are in it
        tiled = part.grid.width >= opts.tile_size and part.grid.height >= opts.tile_size
        profile: dict[str, Any] = {
            "driver": "GTiff",
            "width": part.grid.width,
            "height": part.grid.height,
            "count": len(names) + (1 if opts.mask_band else 0),
            "dtype": dtype.name,
            "crs": part.grid.crs,
            "transform": part.grid.transform,
            "compress": "deflate",
            "tiled": tiled,
            "BIGTIFF": "IF_SAFER",
        }
        if tiled:
            profile.update(blockxsize=opts.tile_size, blockysize=opts.tile_size)
        if opts.no_data is not None:
            profile["nodata"] = opts.no_data
        with rasterio.open(path, "w", **profile) as dataset:
            for i, name in enumerate(names, start=1):
                dataset.set_band_description(i, name)

    def write(self, window: ChunkWindow, pixels: Sequence[Pixels]) -> bool:
        """Writes a window; whether it holds a valid pixel."""
        win = Window(window.col, window.row, window.grid.width, window.grid.height)
        any_valid = False
        with rasterio.open(self.path, "r+") as dataset:
            for i, band in enumerate(pixels, start=1):
                any_valid = any_valid or bool(band.valid.any())
                values = np.where(band.valid, band.data, self.fill).astype(self.dtype, copy=False)
                dataset.write(values, i, window=win)
            if self.mask_band is not None:
                valid = np.logical_and.reduce([band.valid for band in pixels])
                dataset.write(valid.astype(self.dtype), self.mask_band, window=win)
        return any_valid


class _NpyWriter:
    """One staged NPY file of the structured array, filled window by window like `_FileWriter`
    (each window opened, written and closed): the header first, then rows of pixels, 0 where a
    band is masked."""

    def __init__(
        self, path: Path, part: FilePart, names: Sequence[str], dtypes: Sequence[np.dtype]
    ) -> None:
        self.path = path
        self.dtype = structured_dtype(names, dtypes)
        self.shape = (part.grid.height, part.grid.width)
        header = npy_header(self.dtype, self.shape)
        self.offset = len(header)
        if path.exists():
            return  # a resumed export: the windows in the ledger are in it
        with open(path, "wb") as f:
            f.write(header)
            f.truncate(self.offset + self.dtype.itemsize * self.shape[0] * self.shape[1])

    def write(self, window: ChunkWindow, pixels: Sequence[Pixels]) -> bool:
        """Writes a window; whether it holds a valid pixel."""
        array = np.memmap(self.path, self.dtype, "r+", self.offset, self.shape)
        rows = slice(window.row, window.row + window.grid.height)
        cols = slice(window.col, window.col + window.grid.width)
        any_valid = False
        for name, band in zip(self.dtype.names or (), pixels, strict=True):
            any_valid = any_valid or bool(band.valid.any())
            array[name][rows, cols] = np.where(band.valid, band.data, 0)
        array.flush()
        del array
        return any_valid


def band_dtypes(sources: Sequence[BandSource]) -> list[np.dtype]:
    """Each band's own pixel type: an NPY field per band, as computePixels' NPY has."""
    return [np.dtype(s.dtype) for s in sources]


class Ledger:
    """The finished windows of an export, in its staging folder: what a resumed export skips.

    `windows.log` holds one line per finished window (its index and whether it had a valid
    pixel), appended after the window is in its file; `plan.json` identifies the cut (grid,
    files, chunk size), so a ledger made for another cut is discarded with its files.
    """

    def __init__(self, staging: Path, plan: dict[str, Any]) -> None:
        self.path = staging / "windows.log"
        plan_path = staging / "plan.json"
        text = json.dumps(plan, sort_keys=True)
        self.done: dict[int, bool] = {}
        if plan_path.exists() and plan_path.read_text() == text and self.path.exists():
            for line in self.path.read_text().splitlines():
                index, _, valid = line.partition(" ")
                if valid in ("0", "1"):  # a torn last line is ignored: the window is redone
                    self.done[int(index)] = valid == "1"
        else:
            for stale in staging.glob("part-*"):
                stale.unlink()
            self.path.unlink(missing_ok=True)
            plan_path.write_text(text)

    def record(self, index: int, valid: bool) -> None:
        with open(self.path, "a") as f:
            f.write(f"{index} {int(valid)}\n")
        self.done[index] = valid


def write_image_files(
    image: Image,
    opts: ImageOptions,
    staging: Path,
    executor: ChunkExecutor,
    chunk_size: int,
    check: Callable[[], None],
    report: Report,
    max_in_flight: int = 4,
) -> list[tuple[Path, str]]:
    """Computes every file of the export into `staging`; returns (staged path, suffix) of the
    files to publish. `check` raises to stop (a cancel); it is called between chunks. Windows
    that the staging folder's ledger lists as finished (an export resumed after a restart) are
    not computed again."""
    if not image.bands:
        raise InvalidArgumentError("The image has no bands to export.")
    sources = tuple(b.source for b in image.bands)
    check_arrays(list(sources))
    if any(s.rank for s in sources):
        raise InvalidArgumentError(
            "Array-valued bands cannot be exported as GeoTIFF: arrayFlatten() them first."
        )
    grid = export_grid(image)
    check_max_pixels(grid, opts.max_pixels)
    extension = IMAGE_FORMATS[opts.file_format]
    parts = file_parts(grid, opts.file_dimensions, extension)
    dtype = export_dtype(sources)
    types = band_dtypes(sources) if opts.file_format == "NPY" else [dtype]
    chunk_size = export_chunk_size(chunk_size, opts)
    work = windows(parts, chunk_size)
    staging.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(
        staging,
        {
            "grid": grid_info(grid),
            "files": len(parts),
            "chunk": chunk_size,
            "dtype": ",".join(t.str for t in types),
            "format": opts.file_format,
        },
    )
    progress = Progress(len(ledger.done), len(work), resumed=len(ledger.done))
    report(progress)
    writers: dict[int, _FileWriter | _NpyWriter] = {}
    remaining = {i: 0 for i in range(len(parts))}
    for index, window in enumerate(work):
        if index not in ledger.done:
            remaining[window.part] += 1
    pending: deque[tuple[ChunkFuture, int, ChunkWindow]] = deque()

    def drain() -> None:
        future, index, window = pending.popleft()
        pixels, cpu = future.result()
        writer = writers.get(window.part)
        if writer is None:
            path = staging / f"part-{window.part:06d}{extension}"
            part = parts[window.part]
            writer = writers[window.part] = (
                _NpyWriter(path, part, image.band_names, types)
                if opts.file_format == "NPY"
                else _FileWriter(path, part, image.band_names, dtype, opts)
            )
        ledger.record(index, writer.write(window, pixels))
        progress.done += 1
        progress.cpu_seconds += cpu
        remaining[window.part] -= 1
        if remaining[window.part] == 0:
            del writers[window.part]
            _finish(writer.path, opts)
        report(progress)
        check()

    try:
        for index, window in enumerate(work):
            if index in ledger.done:
                continue
            if len(pending) >= max_in_flight:
                drain()
            pending.append((executor.submit(timed_chunk, sources, window.grid), index, window))
        while pending:
            drain()
    finally:
        for future, *_ in pending:
            future.cancel()
    kept = []
    for i, part in enumerate(parts):
        path = staging / f"part-{i:06d}{extension}"
        if opts.skip_empty and not any(ledger.done[k] for k, w in enumerate(work) if w.part == i):
            continue
        final = _finish(
            path, opts
        )  # a no-op unless a restart came between a file's end and its COG
        kept.append((final, part.suffix))
    return kept


def _finish(path: Path, opts: ImageOptions) -> Path:
    """The file as published: a Cloud Optimized GeoTIFF (with overviews) when asked, made
    under a temporary name and renamed, so an existing `.cog.tif` is always complete."""
    if not opts.cloud_optimized:
        return path
    cog = path.with_suffix(".cog.tif")
    if cog.exists():
        path.unlink(missing_ok=True)
        return cog
    partial = path.with_suffix(".cog.partial.tif")
    try:
        rasterio.shutil.copy(
            path,
            partial,
            driver="COG",
            compress="DEFLATE",
            blocksize=opts.tile_size,
            overviews="AUTO",
            overview_resampling=opts.overview_resampling,
            BIGTIFF="IF_SAFER",
        )
    except rasterio.errors.RasterioError as exc:
        raise OpeneeError(f"Writing a Cloud Optimized GeoTIFF failed: {exc}") from None
    os.replace(partial, cog)
    path.unlink()
    return cog


def grid_info(grid: PixelGrid) -> dict[str, Any]:
    t = grid.transform
    return {
        "crs": grid.crs,
        "transform": [t.a, t.b, t.c, t.d, t.e, t.f],
        "dimensions": {"width": grid.width, "height": grid.height},
    }


def estimate(image: Image, opts: ImageOptions, chunk_size: int) -> dict[str, Any]:
    """The size of an export before it runs: grid, files, pixels, chunks, output bytes (as
    uncompressed pixels), and the decoded bytes of the source windows it reads."""
    grid = export_grid(image)
    sources = [b.source for b in image.bands]
    parts = file_parts(grid, opts.file_dimensions, IMAGE_FORMATS[opts.file_format])
    dtype = export_dtype(sources) if sources else np.dtype(np.uint8)
    if opts.file_format == "NPY":
        itemsize = sum(t.itemsize for t in band_dtypes(sources))
    else:
        itemsize = dtype.itemsize * len(sources)
    pixels = grid.width * grid.height
    reads = source_reads(sources)
    return {
        "grid": grid_info(grid),
        "files": len(parts),
        "pixels": pixels,
        "bands": len(sources),
        "dtype": dtype.name,
        "uncompressedBytes": pixels * itemsize,
        "chunks": len(windows(parts, export_chunk_size(chunk_size, opts))),
        "sourceFiles": len({band.path for band in reads}),
        "sourceBytes": sum(window_bytes(band.path, band.index, band.dtype, grid) for band in reads),
    }


def source_reads(sources: Sequence[BandSource]) -> list[FileBand]:
    """Every distinct file band under the recipes (each read once by the export)."""
    seen: dict[tuple[str, int], FileBand] = {}
    visited: set[int] = set()  # recipes shared by several bands are walked once
    stack = list(sources)
    while stack:
        source = stack.pop()
        if id(source) in visited:
            continue
        visited.add(id(source))
        if isinstance(source, FileBand):
            seen.setdefault((source.path, source.index), source)
        stack.extend(children(source))
    return list(seen.values())
