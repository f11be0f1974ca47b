"""Vector files (GeoJSON, GeoPackage, Shapefile, GeoParquet, FlatGeobuf) as table features.

Read with pyogrio (GDAL/OGR); geometries are reprojected to EPSG:4326, as Earth Engine stores
tables, and attribute values become JSON values.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import shapely
import shapely.geometry
from pyproj import CRS, Transformer

from openee.catalog.model import FeatureRecord
from openee.catalog.rows import plain_json
from openee.errors import InvalidArgumentError

VECTOR_SUFFIXES = (".geojson", ".gpkg", ".shp", ".parquet", ".fgb")


def _value(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value


def read_features(
    path: Path | str, layer: str | int | None = None, label: str | None = None
) -> list[FeatureRecord]:
    """Every feature of a vector file (its first layer unless `layer`), in EPSG:4326. `path`
    may be a GDAL path (`/vsizip/...`); `label` names the file in errors."""
    name = label or Path(path).name
    try:
        meta, fids, geometry, fields = pyogrio.raw.read(path, layer=layer, return_fids=True)
    except Exception as exc:  # pyogrio raises its own DataSourceError / DataLayerError types
        raise InvalidArgumentError(f"{name}: cannot read vector data ({exc}).") from None
    shapes = shapely.from_wkb(geometry) if geometry is not None else [None] * len(fids)
    crs = meta.get("crs")
    if crs and geometry is not None:
        source = CRS.from_user_input(crs)
        if not source.equals(CRS.from_epsg(4326)):
            to_wgs84 = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
            shapes = shapely.transform(
                shapes, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))
            )
    names = list(meta["fields"])
    rows = []
    for i, fid in enumerate(fids):
        shape = shapes[i]
        geojson: dict[str, Any] | None = (
            dict(shapely.geometry.mapping(shape)) if shape is not None else None
        )
        properties = {n: _value(fields[k][i]) for k, n in enumerate(names)}
        rows.append(FeatureRecord(geometry=plain_json(geojson), properties=properties, id=str(fid)))
    return rows
