"""an image straight from a GeoTIFF file, confined to the server's data
roots (`openee.catalog.roots`), so an expression can read no file outside them."""

from __future__ import annotations

import rasterio
import rasterio.io
import shapely.geometry
from rasterio._path import _parse_path
from rasterio.errors import RasterioError

from openee.algorithms.context import current
from openee.algorithms.registry import algorithm
from openee.catalog.urls import resolve_url
from openee.errors import InvalidArgumentError
from openee.raster.gdal import check_dataset, check_sidecars, gdal_env
from openee.raster.image import Band, Image
from openee.raster.remote import gdal_path
from openee.raster.sources import FileBand
from openee.values.geometry import Geometry
from openee.values.projection import Projection


@algorithm("Image.loadGeoTIFF")
def load_geotiff(uri: str) -> Image:
    """Loads a GeoTIFF as an image with bands 'B0', 'B1', ...; the file must be inside the
    server's data roots (the data dir, the demo data, OPENEE_ALLOWED_ROOTS) and readable by the
    caller (its project's area, a shared root, or a file behind an asset it may read).

    Args:
        uri: The path of the GeoTIFF (absolute, or relative to the data dir), or an
            allow-listed URL.
    """
    ctx = current()
    path = resolve_url(ctx.check_file(uri), ctx.file_roots)  # the caller's file, no redirect out
    try:
        # Pinned to the GeoTIFF driver at open: another driver may follow links as it opens.
        # A file in object storage (`s3://`, `gs://`) is opened as GDAL names it (`/vsis3/`,
        # `/vsigs/`), under the bounded network options `gdal_env` gives it.
        with gdal_env(path):
            check_sidecars(path)
            ds = rasterio.io.DatasetReader(_parse_path(gdal_path(path)), driver=["GTiff"])
        with ds:
            check_dataset(ds, path)
            if ds.crs is None:
                raise InvalidArgumentError(f"'{uri}' has no CRS.")
            crs = ds.crs.to_string()
            transform = tuple(ds.transform)[:6]
            projection = Projection.of(crs, transform)
            bands = tuple(
                Band(
                    f"B{i}",
                    FileBand(path, i + 1, ds.dtypes[i], ds.nodatavals[i]),
                    projection,
                    (ds.width, ds.height),
                )
                for i in range(ds.count)
            )
            footprint = Geometry(shapely.geometry.box(*ds.bounds), crs).to_wgs84()
    except RasterioError:
        raise InvalidArgumentError(
            f"cannot read '{uri}': it is not a GeoTIFF, or it is damaged."
        ) from None
    return Image(bands, footprint_geometry=footprint)
