"""Evaluated feature collections as GeoJSON features: what `table:computeFeatures` pages through
and what table downloads (`tables/{id}:getFeatures`) encode.

Geometries are given in EPSG:4326 with planar edges, as Earth Engine returns them; property
values are plain JSON (nested values as their getInfo form).
"""

from __future__ import annotations

from typing import Any

from openee.errors import InvalidArgumentError
from openee.values.feature import Feature, FeatureCollection
from openee.values.geometry import Geometry
from openee.values.info import to_info

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10_000


def collection_features(value: object) -> list[Feature]:
    """The features of an evaluated FeatureCollection (or of a single Feature)."""
    if isinstance(value, Feature):
        return [value]
    if not isinstance(value, FeatureCollection):
        raise InvalidArgumentError(f"Expected a FeatureCollection, got {type(value).__name__}.")
    items = list(value.features)
    if not all(isinstance(f, Feature) for f in items):
        raise InvalidArgumentError("The collection holds elements that are not features.")
    return items


def geometry_geojson(geometry: Geometry | None) -> dict[str, Any] | None:
    """GeoJSON in EPSG:4326 without Earth Engine's extra members (geodesic, crs)."""
    if geometry is None:
        return None
    info = geometry.to_wgs84().info()
    info.pop("geodesic", None)
    info.pop("crs", None)
    return info


def feature_geojson(feature: Feature, index: int) -> dict[str, Any]:
    """One GeoJSON feature; its id is its system:index (the position if it has none)."""
    return {
        "type": "Feature",
        "geometry": geometry_geojson(feature.geometry),
        "id": feature.id if feature.id is not None else str(index),
        "properties": {str(k): to_info(v) for k, v in feature.properties.items()},
    }


def all_geojson(value: object) -> list[dict[str, Any]]:
    return [feature_geojson(f, i) for i, f in enumerate(collection_features(value))]


def features_page(value: object, offset: int, size: int) -> tuple[list[dict[str, Any]], bool]:
    """The GeoJSON features [offset, offset + size) and whether more follow."""
    features = collection_features(value)
    page = [feature_geojson(f, offset + i) for i, f in enumerate(features[offset : offset + size])]
    return page, len(features) > offset + size
