"""Reading a source band into a destination grid: rasterio/GDAL do the windowed read and warp.

GDAL/rasterio errors are translated here, once, at the raster boundary.
"""

from __future__ import annotations

import numpy as np
import rasterio
import rasterio.warp
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.errors import RasterioError

from openee.errors import InternalError
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels

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


def _overlaps(grid: PixelGrid, src_crs: str, src_bounds: tuple[float, float, float, float]) -> bool:
    """Whether the grid's bounding box, carried into the source CRS, meets the source bounds."""
    xmin, ymin, xmax, ymax = grid.bounds()
    if grid.crs != src_crs:
        transformer = Transformer.from_crs(grid.crs, src_crs, always_xy=True)
        try:
            xmin, ymin, xmax, ymax = transformer.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21)
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
        with rasterio.Env(**GDAL_ENV), rasterio.open(path) as src:
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
