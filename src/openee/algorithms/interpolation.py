"""Images interpolated from point observations: FeatureCollection.inverseDistance and kriging.

Earth Engine does not publish its formulas; the ones used here are stated in each docstring (and
in docs/decisions/0016). The pixel work is in `openee.raster.interpolate`. The output band is
named after the interpolated property.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image
from openee.raster.interpolate import InverseDistanceBand, KrigingBand, Observations, PointSet
from openee.reducers.registry import Context, collapse_kernel, default, require
from openee.values.feature import Feature, FeatureCollection
from openee.values.reducer import Reducer

MAX_POINTS = 10_000
SHAPES = ("exponential", "gaussian", "spherical")


def _positive(value: float, name: str) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise InvalidArgumentError(f"{name} must be a positive number, got {value!r}.")
    return float(value)


def observations(
    collection: FeatureCollection, propertyName: str, reducer: Reducer | None
) -> Observations:
    """The (lon, lat, value) of each feature's centroid; features at the same location are
    collapsed into one value with `reducer` (mean when none is given). Features without the
    property are skipped."""
    name = (
        default(Context.COLLAPSE)
        if reducer is None
        else require(reducer, Context.COLLAPSE, simple=True).name
    )
    collapse = collapse_kernel(name)
    by_place: dict[tuple[float, float], list[float]] = defaultdict(list)
    for feature in collection.features:
        if not isinstance(feature, Feature) or feature.geometry is None:
            continue
        value = feature.get(propertyName)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgumentError(f"Property '{propertyName}' must be a number.")
        centroid = feature.geometry.transformed("EPSG:4326").centroid
        if centroid.is_empty:
            continue
        by_place[(float(centroid.x), float(centroid.y))].append(float(value))
    if len(by_place) > MAX_POINTS:
        raise InvalidArgumentError(f"More than {MAX_POINTS} distinct points.")
    return tuple(
        (lon, lat, float(collapse(np.asarray(values)))) for (lon, lat), values in by_place.items()
    )


@algorithm("FeatureCollection.inverseDistance")
def inverse_distance(
    collection: FeatureCollection,
    range: float,
    propertyName: str,
    mean: float,
    stdDev: float,
    gamma: float = 1.0,
    reducer: Reducer | None = None,
) -> Image:
    """Returns an inverse-distance weighted estimate of the value at each pixel. With d_i the
    geodesic distance from the pixel centre to point i and R the range, the points with
    d_i < R get weights w_i = ((R - d_i) / (R d_i))^2 (modified Shepard weights, zero at the
    edge of the window), the global mean gets w_0 = gamma / R^2, and the estimate is
    (sum w_i v_i + w_0 mean) / (sum w_i + w_0): it equals a point's value on the point and
    tends to the mean with distance, faster for a larger gamma (with gamma 1, a lone point at
    R/2 weighs as much as the mean). Pixels with no point within R are masked. One band, named
    after propertyName.

    Args:
        collection: Feature collection to use as source data for the estimation (centroids of
            non-point geometries are used).
        range: Size of the interpolation window (in meters).
        propertyName: Name of the numeric property to be estimated.
        mean: Global expected mean.
        stdDev: Global standard deviation; must be positive. It does not enter the estimate
            above.
        gamma: Determines how quickly the estimates tend towards the global mean.
        reducer: Reducer used to collapse the 'propertyName' value of overlapping points into a
            single value (mean, median, min, max, sum, first or last); mean by default.
    """
    radius = _positive(range, "range")
    _positive(stdDev, "stdDev")
    if not math.isfinite(mean):
        raise InvalidArgumentError("mean must be a finite number.")
    if not (math.isfinite(gamma) and gamma >= 0):
        raise InvalidArgumentError(f"gamma must be a non-negative number, got {gamma!r}.")
    points = observations(collection, propertyName, reducer)
    band = InverseDistanceBand(PointSet(points), radius, float(mean), float(gamma))
    return Image((Band(propertyName, band),))


@algorithm("FeatureCollection.kriging")
def kriging(
    collection: FeatureCollection,
    propertyName: str,
    shape: str,
    range: float,
    sill: float,
    nugget: float,
    maxDistance: float | None = None,
    reducer: Reducer | None = None,
) -> Image:
    """Returns the results of sampling an ordinary-kriging estimator at each pixel: the weights
    l_i of the points within maxDistance of the pixel solve sum_j g(d_ij) l_j + m = g(d_i0) and
    sum_j l_j = 1, and the estimate is sum l_i v_i. The semivariogram is g(0) = 0 and, for a lag
    h > 0 with r = h / range, g(h) = nugget + (sill - nugget) f(r) with f(r) = 1.5 r - 0.5 r^3
    (r < 1, else 1) for spherical, 1 - exp(-3 r) for exponential and 1 - exp(-3 r^2) for
    gaussian. Distances are geodesic metres; pixels with no point within maxDistance are
    masked. One band, named after propertyName.

    Args:
        collection: Feature collection to use as source data for the estimation (centroids of
            non-point geometries are used).
        propertyName: Property to be estimated (must be numeric).
        shape: Semivariogram shape (one of {exponential, gaussian, spherical}).
        range: Semivariogram range, in meters.
        sill: Semivariogram sill (the total sill, nugget included).
        nugget: Semivariogram nugget.
        maxDistance: Radius which determines which features are included in each pixel's
            computation, in meters. Defaults to the semivariogram's range.
        reducer: Reducer used to collapse the 'propertyName' value of overlapping points into a
            single value (mean, median, min, max, sum, first or last); mean by default.
    """
    if shape not in SHAPES:
        raise InvalidArgumentError(
            f"Unknown semivariogram shape '{shape}'; use one of {', '.join(SHAPES)}."
        )
    radius = _positive(range, "range")
    total = _positive(sill, "sill")
    if not (isinstance(nugget, int | float) and 0 <= nugget <= total):
        raise InvalidArgumentError(f"nugget must be between 0 and the sill, got {nugget!r}.")
    reach = radius if maxDistance is None else _positive(maxDistance, "maxDistance")
    points = observations(collection, propertyName, reducer)
    band = KrigingBand(PointSet(points), shape, radius, total, float(nugget), reach)
    return Image((Band(propertyName, band),))
