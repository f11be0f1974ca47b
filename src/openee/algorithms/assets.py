"""Stored assets as values: catalog records become lazy Images and ImageCollections, and
TABLE assets FeatureCollections."""

from __future__ import annotations

import math

import shapely.geometry

from openee.algorithms.context import current
from openee.algorithms.registry import algorithm
from openee.catalog.model import IMAGE, IMAGE_COLLECTION, TABLE, AssetRecord, BandRecord
from openee.catalog.names import name_from_id
from openee.catalog.store import CatalogStore, ImageQuery, PropertyTerm
from openee.errors import AssetNotFoundError, InvalidArgumentError
from openee.raster.image import Band, Image, ImageCollection
from openee.raster.sources import BandSource, FileBand, MaskedBand
from openee.values.feature import Feature, FeatureCollection, columns_of
from openee.values.filter import (
    AndFilter,
    BinaryFilter,
    CompareFilter,
    DateRangeFilter,
    Filter,
    IntersectsFilter,
)
from openee.values.geometry import Geometry
from openee.values.geometry_space import on_ellipsoid
from openee.values.projection import Projection


def band_source(band: BandRecord) -> BandSource:
    """A stored band's pixels: its file, masked by its nodata and its mask band if any."""
    source: BandSource = FileBand(band.path, band.index, band.dtype, band.nodata)
    if band.mask is not None:
        mask = band.mask
        source = MaskedBand(source, FileBand(mask.path, mask.index, mask.dtype, None))
    return source


def image_from_record(record: AssetRecord) -> Image:
    bands = tuple(
        Band(
            name=b.id,
            source=band_source(b),
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
        return fetch_images(catalog, name, filters)

    return ImageCollection(id=record.id, fetch=fetch, properties=dict(record.properties))


def fetch_images(catalog: CatalogStore, name: str, filters: tuple[Filter, ...]) -> list[Image]:
    """Push what the store can answer (time range, bounding box, property comparisons) into its
    query; apply every filter exactly afterwards."""
    query = store_query(name, filters)
    if query is None:
        return []
    records = catalog.query_images(query)
    images = [image_from_record(r) for r in records]
    return [img for img in images if all(f.matches(img) for f in filters)]


def _conjuncts(filters: tuple[Filter, ...]) -> list[Filter]:
    """The filters that must all hold, with nested Filter.and flattened."""
    out: list[Filter] = []
    for flt in filters:
        if isinstance(flt, AndFilter):
            out.extend(_conjuncts(flt.filters))
        else:
            out.append(flt)
    return out


def _property_term(flt: Filter) -> PropertyTerm | None:
    """The store's form of a comparison of a property with a constant, if it has one."""
    if isinstance(flt, CompareFilter):
        return PropertyTerm.of(flt.field, _STORE_OPS[flt.op], flt.value)
    if (
        isinstance(flt, BinaryFilter)
        and flt.op == "inList"
        and flt.left_field is not None
        and flt.right_field is None
    ):
        return PropertyTerm.of(flt.left_field, "in", flt.right_value)
    return None


_STORE_OPS = {
    "equals": "=",
    "notEquals": "!=",
    "lessThan": "<",
    "lessThanOrEquals": "<=",
    "greaterThan": ">",
    "greaterThanOrEquals": ">=",
}


def store_query(name: str, filters: tuple[Filter, ...]) -> ImageQuery | None:
    """The store query that returns at least every image of collection `name` passing all
    `filters` (None when none can). Filters the store cannot express are left out of it."""
    start: int | None = None
    end: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    terms: list[PropertyTerm] = []

    def narrow(lo: int | None, hi: int | None) -> None:
        nonlocal start, end
        if lo is not None:
            start = lo if start is None else max(start, lo)
        if hi is not None:
            end = hi if end is None else min(end, hi)

    for flt in _conjuncts(filters):
        if isinstance(flt, DateRangeFilter) and flt.field == "system:time_start":
            narrow(flt.range.start.millis, flt.range.end.millis)
        elif isinstance(flt, CompareFilter) and flt.field == "system:time_start":
            narrow(*_time_bounds(flt.op, flt.value))
        elif isinstance(flt, IntersectsFilter):
            # The bounds of the edges as they run (geodesics bulge past their vertices).
            box = on_ellipsoid(flt.geometry).bounds
            if bbox is not None:
                overlap = shapely.geometry.box(*bbox).intersection(shapely.geometry.box(*box))
                if overlap.is_empty:
                    return None
                box = overlap.bounds
            bbox = box
        elif (term := _property_term(flt)) is not None:
            terms.append(term)
    return ImageQuery(name, start, end, bbox, tuple(terms))


def _time_bounds(op: str, value: object) -> tuple[int | None, int | None]:
    """[start, end) milliseconds implied by `system:time_start <op> value`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None, None
    if op == "greaterThanOrEquals":
        return math.ceil(value), None
    if op == "greaterThan":
        return math.floor(value) + 1, None
    if op == "lessThan":
        return None, math.ceil(value)
    if op == "lessThanOrEquals":
        return None, math.floor(value) + 1
    if op == "equals":
        return (math.ceil(value), math.floor(value) + 1) if value == int(value) else (1, 0)
    return None, None


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
    # The table's schema, as getInfo()['columns'] lists it; whole numbers are stored as Long.
    columns = columns_of(features, integer="Long")
    return FeatureCollection(features, id=record.id, properties=properties, columns=columns)
