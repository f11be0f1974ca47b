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
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from openee.errors import InternalError
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels

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


def _open(path: str) -> rasterio.io.DatasetReader:
    """An open dataset for `path`, kept per thread (datasets are not thread-safe).

    Keeping datasets open lets GDAL's block cache serve repeated reads of the same source from
    decoded blocks: decoding (JPEG2000 especially) is the cost floor, and neighbouring chunks of
    one request read the same source blocks.
    """
    cache: OrderedDict[str, rasterio.io.DatasetReader] | None = getattr(_local, "datasets", None)
    if cache is None:
        cache = _local.datasets = OrderedDict()
    dataset = cache.get(path)
    if dataset is not None:
        cache.move_to_end(path)
        return dataset
    with rasterio.Env(**GDAL_ENV):
        dataset = rasterio.open(path)
    cache[path] = dataset
    if len(cache) > _OPEN_PER_THREAD:
        cache.popitem(last=False)[1].close()
    return dataset


def _overlaps(grid: PixelGrid, src_crs: str, src_bounds: tuple[float, float, float, float]) -> bool:
    """Whether the grid's bounding box, carried into the source CRS, meets the source bounds."""
    xmin, ymin, xmax, ymax = grid.bounds()
    if grid.crs != src_crs:
        transformer = Transformer.from_crs(grid.crs, src_crs, always_xy=True)
        try:
            xmin, ymin, xmax, ymax = transformer.transform_bounds(
                xmin, ymin, xmax, ymax, densify_pts=21
            )
        except Exception:  # a projection that cannot hold the grid: let the warp decide
            return True
        if not all(np.isfinite([xmin, ymin, xmax, ymax])):
            return True
    sxmin, symin, sxmax, symax = src_bounds
    return xmin < sxmax and xmax > sxmin and ymin < symax and ymax > symin


def read_into_grid(
    path: str,
    band_index: int,
    dtype: np.dtype,
    nodata: float | None,
    grid: PixelGrid,
    resampling: str = "nearest",
) -> Pixels:
    """Warp band `band_index` (1-based) of `path` into `grid`; pixels at nodata are masked."""
    try:
        src = _open(path)
        with rasterio.Env(**GDAL_ENV):
            src_crs = src.crs.to_string() if src.crs else grid.crs
            if not _overlaps(grid, src_crs, tuple(src.bounds)):
                return Pixels.empty(grid.shape, dtype)
            data = np.zeros(grid.shape, dtype=dtype)
            if nodata is not None:
                data.fill(nodata)
                rasterio.warp.reproject(
                    source=rasterio.band(src, band_index),
                    destination=data,
                    dst_transform=grid.transform,
                    dst_crs=grid.crs,
                    src_nodata=nodata,
                    dst_nodata=nodata,
                    resampling=RESAMPLING[resampling],
                )
                valid = data != nodata
            else:
                # No nodata value: coverage comes from warping a mask of ones alongside.
                coverage = np.zeros(grid.shape, dtype=np.uint8)
                rasterio.warp.reproject(
                    source=rasterio.band(src, band_index),
                    destination=data,
                    dst_transform=grid.transform,
                    dst_crs=grid.crs,
                    resampling=RESAMPLING[resampling],
                )
                ones = np.ones(src.shape, dtype=np.uint8)
                rasterio.warp.reproject(
                    source=ones,
                    destination=coverage,
                    src_transform=src.transform,
                    src_crs=src.crs,
                    src_nodata=0,
                    dst_transform=grid.transform,
                    dst_crs=grid.crs,
                    dst_nodata=0,
                    resampling=Resampling.nearest,
                )
                valid = coverage == 1
    except RasterioError as exc:
        raise InternalError(f"Failed to read source pixels: {type(exc).__name__}") from exc
    return Pixels(data, valid)
