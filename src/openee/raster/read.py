"""Reading a source band into a destination grid: rasterio/GDAL do the windowed read and warp.

GDAL/rasterio errors are translated here, once, at the raster boundary.
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict

import numpy as np
import rasterio
import rasterio.io
import rasterio.warp
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from openee.errors import InternalError
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sampling import sample_map, transformer

# rasterio wraps a destination array in a MEM dataset that has no transform for an instant and
# warns about it; the warning says nothing about the data. A process-wide filter, because
# warnings.catch_warnings is not thread-safe and chunks are read in threads.
warnings.filterwarnings("ignore", category=NotGeoreferencedWarning, module=r"rasterio\..*")

RESAMPLING = {
    "nearest": Resampling.nearest,
    "bilinear": Resampling.bilinear,
    "bicubic": Resampling.cubic,
}

# GDAL configuration for every read: never touch the network, never list sibling files.
GDAL_ENV = {
    # TRUE (not EMPTY_DIR): no directory listing, but sidecars such as .aux.xml are still probed.
    "GDAL_DISABLE_READDIR_ON_OPEN": "TRUE",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_PAM_ENABLED": "YES",
}


_OPEN_PER_THREAD = 64
_local = threading.local()


def _open(path: str, overview: int = -1) -> rasterio.io.DatasetReader:
    """An open dataset for `path` (at an overview level, if >= 0), kept per thread.

    Datasets are not thread-safe, hence per thread. Keeping them open lets GDAL's block cache
    serve repeated reads of the same source from decoded blocks: decoding (JPEG2000 especially)
    is the cost floor, and neighbouring chunks of one request read the same source blocks.
    """
    cache: OrderedDict[tuple[str, int], rasterio.io.DatasetReader] | None = getattr(
        _local, "datasets", None
    )
    if cache is None:
        cache = _local.datasets = OrderedDict()
    key = (path, overview)
    dataset = cache.get(key)
    if dataset is not None:
        cache.move_to_end(key)
        return dataset
    with rasterio.Env(**GDAL_ENV):
        dataset = (
            rasterio.open(path, overview_level=overview) if overview >= 0 else rasterio.open(path)
        )
    cache[key] = dataset
    if len(cache) > _OPEN_PER_THREAD:
        cache.popitem(last=False)[1].close()
    return dataset


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


def choose_overview(src: rasterio.io.DatasetReader, band_index: int, grid: PixelGrid) -> int:
    """The overview level whose resolution is the finest one not finer than the output pixel
    (-1: full resolution), as Earth Engine reads its pyramids."""
    factors = src.overviews(band_index)
    if not factors or src.crs is None:
        return -1
    try:
        out_size = output_pixel_size(grid, src.crs.to_string())
    except Exception:  # a grid the source CRS cannot express: read full resolution
        return -1
    src_size = float(np.sqrt(abs(src.transform.determinant)))
    if not np.isfinite(out_size) or src_size <= 0:
        return -1
    level = -1
    for i, factor in enumerate(factors):
        if factor * src_size <= out_size * (1 + 1e-9):
            level = i
    return level


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


def _read_nearest(
    src: rasterio.io.DatasetReader,
    band_index: int,
    dtype: np.dtype,
    nodata: float | None,
    grid: PixelGrid,
    src_crs: str,
) -> Pixels:
    """Nearest neighbour as Earth Engine defines it: each output pixel takes the source pixel
    that contains its centre, found by transforming the centre exactly.

    Done here rather than by GDAL's warper because rasterio's warp uses an approximate
    transformer (0.125 px) whose error depends on the destination window, so a grid computed
    in chunks would differ from the same grid computed whole.
    """
    where = sample_map(grid, src_crs, src.transform, src.width, src.height)
    if where.window is None:
        return Pixels.empty(grid.shape, dtype)
    block = src.read(band_index, window=where.window)
    values = block.ravel().take(where.flat).astype(dtype, copy=False)
    if where.all_inside:
        data = values.reshape(grid.shape)
        valid = data != nodata if nodata is not None else np.ones(grid.shape, dtype=bool)
        return Pixels(data, valid)
    data = np.zeros(grid.shape, dtype=dtype)
    data[where.inside] = values
    valid = where.inside.copy()
    if nodata is not None:
        valid[where.inside] = values != nodata
    return Pixels(data, valid)


def read_into_grid(
    path: str,
    band_index: int,
    dtype: np.dtype,
    nodata: float | None,
    grid: PixelGrid,
    resampling: str = "nearest",
) -> Pixels:
    """Band `band_index` (1-based) of `path` on `grid`; pixels at nodata are masked.

    Nearest neighbour (the default) samples the containing source pixel exactly; bilinear and
    bicubic use GDAL's warper. The source is read at the overview level that matches the grid.
    """
    try:
        full = _open(path)
        level = choose_overview(full, band_index, grid)
        src = _open(path, level) if level >= 0 else full
        with rasterio.Env(**GDAL_ENV):
            src_crs = src.crs.to_string() if src.crs else grid.crs
            if not _overlaps(grid, src_crs, tuple(src.bounds)):
                return Pixels.empty(grid.shape, dtype)
            if resampling == "nearest":
                return _read_nearest(src, band_index, dtype, nodata, grid, src_crs)
            return _warp_interpolated(src, band_index, dtype, nodata, grid, resampling)
    except RasterioError as exc:
        raise InternalError(f"Failed to read source pixels: {type(exc).__name__}") from exc


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
