"""Vector files (GeoJSON, GeoPackage, Shapefile, GeoParquet, FlatGeobuf) as table features.

Read with pyogrio (GDAL/OGR); geometries are reprojected to EPSG:4326, as Earth Engine stores
tables, and attribute values become JSON values.

pyogrio cannot pin OGR's drivers at open, so the file's first bytes are checked here against
the formats of `raster.gdal.VECTOR_DRIVERS` before OGR sees it (an OGR VRT, GML or KML, with or
without a byte-order mark, is refused), the driver OGR chose is checked after, and every read
runs with GDAL's network off (a GeoJSON `crs` link is not fetched). ADR 0033.
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
from openee.raster.gdal import VECTOR_DRIVERS, check_sidecars, no_network_options

VECTOR_SUFFIXES = (".geojson", ".gpkg", ".shp", ".parquet", ".fgb")
# The first bytes of each allow-listed binary format; GeoJSON is text starting with '{' or '['.
_MAGIC = (
    (b"SQLite format 3\x00", "GPKG"),
    (b"fgb\x03", "FlatGeobuf"),
    (b"PAR1", "Parquet"),
    (b"\x00\x00\x27\x0a", "ESRI Shapefile"),
)


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


def vector_driver(head: bytes) -> str | None:
    """The allow-listed OGR driver a file's first bytes belong to, if any."""
    for magic, driver in _MAGIC:
        if head.startswith(magic):
            return driver
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return "GeoJSON" if text[:1] in (b"{", b"[") else None


def read_features(
    path: Path | str,
    layer: str | int | None = None,
    label: str | None = None,
    head: bytes | None = None,
) -> list[FeatureRecord]:
    """Every feature of a vector file (its first layer unless `layer`), in EPSG:4326. `path`
    may be a GDAL path (`/vsizip/...`), whose first bytes are then `head`; `label` names the
    file in errors."""
    name = label or Path(path).name
    if head is None:
        check_sidecars(str(path))
        try:
            with open(path, "rb") as f:
                head = f.read(64)
        except OSError as exc:
            raise InvalidArgumentError(f"{name}: cannot read ({exc.strerror}).") from None
    driver = vector_driver(head)
    if driver is None:
        raise InvalidArgumentError(
            f"{name}: not a vector format that is read here ({', '.join(VECTOR_DRIVERS)})."
        )
    pyogrio.set_gdal_config_options(no_network_options())
    try:
        meta, fids, geometry, fields = pyogrio.raw.read(path, layer=layer, return_fids=True)
    except Exception as exc:  # pyogrio raises its own DataSourceError / DataLayerError types
        raise InvalidArgumentError(f"{name}: cannot read vector data ({exc}).") from None
    if meta.get("driver", driver) != driver:
        raise InvalidArgumentError(f"{name}: read as {meta.get('driver')}, not {driver}.")
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
