"""an image straight from a GeoTIFF file, confined to the server's data
roots (`openee.catalog.roots`), so an expression can read no file outside them."""

from __future__ import annotations

import rasterio
import shapely.geometry
from rasterio.errors import RasterioError

from openee.algorithms.context import current
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image
from openee.raster.remote import gdal_path, network_env
from openee.raster.sources import FileBand
from openee.values.geometry import Geometry
from openee.values.projection import Projection

GEOTIFF_DRIVERS = ("GTiff", "COG")


@algorithm("Image.loadGeoTIFF")
def load_geotiff(uri: str) -> Image:
    """Loads a GeoTIFF as an image with bands 'B0', 'B1', ...; the file must be inside the
    server's data roots (the data dir, the demo data, OPENEE_ALLOWED_ROOTS) and readable by the
    caller (its project's area, a shared root, or a file behind an asset it may read).

    Args:
        uri: The path of the GeoTIFF (absolute, or relative to the data dir), or an
            allow-listed URL.
    """
    path = current().check_file(uri)
    try:
        # A file in object storage (`s3://`) is read as GDAL names it, under bounded timeouts.
        with rasterio.Env(**network_env(path)), rasterio.open(gdal_path(path)) as ds:
            if ds.driver not in GEOTIFF_DRIVERS:
                raise InvalidArgumentError(f"'{uri}' is not a GeoTIFF (it is {ds.driver}).")
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
        raise InvalidArgumentError(f"cannot read '{uri}' as a GeoTIFF.") from None
    return Image(bands, footprint_geometry=footprint)
