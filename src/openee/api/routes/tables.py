"""`{asset}:listFeatures`: the features of a TABLE asset, a page at a time.

`region` is a GeoJSON geometry string (the features whose geometry intersects it; the store
narrows by bounding box first); `filter` is an AIP-160 conjunction of property comparisons, as
`name = "Ljubljana" AND pop_max >= 100000` (`properties.` before a name is optional).
"""

from __future__ import annotations

import json
from typing import Any

import shapely
import shapely.geometry

from openee.api.routes.paging import offset_token, page_size, token_offset
from openee.catalog.model import FeatureRecord
from openee.catalog.service import _OPS, _split_and, parse_filter
from openee.catalog.store import CatalogStore
from openee.errors import InvalidArgumentError

DEFAULT_PAGE = 1000
MAX_PAGE = 10_000


def _region(text: str | None) -> shapely.Geometry | None:
    if not text:
        return None
    try:
        return shapely.geometry.shape(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError):
        raise InvalidArgumentError("Invalid region: expected a GeoJSON geometry.") from None


def _property_filter(text: str | None) -> list[tuple[str, str, Any]]:
    if not text or not text.strip():
        return []
    parts = []
    for part in _split_and(text.strip()):
        if not part.startswith(("properties.", "intersects(")):
            part = f"properties.{part}"
        parts.append(part)
    parsed = parse_filter(" AND ".join(parts))
    if parsed.region is not None:
        raise InvalidArgumentError("Invalid filter: give the region in 'region'.")
    terms = []
    for t in parsed.terms:
        if not t.field.startswith("properties."):
            raise InvalidArgumentError(f"Invalid filter: '{t.field}' is not a table column.")
        terms.append((t.field.removeprefix("properties."), t.op, t.value))
    return terms


def _matches(
    feature: FeatureRecord, terms: list[tuple[str, str, Any]], region: shapely.Geometry | None
) -> bool:
    for field, op, value in terms:
        actual = feature.properties.get(field)
        if actual is None:
            return False
        try:
            if not _OPS[op](actual, value):
                return False
        except TypeError:
            return False
    if region is not None:
        if feature.geometry is None:
            return False
        return bool(shapely.geometry.shape(feature.geometry).intersects(region))
    return True


def list_features(
    store: CatalogStore,
    name: str,
    size: int | None,
    token: str | None,
    region: str | None,
    filter: str | None,
) -> dict[str, Any]:
    limit = page_size(size, DEFAULT_PAGE, MAX_PAGE)
    offset = token_offset(token)
    shape = _region(region)
    terms = _property_filter(filter)
    if shape is None and not terms:
        rows = store.features(name, offset, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
    else:
        bbox = None
        if shape is not None:
            west, south, east, north = shape.bounds
            bbox = (west, south, east, north)
        matching = [f for f in store.features(name, bbox=bbox) if _matches(f, terms, shape)]
        rows = matching[offset : offset + limit]
        more = len(matching) > offset + limit
    out: dict[str, Any] = {"type": "FeatureCollection", "features": [f.geojson() for f in rows]}
    if more:
        out["nextPageToken"] = offset_token(offset + limit)
    return out
