"""Geometries: shapely shapes in EPSG:4326 (or another CRS) with Earth Engine's GeoJSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
import shapely.geometry
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform as shapely_transform

from openee.errors import InvalidArgumentError

WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class Geometry:
    """A geometry with its CRS; `geodesic` is kept for Earth Engine's GeoJSON flag."""

    shape: BaseGeometry
    crs: str = WGS84
    geodesic: bool = True

    @classmethod
    def from_geojson(cls, value: dict[str, Any], geodesic: bool = True) -> Geometry:
        try:
            shape = shapely.geometry.shape(value)
        except (
            KeyError,
            ValueError,
            TypeError,
            AttributeError,
            shapely.errors.GEOSException,
        ) as exc:
            raise InvalidArgumentError(f"Invalid GeoJSON geometry: {exc}") from None
        crs = WGS84
        crs_member = value.get("crs")
        if isinstance(crs_member, dict):
            crs = str(crs_member.get("properties", {}).get("name", WGS84))
        return cls(shape, crs, bool(value.get("geodesic", geodesic)))

    def to_wgs84(self) -> Geometry:
        if self.crs == WGS84:
            return self
        transformer = Transformer.from_crs(self.crs, WGS84, always_xy=True)
        return Geometry(shapely_transform(transformer.transform, self.shape), WGS84, self.geodesic)

    def transformed(self, crs: str) -> BaseGeometry:
        """The shape in another CRS (planar transformation of the vertices)."""
        if crs == self.crs:
            return self.shape
        transformer = Transformer.from_crs(self.crs, crs, always_xy=True)
        return shapely_transform(transformer.transform, self.shape)

    def intersects(self, other: Geometry) -> bool:
        return bool(self.to_wgs84().shape.intersects(other.to_wgs84().shape))

    def info(self) -> dict[str, Any]:
        geojson: dict[str, Any] = dict(shapely.geometry.mapping(self.shape))
        geojson = _lists(geojson)
        if self.crs != WGS84:
            geojson["crs"] = {"type": "name", "properties": {"name": self.crs}}
        if geojson["type"] != "Point":
            geojson["geodesic"] = self.geodesic
        return geojson


def _lists(value: Any) -> Any:
    """shapely's mapping() returns tuples; Earth Engine's GeoJSON has lists."""
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value
