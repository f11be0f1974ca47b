"""Geometries: shapely shapes in EPSG:4326 (or another CRS) with Earth Engine's GeoJSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

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
        return Geometry(reproject(self.shape, transformer), WGS84, self.geodesic)

    def transformed(self, crs: str) -> BaseGeometry:
        """The shape in another CRS (planar transformation of the vertices)."""
        if crs == self.crs:
            return self.shape
        transformer = Transformer.from_crs(self.crs, crs, always_xy=True)
        return reproject(self.shape, transformer)

    def info(self) -> dict[str, Any]:
        geojson: dict[str, Any] = dict(shapely.geometry.mapping(self.shape))
        geojson = _lists(geojson)
        if self.crs != WGS84:
            geojson["crs"] = {"type": "name", "properties": {"name": self.crs}}
        if geojson["type"] != "Point":
            geojson["geodesic"] = self.geodesic
        return geojson


@dataclass(frozen=True)
class ErrorMargin:
    """Earth Engine's ErrorMargin: a tolerance in 'meters', in 'projected' units, or 'infinite'."""

    value: float | None = None
    unit: str = "meters"

    @classmethod
    def of(cls, value: object) -> ErrorMargin | None:
        """From an ErrorMargin, a number of metres, or its JSON form; None if not one of those."""
        if isinstance(value, ErrorMargin):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return cls(float(value))
        if isinstance(value, dict) and value.get("type") == "ErrorMargin":
            raw = value.get("value")
            unit = str(value.get("unit", "meters"))
            return cls(float(raw) if isinstance(raw, int | float) else None, unit)
        return None

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"type": "ErrorMargin", "unit": self.unit}
        if self.value is not None:
            info["value"] = self.value
        return info


def reproject(shape: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    """The shape with every vertex transformed (a pyproj Transformer with always_xy=True)."""
    return apply_xy(transformer.transform, shape)


def apply_xy(fn: Any, shape: BaseGeometry) -> BaseGeometry:
    """The shape with every vertex mapped by fn(xs, ys) -> (xs, ys) on arrays."""
    if shape.is_empty:
        return shape

    def mapped(coords: np.ndarray) -> np.ndarray:
        xs, ys = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([xs, ys])

    return shapely.transform(shape, mapped)


def _lists(value: Any) -> Any:
    """shapely's mapping() returns tuples; Earth Engine's GeoJSON has lists."""
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value
