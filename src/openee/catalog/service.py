"""Asset operations behind the REST asset API: list (with Earth Engine's filter), patch, delete,
copy, move, create. Routes parse the request, call one of these, and encode the result.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely
import shapely.geometry
import shapely.wkt

from openee.catalog.model import (
    CLASSIFIER,
    FOLDER,
    IMAGE,
    IMAGE_COLLECTION,
    TABLE,
    AssetRecord,
    FeatureRecord,
)
from openee.catalog.names import parent_of
from openee.catalog.rows import descendant_range
from openee.catalog.store import CatalogStore, ImageKey, ImageQuery, PropertyTerm
from openee.errors import (
    AlreadyExistsError,
    AssetNotFoundError,
    FailedPreconditionError,
    InvalidArgumentError,
)
from openee.values.date import Date

MAX_PAGE = 1000
_CONTAINERS = (FOLDER, IMAGE_COLLECTION)

# -- the listAssets filter (AIP-160 subset that the stock client's listImages writes) -----------

# A bare name is a property (`CLOUDY_PIXEL_PERCENTAGE < 10`, as Earth Engine's REST quickstart
# filters `:listImages`); `properties.NAME` is the AIP-160 spelling of the same.
_TERM = re.compile(
    r"""^(?P<field>startTime|endTime|properties\.[A-Za-z0-9_:.\-]+|[A-Za-z_][A-Za-z0-9_:.\-]*)\s*
        (?P<op>>=|<=|!=|=|<|>|:)\s*(?P<value>"(?:[^"\\]|\\.)*"|[^\s"]+)$""",
    re.VERBOSE,
)
_INTERSECTS = re.compile(r'^intersects\(\s*"(?P<geom>(?:[^"\\]|\\.)*)"\s*\)$')
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    ":": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class Term:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class ListFilter:
    """A parsed `filter`: comparisons ANDed together, and at most one region."""

    terms: tuple[Term, ...] = ()
    region: shapely.Geometry | None = None

    def query(self, parent: str) -> ImageQuery:
        """What the store can answer: the start-time range, the region's bounding box and the
        property comparisons."""
        start = end = None
        properties = []
        for t in self.terms:
            if t.field.startswith("properties."):
                op = "=" if t.op == ":" else t.op
                term = PropertyTerm.of(t.field.removeprefix("properties."), op, t.value)
                if term is not None:
                    properties.append(term)
            if t.field == "startTime" and t.op in (">=", ">"):
                value = t.value + (1 if t.op == ">" else 0)
                start = value if start is None else max(start, value)
            elif t.field == "startTime" and t.op in ("<", "<="):
                value = t.value + (1 if t.op == "<=" else 0)
                end = value if end is None else min(end, value)
        bbox = None
        if self.region is not None:
            west, south, east, north = self.region.bounds
            bbox = (west, south, east, north)
        return ImageQuery(parent, start, end, bbox, tuple(properties))

    def _terms_match(self, record: AssetRecord) -> bool:
        for t in self.terms:
            if t.field == "startTime":
                actual: Any = record.start_time
            elif t.field == "endTime":
                actual = record.end_time if record.end_time is not None else record.start_time
            else:
                actual = record.properties.get(t.field.removeprefix("properties."))
            if actual is None:
                return False
            try:
                if not _OPS[t.op](actual, t.value):
                    return False
            except TypeError:
                return False
        return True

    def matches(self, record: AssetRecord) -> bool:
        if not self._terms_match(record):
            return False
        if self.region is not None:
            if record.footprint is None:
                return False
            return bool(shapely.geometry.shape(record.footprint).intersects(self.region))
        return True

    def select(self, records: Sequence[AssetRecord]) -> list[AssetRecord]:
        """The records that match, in order; the region test runs on all footprints at once."""
        kept = [r for r in records if self._terms_match(r)]
        if self.region is None:
            return kept
        kept = [r for r in kept if r.footprint is not None]
        if not kept:
            return []
        shapely.prepare(self.region)
        hits = shapely.intersects(_shapes([r.footprint for r in kept if r.footprint]), self.region)
        return [r for r, hit in zip(kept, hits, strict=True) if hit]


def _shapes(footprints: Sequence[dict[str, Any]]) -> np.ndarray:
    """Footprints as an array of geometries. Polygons without holes (nearly every footprint) are
    built in one vectorized call, ten times faster than `shape()` one by one."""
    out = np.empty(len(footprints), dtype=object)
    simple = [
        i
        for i, f in enumerate(footprints)
        if f.get("type") == "Polygon" and len(f.get("coordinates") or ()) == 1
    ]
    if simple:
        coords: list[Any] = []
        index: list[int] = []
        for k, i in enumerate(simple):
            ring = footprints[i]["coordinates"][0]
            coords.extend(ring)
            index.extend([k] * len(ring))
        try:
            xy = np.asarray(coords, dtype=float)[:, :2]
            out[simple] = shapely.polygons(shapely.linearrings(xy, indices=np.asarray(index)))
        except (ValueError, IndexError, shapely.errors.GEOSException):
            pass  # an unusual ring: every footprint goes through shape() below
    for i, footprint in enumerate(footprints):
        if out[i] is None:
            out[i] = shapely.geometry.shape(footprint)
    return out


def _split_and(text: str) -> list[str]:
    """Split on AND outside double quotes."""
    parts, current, quoted, i = [], [], False, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quoted and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if not quoted and text.startswith(" AND ", i):
            parts.append("".join(current))
            current = []
            i += 5
            continue
        current.append(ch)
        i += 1
    if quoted:
        raise InvalidArgumentError("Invalid filter: unbalanced quotes.")
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _literal(text: str) -> Any:
    if text.startswith('"'):
        return json.loads(text)
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _region(text: str) -> shapely.Geometry:
    text = text.replace('\\"', '"')
    try:
        if text.lstrip().startswith("{"):
            # The client swaps the GeoJSON's double quotes for single ones.
            return shapely.geometry.shape(json.loads(text.replace("'", '"')))
        return shapely.wkt.loads(text)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError):
        raise InvalidArgumentError("Invalid filter: intersects() needs GeoJSON or WKT.") from None


def parse_filter(text: str | None) -> ListFilter:
    """Parse listAssets' `filter`: `startTime >= "2020-01-01T00:00:00Z" AND endTime < "..."
    AND intersects("{'type': 'Polygon', ...}") AND properties.CLOUD_COVER < 10`."""
    if not text or not text.strip():
        return ListFilter()
    terms: list[Term] = []
    region = None
    for part in _split_and(text.strip()):
        inter = _INTERSECTS.match(part)
        if inter:
            shape = _region(inter.group("geom"))
            region = shape if region is None else region.intersection(shape)
            continue
        match = _TERM.match(part)
        if not match:
            raise InvalidArgumentError(f"Invalid filter term: '{part[:200]}'.")
        name, value = match.group("field"), _literal(match.group("value"))
        if name in ("startTime", "endTime"):
            value = Date.parse(value).millis
        elif not name.startswith("properties."):
            name = f"properties.{name}"
        terms.append(Term(name, match.group("op"), value))
    return ListFilter(tuple(terms), region)


# -- listing ------------------------------------------------------------------------------------


@dataclass
class Page:
    assets: list[AssetRecord] = field(default_factory=list)
    next_page_token: str | None = None


def _token(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def _untoken(token: str, kind: str) -> str:
    try:
        found, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgumentError("Invalid pageToken.") from None
    if found != kind:
        raise InvalidArgumentError("Invalid pageToken.")
    return value


def _key_token(record: AssetRecord) -> str:
    return _token("key", json.dumps([record.start_time, record.name]))


def _key_from_token(token: str) -> ImageKey:
    try:
        start, name = json.loads(_untoken(token, "key"))
    except (ValueError, TypeError):
        raise InvalidArgumentError("Invalid pageToken.") from None
    if not isinstance(name, str) or not (start is None or type(start) is int):
        raise InvalidArgumentError("Invalid pageToken.")
    return start, name


def list_assets(
    store: CatalogStore,
    parent: str,
    page_size: int | None = None,
    page_token: str | None = None,
    filter: str | ListFilter | None = None,
) -> Page:
    """One page of `parent`'s children. Without a filter, pages by name; with a filter (its
    text, or already parsed), the matching images oldest first (then by name). Either way a
    token is the key of the last asset listed, so inserts and deletes between pages neither
    repeat nor skip others."""
    if not parent.endswith("/assets"):
        record = store.get(parent)
        if record is None:
            raise AssetNotFoundError(parent)
        if record.type not in _CONTAINERS:
            raise InvalidArgumentError(f"Asset '{record.id}' is not a folder or collection.")
    size = min(page_size or MAX_PAGE, MAX_PAGE)
    if size < 1:
        raise InvalidArgumentError("pageSize must be positive.")
    parsed = filter if isinstance(filter, ListFilter) else parse_filter(filter)
    if not parsed.terms and parsed.region is None:
        after = _untoken(page_token, "after") if page_token else None
        rows = store.children(parent, 0, size + 1, after=after)
        page = Page(rows[:size])
        if len(rows) > size:
            page.next_page_token = _token("after", rows[size - 1].name)
        return page
    return _filtered_page(store, parsed, parent, size, page_token)


def list_images(
    store: CatalogStore,
    parent: str,
    page_size: int | None = None,
    page_token: str | None = None,
    filter: str | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
    region: str | None = None,
) -> Page:
    """`:listImages`: `filter` plus `startTime` (inclusive), `endTime` (exclusive) and `region`
    (a GeoJSON geometry string), with the terms the stock client's `ee.data.listImages` writes
    for the same parameters: `startTime >= start AND endTime < end AND intersects(region)`."""
    parsed = parse_filter(filter)
    terms = list(parsed.terms)
    if start_time:
        terms.append(Term("startTime", ">=", Date.parse(start_time).millis))
    if end_time:
        terms.append(Term("endTime", "<", Date.parse(end_time).millis))
    shape = parsed.region
    if region:
        own = _region(region)
        shape = own if shape is None else shape.intersection(own)
    return list_assets(store, parent, page_size, page_token, ListFilter(tuple(terms), shape))


def _filtered_page(
    store: CatalogStore, parsed: ListFilter, parent: str, size: int, page_token: str | None
) -> Page:
    """`size` matching images after the token's key, read from the store in key order. The
    store answers all but the exact region test, so a batch of `size + 1` candidates is
    usually enough; more batches follow while the region test rejects some."""
    query = parsed.query(parent)
    key = _key_from_token(page_token) if page_token else None
    found: list[AssetRecord] = []
    while len(found) <= size:
        batch = store.query_images(replace(query, after=key, limit=size + 1))
        found.extend(parsed.select(batch))
        if len(batch) <= size:
            break
        key = (batch[-1].start_time, batch[-1].name)
    page = Page(found[:size])
    if len(found) > size:
        page.next_page_token = _key_token(found[size - 1])
    return page


# -- changes ------------------------------------------------------------------------------------

PATCHABLE = ("properties", "start_time", "end_time")


def patch_asset(
    store: CatalogStore,
    name: str,
    properties: dict[str, Any] | None = None,
    start_time: str | int | None = None,
    end_time: str | int | None = None,
    update_mask: list[str] | None = None,
) -> AssetRecord:
    """Change properties and times. With `update_mask` (e.g. ["properties.CLOUD", "start_time"])
    only the named fields change, and a masked property absent from `properties` is removed;
    without it every given field changes and properties are merged."""
    record = store.get(name)
    if record is None:
        raise AssetNotFoundError(name)
    props = dict(record.properties)
    start, end = record.start_time, record.end_time
    fields = update_mask or [
        *(f"properties.{k}" for k in (properties or {})),
        *(["start_time"] if start_time is not None else []),
        *(["end_time"] if end_time is not None else []),
    ]
    for path in fields:
        path = re.sub(r"(?<!^)([A-Z])", r"_\1", path).lower() if "." not in path else path
        if path == "properties":
            props = {k: v for k, v in props.items() if k.startswith("system:")}
            props.update(properties or {})
        elif path.startswith("properties."):
            key = path.removeprefix("properties.")
            if key.startswith("system:"):
                raise InvalidArgumentError(f"Property '{key}' cannot be changed.")
            if properties is not None and key in properties:
                props[key] = properties[key]
            else:
                props.pop(key, None)
        elif path == "start_time":
            start = Date.parse(start_time).millis if start_time is not None else None
        elif path == "end_time":
            end = Date.parse(end_time).millis if end_time is not None else None
        else:
            raise InvalidArgumentError(f"Field '{path}' cannot be updated.")
    for key, value in (("system:time_start", start), ("system:time_end", end)):
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    updated = replace(record, properties=props, start_time=start, end_time=end, update_time=None)
    store.put(updated)
    got = store.get(name)
    assert got is not None
    return got


def delete_asset(store: CatalogStore, name: str, recursive: bool = False) -> int:
    return store.delete(name, recursive)


def check_destination(store: CatalogStore, destination: str, overwrite: bool) -> None:
    """Whether an asset may be written at `destination`: its parent is the project root or an
    existing folder or collection, and nothing is there unless `overwrite` (and then not a
    folder or collection that still holds assets)."""
    parent = parent_of(destination)
    if not parent.endswith("/assets"):
        container = store.get(parent)
        if container is None:
            raise FailedPreconditionError(f"Parent folder '{parent}' does not exist.")
        if container.type not in _CONTAINERS:
            raise FailedPreconditionError(f"'{parent}' is not a folder or collection.")
    existing = store.get(destination)
    if existing is None:
        return
    if not overwrite:
        raise AlreadyExistsError(f"Asset '{destination}' already exists.")
    if existing.type in _CONTAINERS and store.children(destination, 0, 1):
        raise FailedPreconditionError(
            f"Asset '{destination}' is a non-empty {existing.type.lower().replace('_', ' ')};"
            " it cannot be overwritten."
        )


def _subtree(store: CatalogStore, name: str) -> list[AssetRecord]:
    root = store.get(name)
    if root is None:
        raise AssetNotFoundError(name)
    out, todo = [root], [root]
    while todo:
        node = todo.pop()
        if node.type in _CONTAINERS:
            after = None
            while page := store.children(node.name, 0, MAX_PAGE, after=after):
                out.extend(page)
                todo.extend(page)
                after = page[-1].name
    return out


def copy_asset(
    store: CatalogStore, source: str, destination: str, overwrite: bool = False
) -> AssetRecord:
    """Copy an asset (a folder or collection with everything in it), in one transaction."""
    if destination == source or destination.startswith(descendant_range(source)[0]):
        raise InvalidArgumentError("Cannot copy an asset into itself.")
    check_destination(store, destination, overwrite)
    records = _subtree(store, source)
    copies = [  # a copy is written by no import
        replace(r, name=destination + r.name[len(source) :], update_time=None, operation=None)
        for r in records
    ]
    copies = [
        replace(c, properties={**c.properties, "system:index": c.index})
        if "system:index" in c.properties
        else c
        for c in copies
    ]
    features = {
        destination + r.name[len(source) :]: store.features(r.name)
        for r in records
        if r.type == TABLE
    }
    store.put_many(copies, features)
    got = store.get(destination)
    assert got is not None
    return got


def move_asset(
    store: CatalogStore, source: str, destination: str, overwrite: bool = False
) -> AssetRecord:
    """Move (rename) an asset with everything in it, in one transaction: readers see it either
    at the source or at the destination, never at both or neither."""
    if destination == source or destination.startswith(descendant_range(source)[0]):
        raise InvalidArgumentError("Cannot move an asset into itself.")
    if store.get(source) is None:
        raise AssetNotFoundError(source)
    check_destination(store, destination, overwrite)
    store.move(source, destination, replace=overwrite)
    got = store.get(destination)
    assert got is not None
    return got


def create_asset(store: CatalogStore, record: AssetRecord, overwrite: bool = False) -> AssetRecord:
    """Create a folder, an image collection, or an image whose band files were checked against
    the roots (`roots.Roots.check`) by the caller."""
    if record.type not in (FOLDER, IMAGE_COLLECTION, IMAGE):
        raise InvalidArgumentError(f"Cannot create an asset of type {record.type}.")
    check_destination(store, record.name, overwrite)
    store.put(record)
    got = store.get(record.name)
    assert got is not None
    return got


def import_asset(
    store: CatalogStore,
    record: AssetRecord,
    features: Sequence[FeatureRecord] | None = None,
    overwrite: bool = False,
) -> AssetRecord:
    """Write an imported IMAGE or TABLE (with a TABLE's features), or an exported CLASSIFIER,
    in one transaction, where `create_asset` would allow it."""
    if record.type not in (IMAGE, TABLE, CLASSIFIER):
        raise InvalidArgumentError(f"Cannot import an asset of type {record.type}.")
    check_destination(store, record.name, overwrite)
    store.put_many([record], {record.name: list(features or [])} if record.type == TABLE else None)
    got = store.get(record.name)
    assert got is not None
    return got
