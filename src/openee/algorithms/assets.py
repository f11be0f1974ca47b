"""Stored assets as values: catalog records become lazy Images and ImageCollections, and
TABLE assets FeatureCollections."""

from __future__ import annotations

import shapely.geometry

from openee.algorithms.context import current
from openee.algorithms.registry import algorithm
from openee.catalog.model import IMAGE, IMAGE_COLLECTION, TABLE, AssetRecord
from openee.catalog.names import name_from_id
from openee.catalog.store import CatalogStore, ImageQuery
from openee.errors import AssetNotFoundError, InvalidArgumentError
from openee.raster.image import Band, Image, ImageCollection
from openee.raster.sources import FileBand
from openee.values.feature import Feature, FeatureCollection
from openee.values.filter import DateRangeFilter, Filter, IntersectsFilter
from openee.values.geometry import Geometry
from openee.values.projection import Projection


def image_from_record(record: AssetRecord) -> Image:
    bands = tuple(
        Band(
            name=b.id,
            source=FileBand(b.path, b.index, b.dtype, b.nodata),
            projection=Projection(b.crs, b.transform),
            dimensions=(b.width, b.height),
        )
        for b in record.bands
    )
    props = dict(record.properties)
    props.setdefault("system:index", record.index)
    if record.footprint and "system:footprint" in props:
        props["system:footprint"] = Geometry.from_geojson(record.footprint)
    footprint = Geometry.from_geojson(record.footprint) if record.footprint else None
    return Image(bands, props, id=record.id, footprint_geometry=footprint)


def load_image(asset_id: str) -> Image:
    record = current().catalog.get(name_from_id(asset_id))
    if record is None:
        raise AssetNotFoundError(asset_id)
    if record.type != IMAGE:
        raise InvalidArgumentError(f"Asset '{asset_id}' is not an Image (it is {record.type}).")
    return image_from_record(record)


def load_collection(asset_id: str) -> ImageCollection:
    catalog = current().catalog
    name = name_from_id(asset_id)
    record = catalog.get(name)
    if record is None:
        raise AssetNotFoundError(asset_id)
    if record.type != IMAGE_COLLECTION:
        raise InvalidArgumentError(
            f"Asset '{asset_id}' is not an ImageCollection (it is {record.type})."
        )

    def fetch(filters: tuple[Filter, ...]) -> list[Image]:
        return _fetch(catalog, name, filters)

    return ImageCollection(id=record.id, fetch=fetch, properties=dict(record.properties))


def _fetch(catalog: CatalogStore, name: str, filters: tuple[Filter, ...]) -> list[Image]:
    """Push what the store can answer (time range, bounding box) into its query; apply every
    filter exactly afterwards."""
    start: int | None = None
    end: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    for flt in filters:
        if isinstance(flt, DateRangeFilter) and flt.field == "system:time_start":
            lo, hi = flt.range.start.millis, flt.range.end.millis
            start = lo if start is None else max(start, lo)
            end = hi if end is None else min(end, hi)
        elif isinstance(flt, IntersectsFilter):
            box = flt.geometry.to_wgs84().shape.bounds
            if bbox is not None:
                overlap = shapely.geometry.box(*bbox).intersection(shapely.geometry.box(*box))
                if overlap.is_empty:
                    return []
                box = overlap.bounds
            bbox = box
    records = catalog.query_images(ImageQuery(name, start, end, bbox))
    images = [image_from_record(r) for r in records]
    return [img for img in images if all(f.matches(img) for f in filters)]


@algorithm("Collection.loadTable")
def load_table(
    tableId: str, geometryColumn: str | None = None, version: int = -1
) -> FeatureCollection:
    """Loads a table (a stored feature collection) by asset id.

    Args:
        tableId: The asset id of the table.
        geometryColumn: The geometry column; a stored table has one, so this is ignored.
        version: The asset version; only the current version is stored.
    """
    catalog = current().catalog
    name = name_from_id(tableId)
    record = catalog.get(name)
    if record is None:
        raise AssetNotFoundError(tableId)
    if record.type != TABLE:
        raise InvalidArgumentError(f"Asset '{tableId}' is not a table (it is {record.type}).")
    features = tuple(
        Feature(
            Geometry.from_geojson(f.geometry) if f.geometry else None,
            dict(f.properties),
            f.id,
        )
        for f in catalog.features(name)
    )
    properties = {k: v for k, v in record.properties.items() if not k.startswith("system:")}
    return FeatureCollection(features, id=record.id, properties=properties)
