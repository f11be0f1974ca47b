"""Table downloads: GeoJSON features encoded as CSV, GeoJSON, KML, KMZ or a zipped Shapefile.

The input is a list of GeoJSON features (EPSG:4326, as `openee.services.features` makes them).
`selectors` picks and orders the columns; the CSV columns are Earth Engine's: `system:index`,
the properties, then `.geo` (the geometry as GeoJSON text).
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from openee.errors import InvalidArgumentError

INDEX = "system:index"
GEO = ".geo"
KML_NS = "http://www.opengis.net/kml/2.2"

Features = Sequence[dict[str, Any]]


@dataclass(frozen=True)
class TableFormat:
    name: str
    extension: str
    media_type: str
    encode: Callable[[Features, list[str] | None, str], bytes]


def property_names(features: Features) -> list[str]:
    """Every property name, in order of first appearance."""
    seen: dict[str, None] = {}
    for f in features:
        for key in f.get("properties") or {}:
            seen.setdefault(key, None)
    return list(seen)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _value(feature: dict[str, Any], column: str) -> Any:
    if column == INDEX:
        return feature.get("id")
    if column == GEO:
        return feature.get("geometry")
    return (feature.get("properties") or {}).get(column)


def encode_csv(features: Features, selectors: list[str] | None, name: str) -> bytes:
    columns = selectors if selectors is not None else [INDEX, *property_names(features), GEO]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for f in features:
        writer.writerow([_cell(_value(f, c)) for c in columns])
    return out.getvalue().encode()


def _selected(feature: dict[str, Any], selectors: list[str] | None) -> dict[str, Any]:
    props = feature.get("properties") or {}
    if selectors is None:
        return dict(props)
    return {k: props.get(k) for k in selectors if k not in (INDEX, GEO)}


def encode_geojson(features: Features, selectors: list[str] | None, name: str) -> bytes:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": f.get("geometry"),
                "id": f.get("id"),
                "properties": _selected(f, selectors),
            }
            for f in features
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


# -- KML -----------------------------------------------------------------------------------------


def _coordinates(points: Sequence[Sequence[float]]) -> str:
    return " ".join(",".join(repr(float(v)) for v in p) for p in points)


def _kml_geometry(parent: ET.Element, geometry: dict[str, Any]) -> None:
    kind, coords = geometry["type"], geometry.get("coordinates") or []
    if kind == "Point":
        ET.SubElement(ET.SubElement(parent, "Point"), "coordinates").text = _coordinates([coords])
    elif kind == "LineString":
        line = ET.SubElement(parent, "LineString")
        ET.SubElement(line, "coordinates").text = _coordinates(coords)
    elif kind == "Polygon":
        polygon = ET.SubElement(parent, "Polygon")
        for i, ring in enumerate(coords):
            boundary = ET.SubElement(polygon, "outerBoundaryIs" if i == 0 else "innerBoundaryIs")
            linear = ET.SubElement(boundary, "LinearRing")
            ET.SubElement(linear, "coordinates").text = _coordinates(ring)
    elif kind in ("MultiPoint", "MultiLineString", "MultiPolygon"):
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in coords:
            _kml_geometry(multi, {"type": kind[len("Multi") :], "coordinates": part})
    elif kind == "GeometryCollection":
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in geometry.get("geometries", []):
            _kml_geometry(multi, part)
    else:
        raise InvalidArgumentError(f"Cannot write a {kind} geometry as KML.")


def encode_kml(features: Features, selectors: list[str] | None, name: str) -> bytes:
    ET.register_namespace("", KML_NS)
    root = ET.Element("kml", xmlns=KML_NS)
    document = ET.SubElement(root, "Document")
    ET.SubElement(document, "name").text = name
    for f in features:
        placemark = ET.SubElement(document, "Placemark")
        if f.get("id") is not None:
            placemark.set("id", str(f["id"]))
        props = _selected(f, selectors)
        if props:
            data = ET.SubElement(placemark, "ExtendedData")
            for key, value in props.items():
                item = ET.SubElement(data, "Data", name=str(key))
                ET.SubElement(item, "value").text = _cell(value)
        if f.get("geometry"):
            _kml_geometry(placemark, f["geometry"])
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def encode_kmz(features: Features, selectors: list[str] | None, name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", encode_kml(features, selectors, name))
    return out.getvalue()


# -- Shapefile -----------------------------------------------------------------------------------

_FAMILIES = {
    "Point": "MultiPoint",
    "MultiPoint": "MultiPoint",
    "LineString": "MultiLineString",
    "MultiLineString": "MultiLineString",
    "Polygon": "MultiPolygon",
    "MultiPolygon": "MultiPolygon",
}


def _shp_geometry_type(features: Features) -> str:
    kinds = {f["geometry"]["type"] for f in features if f.get("geometry")}
    if not kinds:
        return "Unknown"
    families = {_FAMILIES.get(k) for k in kinds}
    if None in families or len(families) > 1:
        raise InvalidArgumentError(
            "A Shapefile holds one geometry type, but the collection has "
            f"{', '.join(sorted(kinds))}."
        )
    if len(kinds) == 1:
        return kinds.pop()
    return str(families.pop())


def _shp_column(values: list[Any]) -> np.ndarray:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if all(v is not None for v in values):
            return np.array(values, dtype=np.int64)
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array([None if v is None else _cell(v) for v in values], dtype=object)


def encode_shp(features: Features, selectors: list[str] | None, name: str) -> bytes:
    import pyogrio.raw

    geometry_type = _shp_geometry_type(features)
    promote = (
        geometry_type.startswith("Multi")
        and len({f["geometry"]["type"] for f in features if f.get("geometry")}) > 1
    )
    columns = [
        c
        for c in (selectors if selectors is not None else property_names(features))
        if c not in (INDEX, GEO)
    ]
    fields = [_shp_column([_value(f, c) for f in features]) for c in columns]
    names = dbf_names(columns)
    wkb = np.array(
        [
            shapely.to_wkb(_promoted(f["geometry"], promote)) if f.get("geometry") else None
            for f in features
        ],
        dtype=object,
    )
    out = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="openee-shp-") as tmp:
        path = Path(tmp) / f"{name}.shp"
        pyogrio.raw.write(
            str(path),
            wkb,
            fields,
            names,
            driver="ESRI Shapefile",
            geometry_type=geometry_type,
            crs="EPSG:4326",
            encoding="UTF-8",
        )
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)
    return out.getvalue()


def dbf_names(columns: Sequence[str]) -> list[str]:
    """Column names as a DBF holds them: at most 10 characters, made unique with a number."""
    names: list[str] = []
    for column in columns:
        name, n = column[:10], 0
        while name in names:
            n += 1
            name = f"{column[: 10 - len(str(n))]}{n}"
        names.append(name)
    return names


def _promoted(geometry: dict[str, Any], promote: bool) -> Any:
    shape = shapely.geometry.shape(geometry)
    if promote and not geometry["type"].startswith("Multi"):
        multi = {
            "Point": shapely.MultiPoint,
            "LineString": shapely.MultiLineString,
            "Polygon": shapely.MultiPolygon,
        }[geometry["type"]]
        return multi([shape])
    return shape


FORMATS = {
    f.name: f
    for f in (
        TableFormat("CSV", "csv", "text/csv", encode_csv),
        TableFormat("GEO_JSON", "geojson", "application/geo+json", encode_geojson),
        TableFormat("KML", "kml", "application/vnd.google-earth.kml+xml", encode_kml),
        TableFormat("KMZ", "kmz", "application/vnd.google-earth.kmz", encode_kmz),
        TableFormat("SHP", "zip", "application/zip", encode_shp),
    )
}
_ALIASES = {"GEOJSON": "GEO_JSON", "JSON": "GEO_JSON"}


def table_format(name: object) -> TableFormat:
    """The format of a `fileFormat` (default CSV); 400 for unknown ones and TFRecord (a 5xx
    would make the stock client retry)."""
    if name is None or name == "":
        return FORMATS["CSV"]
    if not isinstance(name, str):
        raise InvalidArgumentError("fileFormat must be a string.")
    key = _ALIASES.get(name.upper(), name.upper())
    if key in ("TF_RECORD_TABLE", "TFRECORD"):
        raise InvalidArgumentError("Table downloads as TF_RECORD_TABLE are not supported.")
    if key not in FORMATS:
        raise InvalidArgumentError(
            f"Invalid table file format '{name[:40]}': use CSV, GEO_JSON, KML, KMZ or SHP."
        )
    return FORMATS[key]
