"""Reading a source band into a destination grid: rasterio/GDAL do the windowed read and warp.

GDAL/rasterio errors are translated here, once, at the raster boundary.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import rasterio
import rasterio.io
import rasterio.warp
from affine import Affine
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError, RasterioIOError
from rasterio.windows import Window

from openee.errors import FailedPreconditionError, OpeneeError, UnavailableError
from openee.raster.gdal import gdal_env, open_raster
from openee.raster.grid import PixelGrid
from openee.raster.pixels import BoxedPixels, Pixels
from openee.raster.remote import is_remote
from openee.raster.remote_cache import failure_words, opener_for
from openee.raster.sampling import (
    SampleMap,
    SourceWindow,
    sample_map,
    sampled_box,
    transformer,
)

# rasterio wraps a destination array in a MEM dataset that has no transform for an instant and
# warns about it; the warning says nothing about the data. A process-wide filter, because
# warnings.catch_warnings is not thread-safe and chunks are read in threads.
warnings.filterwarnings("ignore", category=NotGeoreferencedWarning, module=r"rasterio\..*")

log = logging.getLogger("openee.raster")

RESAMPLING = {
    "nearest": Resampling.nearest,
    "bilinear": Resampling.bilinear,
    "bicubic": Resampling.cubic,
}

_OPEN_DATASETS = 256


@dataclass
class _Handle:
    dataset: rasterio.io.DatasetReader
    # What every read asks of the file before reading it, taken once at open (a file's
    # georeferencing and pyramid do not change while it is open): asking GDAL through rasterio
    # again cost ~0.15 ms a read (CRS to text, overview list).
    geometry: _Geometry
    factors: dict[int, tuple[int, ...]] = field(default_factory=dict)  # band -> its overviews
    lock: threading.Lock = field(default_factory=threading.Lock)


_handles: OrderedDict[tuple[str, int], _Handle] = OrderedDict()
_handles_lock = threading.Lock()
# One lock per file being opened: threads that want the same file at once wait for the one
# that opens it, instead of each opening it (for a file in object storage, each open is a
# request to the store).
_opening: dict[tuple[str, int], threading.Lock] = {}


def _cached(key: tuple[str, int]) -> _Handle | None:
    with _handles_lock:
        handle = _handles.get(key)
        if handle is not None:
            _handles.move_to_end(key)
        return handle


def _handle(path: str, overview: int) -> _Handle:
    key = (path, overview)
    handle = _cached(key)
    if handle is not None:
        return handle
    with _handles_lock:
        opening = _opening.setdefault(key, threading.Lock())
    with opening:
        try:
            handle = _cached(key)  # opened by the thread this one waited for
            if handle is not None:
                return handle
            # A file in object storage is opened by its GDAL name (`s3://` → `/vsis3/`, ...,
            # raster/gdal.py), the handle kept under the name the catalog gives: the second
            # read of it opens nothing.
            with gdal_env(path):
                dataset = open_raster(path, overview)
            opened = _Handle(dataset, _Geometry.of(dataset))
            with _handles_lock:
                handle = _handles[key] = opened
                evicted = (
                    _handles.popitem(last=False)[1] if len(_handles) > _OPEN_DATASETS else None
                )
        finally:
            with _handles_lock:
                if _opening.get(key) is opening:
                    del _opening[key]
    if evicted is not None:
        with evicted.lock:
            evicted.dataset.close()
    return handle


@contextmanager
def _open(path: str, overview: int = -1) -> Iterator[rasterio.io.DatasetReader]:
    """Exclusive use of the process's open dataset for `path` (at an overview level, if >= 0).

    One handle per file for the whole process, used by one thread at a time: GDAL's block
    cache belongs to the handle, so every chunk and request reads decoded blocks (decoding is
    the cost floor, JPEG2000 especially) instead of decoding them again in each thread. Reads of
    different files still run in parallel. See docs/decisions/0014.
    """
    while True:
        handle = _handle(path, overview)
        with handle.lock:
            if handle.dataset.closed:  # evicted between lookup and lock: open it again
                continue
            yield handle.dataset
            return


# Both pure functions of small hashable arguments, asked once per file read: cached because a
# composite reads many files on the same grid.
@lru_cache(maxsize=256)
def output_pixel_size(grid: PixelGrid, src_crs: str) -> float:
    """The side of an output pixel at the grid's centre, in source CRS units (area-equivalent)."""
    col, row = grid.width / 2, grid.height / 2
    points = [
        grid.transform @ (col, row),
        grid.transform @ (col + 1, row),
        grid.transform @ (col, row + 1),
    ]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    if grid.crs != src_crs:
        xs, ys = transformer(grid.crs, src_crs).transform(xs, ys)
    ax, ay = xs[1] - xs[0], ys[1] - ys[0]
    bx, by = xs[2] - xs[0], ys[2] - ys[0]
    return float(np.sqrt(abs(ax * by - ay * bx)))


def choose_overview(factors: Sequence[int], full: _Geometry, grid: PixelGrid) -> int:
    """The overview level (of the file whose full resolution is `full` and whose overview
    `factors` a band has) whose resolution is the finest one not finer than the output pixel
    (-1: full resolution), as Earth Engine reads its pyramids."""
    if not factors or full.crs is None:
        return -1
    try:
        out_size = output_pixel_size(grid, full.crs)
    except Exception:  # a grid the source CRS cannot express: read full resolution
        return -1
    src_size = float(np.sqrt(abs(full.transform.determinant)))
    if not np.isfinite(out_size) or src_size <= 0:
        return -1
    level = -1
    for i, factor in enumerate(factors):
        if factor * src_size <= out_size * (1 + 1e-9):
            level = i
    return level


@lru_cache(maxsize=1024)
def _overlaps(grid: PixelGrid, src_crs: str, src_bounds: tuple[float, float, float, float]) -> bool:
    """Whether the grid's bounding box, carried into the source CRS, meets the source bounds."""
    xmin, ymin, xmax, ymax = grid.bounds()
    if grid.crs != src_crs:
        try:
            xmin, ymin, xmax, ymax = transformer(grid.crs, src_crs).transform_bounds(
                xmin, ymin, xmax, ymax, densify_pts=21
            )
        except Exception:  # a projection that cannot hold the grid: let the warp decide
            return True
        if not all(np.isfinite([xmin, ymin, xmax, ymax])):
            return True
    sxmin, symin, sxmax, symax = src_bounds
    return xmin < sxmax and xmax > sxmin and ymin < symax and ymax > symin


@dataclass(frozen=True)
class _Geometry:
    """What a read needs to know of a dataset, taken while holding it."""

    crs: str | None
    transform: Affine
    width: int
    height: int
    bounds: tuple[float, float, float, float]

    @classmethod
    def of(cls, src: rasterio.io.DatasetReader) -> _Geometry:
        crs = src.crs.to_string() if src.crs else None
        return cls(crs, src.transform, src.width, src.height, tuple(src.bounds))


def read_into_grid(
    path: str,
    band_index: int,
    dtype: np.dtype,
    nodata: float | None,
    grid: PixelGrid,
    resampling: str = "nearest",
) -> Pixels:
    """Band `band_index` (1-based) of `path` on `grid`; pixels at nodata are masked.

    Nearest neighbour (the default) samples the source pixel that contains each output centre,
    exactly (raster/sampling.py), rather than by GDAL's warper: rasterio's warp uses an
    approximate transformer (0.125 px) whose error depends on the destination window, so a grid
    computed in chunks would differ from the same grid computed whole. Bilinear and bicubic use
    GDAL's warper. The source is read at the overview level that matches the grid; a grid much
    coarser than the finest level there is (a file without overviews) reads only the source
    pixels it takes, block by block (`read_pixels`). A dataset is held only while GDAL works on
    it; sampling maps are computed outside.
    """
    read = read_window(path, band_index, dtype, nodata, grid, resampling)
    return (read.pixels() if isinstance(read, SourceWindow) else read).full()


def read_window(
    path: str,
    band_index: int,
    dtype: np.dtype,
    nodata: float | None,
    grid: PixelGrid,
    resampling: str = "nearest",
) -> SourceWindow | BoxedPixels:
    """The decoded source window a nearest-neighbour read of `grid` samples, with its sample
    map (not gathered yet); the pixels themselves when nothing is to be gathered (no overlap,
    or bilinear and bicubic, which GDAL's warper computes)."""
    try:
        with gdal_env(path):
            level, geometry = _locate(path, band_index, grid)
            src_crs = geometry.crs or grid.crs
            if not _overlaps(grid, src_crs, geometry.bounds):
                return BoxedPixels.empty(grid.shape, dtype)
            if resampling != "nearest":
                with _open(path, level) as src:
                    return BoxedPixels.whole(
                        _warp_interpolated(src, band_index, dtype, nodata, grid, resampling)
                    )
            where = sample_map(grid, src_crs, geometry.transform, geometry.width, geometry.height)
            if where.window is None:
                return BoxedPixels.empty(grid.shape, dtype)
            if where.sparse:
                rows, cols, where = where.distinct
                with _open(path, level) as src:
                    values = read_pixels(src, band_index, rows, cols)
                return sampled_box(values, where, dtype, nodata)
            with _open(path, level) as src:
                block = src.read(band_index, window=where.window)
            return SourceWindow(where, block, dtype, nodata)
    except RasterioError as exc:
        raise _unreadable(path, exc) from exc


def read_pixels(
    src: rasterio.io.DatasetReader, band_index: int, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """The values of band `band_index` at the source pixels (rows[i], cols[i]), read one block
    (tile or strip) at a time, only the blocks that hold one of them, each as the smallest
    window around its pixels there.

    A grid far coarser than a file without overviews takes a few pixels from each of many
    blocks: reading the window that holds them all would decode and hold every full-resolution
    pixel between them (a 64 x 64 grid over a 20000 x 20000 file: 400 million pixels for 4096).
    Here memory is the pixels taken plus one block's window; GDAL decodes only blocks that hold a
    pixel taken (each once, through its block cache). Nearest sampling stays exact: the pixels
    are those the sample map names, gathered instead of cut from a window.
    """
    values = np.empty(rows.size, dtype=src.dtypes[band_index - 1])
    if rows.size == 0:
        return values
    block_height, block_width = src.block_shapes[band_index - 1]
    blocks_across = -(-src.width // block_width)
    block = (rows // block_height) * blocks_across + cols // block_width
    order = np.argsort(block, kind="stable")
    starts = np.flatnonzero(np.diff(block[order])) + 1
    for group in np.split(order, starts):
        r, c = rows[group], cols[group]
        r0, c0 = int(r.min()), int(c.min())
        window = Window(c0, r0, int(c.max()) + 1 - c0, int(r.max()) + 1 - r0)
        values[group] = src.read(band_index, window=window)[r - r0, c - c0]
    return values


def _unreadable(path: str, exc: RasterioError) -> OpeneeError:
    """The error of a failed read: the store's when a file in object storage could not be
    reached (503, the client may retry), the file's otherwise (400)."""
    if opener_for(path) is not None:  # read through the local-disk tier: its words
        exc = RasterioIOError(failure_words(exc))
    if is_remote(path) and _UNREACHABLE.search(str(exc)):
        return StoreUnavailableError(path, exc)
    if is_remote(path) and _NOT_FOUND.search(str(exc)):
        # /vsigs/ reports a missing object or bucket by the status alone (/vsis3/ with S3's
        # "The specified key does not exist."): said in words, as for S3.
        exc = RasterioIOError("The object does not exist in the store (HTTP 404).")
    return SourceUnreadableError(path, exc)


# GDAL's words for a store that did not answer (refused, timed out, reset) or answered 5xx.
_UNREACHABLE = re.compile(r"CURL error|HTTP response code: 5\d\d|timed out", re.IGNORECASE)
_NOT_FOUND = re.compile(r"HTTP response code: 404\b")


class StoreUnavailableError(UnavailableError):
    """The object store holding a source file did not answer within the bounded timeouts of
    raster/remote.py: the store's fault, not the data's, so a 503 the client may retry."""

    def __init__(self, path: str, exc: Exception) -> None:
        # GDAL's words name the store's host and port: for the operator's log, not the client.
        log.warning("object store unreachable for %s: %s", path, " ".join(str(exc).split()))
        super().__init__(
            f"Cannot reach the object store for '{os.path.basename(path)}': it did not answer"
            " (connection refused, timed out or a server error); try again later."
        )


class SourceUnreadableError(FailedPreconditionError):
    """A source file GDAL cannot read (damaged, truncated, not what its name says): the data's
    fault, not the server's, so a 400 naming the file (its name only: the server's directory
    layout is not the client's business)."""

    def __init__(self, path: str, exc: Exception) -> None:
        detail = " ".join(str(exc).split())[:200]
        super().__init__(
            f"Cannot read the source file '{os.path.basename(path)}': {detail or type(exc).__name__}"
        )


def _locate(path: str, band_index: int, grid: PixelGrid) -> tuple[int, _Geometry]:
    """The overview level a read of `grid` uses, and that level's geometry (opening the file,
    and that level, if they are not open)."""
    full = _handle(path, -1)
    factors = full.factors.get(band_index)
    if factors is None:
        with _open(path) as dataset:
            factors = tuple(dataset.overviews(band_index))
        full.factors[band_index] = factors
    level = choose_overview(factors, full.geometry, grid)
    if level < 0:
        return level, full.geometry
    return level, _handle(path, level).geometry


def plan_read(
    path: str, band_index: int, grid: PixelGrid, resampling: str = "nearest"
) -> SampleMap | None:
    """Prepare a later read_into_grid of the same arguments: open the file and compute its
    sample map (cached while referenced: the caller holds the returned map until the read),
    in the calling thread.

    A chunk plans its reads before handing them to the io threads, so the chunk threads compute
    the sample maps of different chunks in parallel, instead of io threads waiting for each
    other on the one map that all the files of a chunk share.
    """
    if resampling != "nearest":
        return None
    try:
        with gdal_env(path):
            _, geometry = _locate(path, band_index, grid)
            src_crs = geometry.crs or grid.crs
            if not _overlaps(grid, src_crs, geometry.bounds):
                return None
            return sample_map(grid, src_crs, geometry.transform, geometry.width, geometry.height)
    except RasterioError as exc:
        raise _unreadable(path, exc) from exc


def _warp_interpolated(
    src: rasterio.io.DatasetReader,
    band_index: int,
    dtype: np.dtype,
    nodata: float | None,
    grid: PixelGrid,
    resampling: str,
) -> Pixels:
    """Bilinear or bicubic interpolation by GDAL's warper; coverage from a warped mask."""
    data = np.zeros(grid.shape, dtype=dtype)
    coverage = np.zeros(grid.shape, dtype=np.uint8)
    common = {"dst_transform": grid.transform, "dst_crs": grid.crs}
    if nodata is not None:
        data.fill(nodata)
        rasterio.warp.reproject(
            source=rasterio.band(src, band_index),
            destination=data,
            src_nodata=nodata,
            dst_nodata=nodata,
            resampling=RESAMPLING[resampling],
            **common,
        )
        return Pixels(data, data != nodata)
    rasterio.warp.reproject(
        source=rasterio.band(src, band_index),
        destination=data,
        resampling=RESAMPLING[resampling],
        **common,
    )
    rasterio.warp.reproject(
        source=np.ones(src.shape, dtype=np.uint8),
        destination=coverage,
        src_transform=src.transform,
        src_crs=src.crs,
        src_nodata=0,
        dst_nodata=0,
        resampling=Resampling.nearest,
        **common,
    )
    return Pixels(data, coverage == 1)


def window_bytes(path: str, band_index: int, dtype: np.dtype, grid: PixelGrid) -> int:
    """The decoded bytes of band `band_index` of `path` that a read of `grid` covers: the
    source window (at the overview level the read uses) over the grid's bounding box carried
    into the source CRS, clipped to the source, times the pixel size. An estimate's figure:
    reads in chunks may decode blocks on chunk edges more than once."""
    try:
        with gdal_env(path):
            _, geometry = _locate(path, band_index, grid)
    except RasterioError as exc:
        raise _unreadable(path, exc) from exc
    xmin, ymin, xmax, ymax = grid.bounds()
    src_crs = geometry.crs or grid.crs
    if src_crs != grid.crs:
        try:
            xmin, ymin, xmax, ymax = transformer(grid.crs, src_crs).transform_bounds(
                xmin, ymin, xmax, ymax, densify_pts=21
            )
        except Exception:  # a projection that cannot hold the grid: count the whole source
            return geometry.width * geometry.height * dtype.itemsize
    inverse = ~geometry.transform
    corners = [inverse * (x, y) for x in (xmin, xmax) for y in (ymin, ymax)]
    cols = [c for c, _ in corners]
    rows = [r for _, r in corners]
    if not all(np.isfinite(cols + rows)):
        return geometry.width * geometry.height * dtype.itemsize
    col0 = max(0, int(np.floor(min(cols))))
    col1 = min(geometry.width, int(np.ceil(max(cols))))
    row0 = max(0, int(np.floor(min(rows))))
    row1 = min(geometry.height, int(np.ceil(max(rows))))
    return max(0, col1 - col0) * max(0, row1 - row0) * dtype.itemsize
