"""Feature collections: the aggregate_* family, merging, distinct, flatten, geometry, remap."""

from __future__ import annotations

import hashlib
import math
import statistics
from dataclasses import replace
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from openee.algorithms import aggregate
from openee.algorithms.collection import Collection, elements, rebuild
from openee.algorithms.geometry_ops import WGS84_PROJECTION
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.reducers.registry import property_aggregates
from openee.values import geodesy
from openee.values.feature import Feature, FeatureCollection
from openee.values.geometry import WGS84, ErrorMargin, Geometry
from openee.values.geometry_space import edges_as, on_ellipsoid, space_of
from openee.values.projection import Projection
from openee.values.reducer import simple


def column(collection: Collection, property: str) -> list[Any]:
    """The values of a property over the elements (null where absent)."""
    out = []
    for item in elements(collection):
        getter = getattr(item, "get", None)
        out.append(getter(property) if callable(getter) else None)
    return out


def _numbers(collection: Collection, property: str, what: str) -> list[float]:
    values = [v for v in column(collection, property) if v is not None]
    if not all(isinstance(v, int | float) for v in values):
        raise InvalidArgumentError(f"{what}: property '{property}' is not a number.")
    return values


def _reduce(name: str, collection: Collection, property: str) -> Any:
    return aggregate.evaluate(simple(name), [column(collection, property)])[0]


def _stats(collection: Collection, property: str) -> dict[str, Any]:
    values = _numbers(collection, property, "aggregate_stats")
    n = len(values)
    mean = math.fsum(values) / n if n else None
    return {
        "max": max(values) if values else None,
        "mean": mean,
        "min": min(values) if values else None,
        "sample_sd": statistics.stdev(values) if n > 1 else None,
        "sample_var": statistics.variance(values) if n > 1 else None,
        "sum": math.fsum(values) if values else 0,
        "sum_sq": math.fsum(v * v for v in values) if values else 0,
        "total_count": len(elements(collection)),
        "total_sd": statistics.pstdev(values) if n else None,
        "total_var": statistics.pvariance(values) if n else None,
        "valid_count": n,
        # Every value has weight 1 (ee_featurecollection_aggregate_stats.py documents
        # weight_sum = valid_count and weighted_sum = sum).
        "weight_sum": n,
        "weighted_sum": math.fsum(values) if values else 0,
    }


def _order(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool | int | float):
        return (0, value)
    return (1, str(value))


# name -> (implementation, description); those of reducers come from their specs.
AGGREGATES: dict[str, tuple[Any, str]] = {
    "array": (
        lambda c, p: [v for v in column(c, p) if v is not None],
        "Returns the list of the values of the property over the collection (nulls skipped).",
    ),
    "first": (
        lambda c, p: next((v for v in column(c, p) if v is not None), None),
        "Returns the value of the property of the first element that has it.",
    ),
    "count": (
        lambda c, p: sum(1 for v in column(c, p) if v is not None),
        "Returns the number of elements that have the property.",
    ),
    "count_distinct": (
        lambda c, p: len({_order(v) for v in column(c, p) if v is not None}),
        "Returns the number of distinct values of the property.",
    ),
    "min": (
        lambda c, p: min((v for v in column(c, p) if v is not None), key=_order, default=None),
        "Returns the minimum value of the property.",
    ),
    "max": (
        lambda c, p: max((v for v in column(c, p) if v is not None), key=_order, default=None),
        "Returns the maximum value of the property.",
    ),
    "stats": (
        _stats,
        "Returns statistics of the property: max, mean, min, sample_sd, sample_var, sum, "
        "sum_sq, total_count, total_sd, total_var, valid_count, weight_sum and weighted_sum.",
    ),
}


def _register_aggregate(name: str, fn: Any, doc: str) -> None:
    def aggregate_(collection: Collection, property: str) -> Any:
        return fn(collection, property)

    aggregate_.__doc__ = (
        f"{doc}\n\nArgs:\n    collection: The collection.\n    property: The property.\n"
    )
    algorithm(f"AggregateFeatureCollection.{name}")(aggregate_)


def _by_reducer(name: str) -> Any:
    return lambda c, p: _reduce(name, c, p)


for _name, (_fn, _doc) in AGGREGATES.items():
    _register_aggregate(_name, _fn, _doc)
for _spec in property_aggregates():
    _suffix, _doc = _spec.property_aggregate or ("", "")
    _register_aggregate(_suffix, _by_reducer(_spec.name), _doc)


# -- Collection ----------------------------------------------------------------------------------


def _with_id(item: Any, id: str) -> Any:
    return replace(item, id=id) if isinstance(item, Feature) else item


@algorithm("Collection.merge")
def merge(collection1: Collection, collection2: Collection) -> Collection:
    """Merges two collections; ids are prefixed with '1_' and '2_' to keep them unique.

    Args:
        collection1: The first collection.
        collection2: The second collection.
    """
    items = [
        _with_id(item, f"{n}_{getattr(item, 'id', None) or i}")
        for n, collection in ((1, collection1), (2, collection2))
        for i, item in enumerate(elements(collection))
    ]
    return FeatureCollection(tuple(items))


@algorithm("Collection.flatten")
def flatten(collection: Collection) -> Collection:
    """Flattens a collection of collections; ids become '<outer id>_<inner id>'.

    Args:
        collection: The collection of collections.
    """
    items = []
    for i, inner in enumerate(elements(collection)):
        if not isinstance(inner, FeatureCollection):
            raise InvalidArgumentError("Collection.flatten: the elements must be collections.")
        outer = inner.id or str(i)
        for j, item in enumerate(inner.features):
            items.append(_with_id(item, f"{outer}_{getattr(item, 'id', None) or j}"))
    return FeatureCollection(tuple(items))


@algorithm("Collection.distinct")
def distinct(collection: Collection, properties: Any) -> Collection:
    """Removes elements that repeat the values of the given properties (the first is kept).

    Args:
        collection: The collection.
        properties: A property name, or a list of them; '.geo' compares geometries.
    """
    names = [properties] if isinstance(properties, str) else properties
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InvalidArgumentError("Collection.distinct: properties must be names.")
    seen: set[str] = set()
    kept = []
    for item in elements(collection):
        key = repr([_value_key(item, n) for n in names])
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return rebuild(collection, kept)


def _value_key(item: Any, name: str) -> Any:
    if name == ".geo":
        geometry = getattr(item, "geometry", None)
        return geometry.shape.wkb_hex if isinstance(geometry, Geometry) else None
    return item.get(name)


# Earth Engine's default error margin of the collection geometry algorithms, as JSON.
NO_ERROR: Any = {"type": "ErrorMargin", "unit": "meters", "value": 0.0}


def _geometries(collection: Collection) -> list[Geometry]:
    out = []
    for item in elements(collection):
        footprint = item.footprint() if hasattr(item, "footprint") else None
        if isinstance(footprint, Geometry):
            out.append(footprint)
    return out


@algorithm("Collection.geometry")
def geometry(
    collection: Collection,
    maxError: ErrorMargin = NO_ERROR,
) -> Geometry:
    """Merges the geometries of the elements into one multi-geometry (not dissolved).

    Args:
        collection: The collection.
        maxError: The tolerated error (ignored).
    """
    geoms = _geometries(collection)
    geodesic = all(g.geodesic for g in geoms) if geoms else True
    shapes = [part for g in geoms for part in geodesy.parts(edges_as(g, WGS84, geodesic))]
    kinds = {s.geom_type for s in shapes}
    multi = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}
    if len(kinds) == 1 and next(iter(kinds)) in multi:
        shape = shapely.geometry.shape(
            {
                "type": multi[next(iter(kinds))],
                "coordinates": [shapely.geometry.mapping(s)["coordinates"] for s in shapes],
            }
        )
    else:
        shape = shapely.geometry.GeometryCollection(shapes)
    return Geometry(shape, WGS84, geodesic)


@algorithm("Collection.bounds")
def bounds(
    collection: Collection,
    maxError: ErrorMargin = NO_ERROR,
    proj: Projection = WGS84_PROJECTION,
) -> Geometry:
    """Returns the bounding rectangle of the geometries of the elements.

    Args:
        collection: The collection.
        maxError: The tolerated error (ignored).
        proj: The projection of the rectangle. Default: EPSG:4326.
    """
    geoms = _geometries(collection)
    if not geoms:
        raise InvalidArgumentError("Collection.bounds: the collection has no geometries.")
    target = proj.crs if isinstance(proj, Projection) else WGS84
    shapes = [
        on_ellipsoid(g) if target == WGS84 else space_of(g, proj_crs=target).shape(g) for g in geoms
    ]
    x0, y0, x1, y1 = shapely.union_all(shapes).bounds
    ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return Geometry(shapely.geometry.Polygon(ring), target, False)


@algorithm("Collection.union")
def union(collection: Collection, maxError: ErrorMargin | None = None) -> Collection:
    """Dissolves the geometries of the elements into one feature with id 'union_result'.

    Args:
        collection: The collection.
        maxError: The tolerated error (ignored).
    """
    geoms = _geometries(collection)
    shape = shapely.union_all([on_ellipsoid(g) for g in geoms])
    geodesic = all(g.geodesic for g in geoms) if geoms else True
    return FeatureCollection((Feature(Geometry(shape, WGS84, geodesic), {}, "union_result"),))


@algorithm("Collection.remap")
def remap(
    collection: Collection, lookupIn: list[Any], lookupOut: list[int], columnName: str
) -> Collection:
    """Maps the values of a property through two parallel lists; other elements are dropped.

    Args:
        collection: The collection.
        lookupIn: The values to map.
        lookupOut: The values they map to.
        columnName: The property to remap.
    """
    if len(lookupIn) != len(lookupOut):
        raise InvalidArgumentError("Collection.remap: lookupIn and lookupOut differ in length.")
    kept = []
    for item in elements(collection):
        value = item.get(columnName)
        if value in lookupIn:
            new = lookupOut[lookupIn.index(value)]
            kept.append(replace(item, properties={**item.properties, columnName: new}))
    return rebuild(collection, kept)


@algorithm("Collection.randomColumn")
def random_column(
    collection: Collection,
    columnName: str = "random",
    seed: int = 0,
    distribution: str = "uniform",
    rowKeys: list[str] = ["system:index"],  # noqa: B006 - Earth Engine's default; never mutated
) -> Collection:
    """Adds a column of deterministic pseudo-random numbers, a function of the seed and the row.

    The numbers are not Earth Engine's, but they are reproducible: the same seed and row keys
    give the same numbers.

    Args:
        collection: The collection.
        columnName: The name of the new property.
        seed: The seed.
        distribution: 'uniform' (in [0, 1)) or 'normal' (mean 0, standard deviation 1).
        rowKeys: The properties that identify a row.
    """
    if distribution not in ("uniform", "normal"):
        raise InvalidArgumentError(
            f"Collection.randomColumn: unknown distribution '{distribution}'."
        )
    out = []
    for item in elements(collection):
        key = repr([seed, *[item.get(k) for k in rowKeys]]).encode()
        digest = hashlib.sha256(key).digest()
        u1 = (int.from_bytes(digest[:7], "big") >> 3) / 2**53
        if distribution == "normal":
            u2 = (int.from_bytes(digest[7:14], "big") >> 3) / 2**53
            value = math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2)
        else:
            value = u1
        out.append(replace(item, properties={**item.properties, columnName: value}))
    return rebuild(collection, out)


@algorithm("Collection.cache")
def cache(collection: Collection) -> Collection:
    """Returns the collection unchanged (results are not cached across requests).

    Args:
        collection: The collection.
    """
    return collection


@algorithm("FeatureCollection.makeArray")
def make_array(collection: Collection, properties: list[str], name: str = "array") -> Collection:
    """Adds to each element a property holding the values of the given properties, as a list.

    Elements missing any of the properties are dropped.

    Args:
        collection: The collection.
        properties: The properties to gather, in order.
        name: The name of the new property.
    """
    out = []
    for item in elements(collection):
        values = [item.get(p) for p in properties]
        if all(v is not None for v in values):
            out.append(replace(item, properties={**item.properties, name: values}))
    return rebuild(collection, out)


# Earth Engine's default error margin of randomPoints, as JSON.
RANDOM_POINTS_ERROR: Any = {"type": "ErrorMargin", "unit": "meters", "value": 100.0}


@algorithm("FeatureCollection.randomPoints")
def random_points(
    region: Geometry,
    points: int = 1000,
    seed: int = 0,
    maxError: ErrorMargin = RANDOM_POINTS_ERROR,
) -> Collection:
    """Generates points uniformly distributed (by area) in a region; the same seed, the same points.

    The points are reproducible but not Earth Engine's.

    Args:
        region: The region (polygons) to fill.
        points: The number of points.
        seed: The seed of the random generator.
        maxError: The tolerated error (ignored).
    """
    if not 0 <= points <= 1_000_000:
        raise InvalidArgumentError("FeatureCollection.randomPoints: points must be 0-1000000.")
    shape = on_ellipsoid(region)
    if shape.area == 0:
        raise InvalidArgumentError("FeatureCollection.randomPoints: the region has no area.")
    plane = geodesy.LocalPlane(shape)
    flat = plane.to_plane(shape)
    x0, y0, x1, y1 = flat.bounds
    rng = np.random.default_rng(seed)
    found: list[Any] = []
    while len(found) < points:
        xs = rng.uniform(x0, x1, 4 * (points - len(found)) + 16)
        ys = rng.uniform(y0, y1, len(xs))
        inside = shapely.contains_xy(flat, xs, ys)
        found.extend(zip(xs[inside], ys[inside], strict=True))
    features = []
    for i, (x, y) in enumerate(found[:points]):
        point = plane.to_lonlat(shapely.geometry.Point(x, y))
        features.append(Feature(Geometry(point), {}, str(i)))
    return FeatureCollection(tuple(features))
