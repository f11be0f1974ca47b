"""Encoding shared by the stores: bands and footprints to and from plain JSON-able rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
import shapely.geometry

from openee.catalog.model import BandMask, BandRecord

# The smallest string greater than every "name/..." descendant of "name": '0' follows '/'.
_AFTER_SLASH = chr(ord("/") + 1)


def descendant_range(name: str) -> tuple[str, str]:
    """Bounds [lo, hi) of the names below `name`, usable by a B-tree index in any SQL engine."""
    return f"{name}/", f"{name}{_AFTER_SLASH}"


# orjson reads an integer beyond 64 bits as a float, so a float this large may have been one.
_INT64_LIMIT = float(2**63)


def _has_huge_float(value: Any) -> bool:
    if type(value) is float:
        return abs(value) >= _INT64_LIMIT
    if isinstance(value, dict):
        return any(_has_huge_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_huge_float(v) for v in value)
    return False


def loads_json(text: str | bytes, *, numbers_are_coordinates: bool = False) -> Any:
    """Parse stored JSON with orjson (five times faster than `json.loads`; listing a page of
    1,000 images parses 2,000 documents), or with the standard library where orjson would be
    wrong: it refuses NaN (which `json.dumps` writes) and reads integers beyond 64 bits as
    floats, so a document holding a float that large is parsed again. Geometries and
    transforms (`numbers_are_coordinates`) hold no such integers and skip that check."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    if not numbers_are_coordinates and _has_huge_float(value):
        return json.loads(text)
    return value


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def geometry_bbox(geojson: dict[str, Any] | None) -> tuple[float, float, float, float] | None:
    if not geojson:
        return None
    shape = shapely.geometry.shape(geojson)
    if shape.is_empty:
        return None
    west, south, east, north = shape.bounds
    return float(west), float(south), float(east), float(north)


def band_to_row(band: BandRecord) -> dict[str, Any]:
    row = {
        "id": band.id,
        "path": band.path,
        "index": band.index,
        "dtype": band.dtype,
        "crs": band.crs,
        "transform": list(band.transform),
        "width": band.width,
        "height": band.height,
        "nodata": band.nodata,
    }
    if band.mask is not None:
        row["mask"] = mask_to_row(band.mask)
    return row


def mask_to_row(mask: BandMask) -> dict[str, Any]:
    return {"path": mask.path, "index": mask.index, "dtype": mask.dtype}


def mask_from_row(row: dict[str, Any] | None) -> BandMask | None:
    if not row:
        return None
    return BandMask(path=row["path"], index=int(row["index"]), dtype=row["dtype"])


def band_from_row(row: dict[str, Any]) -> BandRecord:
    t = row["transform"]
    return BandRecord(
        id=row["id"],
        path=row["path"],
        index=int(row["index"]),
        dtype=row["dtype"],
        crs=row["crs"],
        transform=(float(t[0]), float(t[1]), float(t[2]), float(t[3]), float(t[4]), float(t[5])),
        width=int(row["width"]),
        height=int(row["height"]),
        nodata=None if row["nodata"] is None else float(row["nodata"]),
        mask=mask_from_row(row.get("mask")),
    )


def plain_json(value: Any) -> Any:
    """Tuples (as shapely's `mapping` makes them) to lists, so a record equals its stored JSON."""
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    return value


def moved_name(name: str, source: str, destination: str) -> str:
    """`name` (source or below it) once `source` is renamed `destination`."""
    return destination + name[len(source) :]


def moved_properties(properties: dict[str, Any], new_name: str) -> dict[str, Any] | None:
    """The properties of a moved asset, when they change: `system:index` is its last segment."""
    if "system:index" not in properties:
        return None
    return {**properties, "system:index": new_name.rsplit("/", 1)[1]}
