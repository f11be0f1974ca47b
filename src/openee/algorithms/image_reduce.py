"""Image reductions over regions and pixel sampling: reduceRegion, reduceRegions, sample and
sampleRegions. The pixels come from `openee.engine.regions`; the reducers are applied with
numpy for the common statistics and with the list kernels of `openee.algorithms.aggregate` for
everything else.

Earth Engine reduces a region's pixels by two rules (docs/decisions/0054): an unweighted reducer
(count, min, ..., or any made so by Reducer.unweighted) takes the unmasked pixels whose centre
is inside, each weighing 1; a weighted one (mean, sum, variance, stdDev, frequencyHistogram,
histogram, mode: the reducers with a weighted statistic) takes the unmasked pixels the region
covers at all, each weighing the smaller of its mask and the covered fraction. Each part of a
combined reducer follows its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely.geometry

from openee.algorithms import aggregate
from openee.algorithms.aggregate_weighted import evaluate_weighted, weighted_inputs
from openee.algorithms.context import current
from openee.algorithms.registry import algorithm
from openee.engine.regions import (
    Gathered,
    analysis_projection,
    fit_region,
    gather,
    image_region,
)
from openee.errors import InvalidArgumentError
from openee.raster.image import Image
from openee.reducers.registry import SPECS, Context, require, spec, split, takes_weights
from openee.values.feature import Feature, FeatureCollection
from openee.values.geometry import WGS84, Geometry
from openee.values.projection import Projection
from openee.values.reducer import Reducer

DEFAULT_MAX_PIXELS = 10_000_000
# sample and sampleRegions have no maxPixels argument; this protects the server.
SAMPLE_MAX_PIXELS = 100_000_000


# -- applying a reducer to pixel values ---------------------------------------------------------


@dataclass(frozen=True)
class BandPixels:
    """One band's pixels of a region with what both rules need: the values, where the band is
    unmasked, where the pixel's centre is inside (None: everywhere) and its weight for the
    weighted rule, the smaller of mask and covered fraction (None: 1 where inside)."""

    values: np.ndarray
    valid: np.ndarray
    inside: np.ndarray | None = None
    weight: np.ndarray | None = None

    @classmethod
    def of(cls, pixels: Gathered, band: int) -> BandPixels:
        weight = pixels.cover
        mask = pixels.weights[band] if pixels.weights else None
        if weight is not None and mask is not None:
            weight = np.minimum(weight, mask)
        return cls(pixels.values[band], pixels.valid[band], pixels.inside, weight)

    def unweighted(self) -> np.ndarray:
        """The values of the unweighted rule: unmasked, centre inside."""
        ok = self.valid if self.inside is None else self.valid & self.inside
        return self.values[ok]

    def weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """The values of the weighted rule and their weights (those above 0)."""
        if self.weight is None:
            values = self.unweighted()
            return values, np.ones(values.shape, dtype=np.float32)
        ok = self.valid & (self.weight > 0)
        return self.values[ok], self.weight[ok]


def band_outputs(reducer: Reducer, band: BandPixels) -> list[Any]:
    """The outputs of a one-input reducer over one band's pixels, by Earth Engine's rules."""
    parts = split(reducer)
    if parts is not None:  # combine (shared inputs) or forEach of one: each part on the input
        return [v for part, _ in parts for v in band_outputs(part, band)]
    if band.values.dtype == object or not takes_weights(reducer):
        return column_outputs(reducer, band.unweighted())
    values, weights = band.weighted()
    if values.size == 0 or bool(np.all(weights == 1)):  # whole pixels: the unweighted kernels
        return column_outputs(reducer, values)
    statistic = spec(reducer.name).weighted
    assert statistic is not None  # takes_weights said so
    weights = weights.astype(np.float64)
    return statistic(values, weights, float(weights.sum()), reducer)


def column_outputs(reducer: Reducer, values: np.ndarray) -> list[Any]:
    """The outputs of a one-input reducer over the valid values of one band."""
    if values.dtype == np.bool_:
        values = values.astype(np.uint8)
    if values.dtype == object:  # array pixels, as nested lists
        return _array_outputs(reducer, values)
    parts = split(reducer)
    if parts is not None and reducer.option("sharedInputs"):  # combine, its parts on one input
        return [v for part, _ in parts for v in column_outputs(part, values)]
    if values.size == 0 or reducer.repeat != 1 or reducer.parts:
        return aggregate.evaluate(reducer, [values.tolist()])
    found = SPECS.get(reducer.name)
    fast = found.column(values, reducer) if found and found.column else None
    if fast is not None:
        return fast
    return aggregate.evaluate(reducer, [values.tolist()])


def _array_outputs(reducer: Reducer, values: np.ndarray) -> list[Any]:
    # Array pixels are taken as they are (nested lists), as Earth Engine's reducers do: by
    # the list-like reducers, and the covariances of 1-D arrays (the first step of a PCA).
    require(reducer, Context.REGION_ARRAY)
    return aggregate.evaluate(reducer, [values.tolist()])


def reduce_pixels(
    reducer: Reducer, names: Sequence[str], pixels: Gathered, by_band: bool
) -> dict[str, Any]:
    """The reducer's outputs over a region's pixels, named as Earth Engine names them.

    A one-input reducer is applied to each band separately, on the band's own unmasked pixels;
    its outputs are then named '<band>' (one output) or '<band>_<output>'. With `by_band` false
    (reduceRegions) and a one-band image, they keep the reducer's own names. A reducer of n
    inputs takes the n bands of the image as its inputs, on the pixels where all are unmasked.
    """
    inputs = reducer.num_inputs()
    out: dict[str, Any] = {}
    if inputs == 1 and (by_band or len(names) > 1):
        for i, name in enumerate(names):
            results = band_outputs(reducer, BandPixels.of(pixels, i))
            if len(reducer.outputs) == 1:
                out[name] = results[0]
            else:
                out.update(
                    {f"{name}_{o}": r for o, r in zip(reducer.outputs, results, strict=True)}
                )
        return out
    if inputs != len(names):
        raise InvalidArgumentError(
            f"The reducer takes {inputs} inputs, but the image has {len(names)} bands."
        )
    if inputs == 1:
        results = band_outputs(reducer, BandPixels.of(pixels, 0))
    else:
        results = _inputs_outputs(reducer, pixels)
    return dict(zip(reducer.outputs, results, strict=True))


def _inputs_outputs(reducer: Reducer, pixels: Gathered) -> list[Any]:
    """A reducer of n inputs over the n bands, on the pixels where all are unmasked: its
    weighted inputs with their weights, the others on the pixels whose centre is inside."""
    ok = np.logical_and.reduce(pixels.valid) if pixels.valid else np.zeros(0, dtype=bool)
    takes = weighted_inputs(reducer)
    if not any(takes) or pixels.inside is None:
        if pixels.inside is not None:
            ok = ok & pixels.inside
        return aggregate.evaluate(reducer, [v[ok].tolist() for v in pixels.values])
    bands = [BandPixels.of(pixels, i) for i in range(len(pixels.values))]
    columns: list[list[Any]] = []
    weights: list[list[Any] | None] = []
    for band, weighted in zip(bands, takes, strict=True):
        values = band.values[ok].tolist()
        if weighted and band.weight is not None:
            weight = band.weight[ok]
            # A pixel of weight 0 is not in the region for this input: a null weight skips it.
            weights.append([float(w) if w > 0 else None for w in weight.tolist()])
            columns.append(values)
        else:
            inside = pixels.inside[ok].tolist()
            columns.append([v if i else None for v, i in zip(values, inside, strict=True)])
            weights.append(None)
    return evaluate_weighted(reducer, columns, weights)


def _weighted(reducer: Reducer) -> bool:
    """Whether any input of the reducer is weighted (its region then measures coverage)."""
    return any(weighted_inputs(reducer))


def _context() -> tuple[Any, int]:
    ctx = current()
    return ctx.executor, ctx.chunk_size


def _sources(image: Image) -> list[Any]:
    return [b.source for b in image.bands]


# -- algorithms ----------------------------------------------------------------------------------


@algorithm("Image.reduceRegion")
def reduce_region(
    image: Image,
    reducer: Reducer,
    geometry: Geometry | None = None,
    scale: float | None = None,
    crs: Projection | None = None,
    crsTransform: list[float] | None = None,
    bestEffort: bool = False,
    maxPixels: int = 10_000_000,
    tileScale: float = 1.0,
) -> dict[str, Any]:
    """Applies a reducer to all the pixels in a region.

    An unweighted reducer (count, min, max, ..., or any after Reducer.unweighted) takes the
    pixels whose centres fall in the region; a weighted one (mean, sum, variance, stdDev,
    the histograms, mode) every pixel the region covers, weighted by the covered fraction
    (capped by the mask). A one-input reducer is applied to each band, giving '<band>' (one
    output) or '<band>_<output>' keys; a reducer of n inputs takes the image's n bands.
    Masked pixels are skipped.

    Args:
        image: The image to reduce.
        reducer: The reducer to apply.
        geometry: The region. Default: the footprint of the image.
        scale: The nominal scale in metres of the projection to work in.
        crs: The projection to work in. Default: the projection of the image's first band;
            rescaled to `scale` when that is given.
        crsTransform: The CRS transform, replacing the projection's; exclusive with scale.
        bestEffort: If the region holds too many pixels at the given scale, use a coarser
            scale at which it holds few enough.
        maxPixels: The maximum number of pixels to reduce.
        tileScale: Accepted for compatibility; pixels are read in chunks regardless.
    """
    region_geometry = image_region(image, geometry, "geometry")
    projection = analysis_projection(image, scale, crs, crsTransform)
    region = fit_region(region_geometry, projection, maxPixels, bestEffort, _weighted(reducer))
    executor, chunk_size = _context()
    pixels = gather(_sources(image), region, executor, chunk_size)
    return dict(sorted(reduce_pixels(reducer, image.band_names, pixels, True).items()))


@algorithm("Image.reduceRegions")
def reduce_regions(
    image: Image,
    collection: FeatureCollection,
    reducer: Reducer,
    scale: float | None = None,
    crs: Projection | None = None,
    crsTransform: list[float] | None = None,
    tileScale: float = 1.0,
    maxPixelsPerRegion: int | None = None,
) -> FeatureCollection:
    """Applies a reducer over the area of each feature of a collection.

    Each feature is returned with the reducer's outputs added as properties: named after the
    reducer's outputs for a one-band image, after the bands otherwise (as reduceRegion).

    Args:
        image: The image to reduce.
        collection: The features whose geometries are the regions.
        reducer: The reducer to apply.
        scale: The nominal scale in metres of the projection to work in.
        crs: The projection to work in. Default: the projection of the image's first band.
        crsTransform: The CRS transform, replacing the projection's; exclusive with scale.
        tileScale: Accepted for compatibility; pixels are read in chunks regardless.
        maxPixelsPerRegion: The maximum number of pixels per region (default 10 million).
    """
    features = _features(collection, "collection")
    projection = analysis_projection(image, scale, crs, crsTransform)
    limit = maxPixelsPerRegion if maxPixelsPerRegion is not None else DEFAULT_MAX_PIXELS
    weighted = _weighted(reducer)
    executor, chunk_size = _context()
    out = []
    for feature in features:
        if feature.geometry is None:
            raise InvalidArgumentError("A feature of the collection has no geometry.")
        region = fit_region(feature.geometry, projection, limit, False, weighted)
        pixels = gather(_sources(image), region, executor, chunk_size)
        results = reduce_pixels(reducer, image.band_names, pixels, False)
        out.append(replace(feature, properties={**feature.properties, **results}))
    return FeatureCollection(tuple(out), collection.id, dict(collection.properties))


@algorithm("Image.sample")
def sample(
    image: Image,
    region: Geometry | None = None,
    scale: float | None = None,
    projection: Projection | None = None,
    factor: float | None = None,
    numPixels: int | None = None,
    seed: int = 0,
    dropNulls: bool = True,
    tileScale: float = 1.0,
    geometries: bool = False,
) -> FeatureCollection:
    """Samples the pixels of an image, returning them as a FeatureCollection.

    Each feature holds one property per band. Pixels are taken in row-major order; with a
    factor (or numPixels) each pixel of the region is kept with that probability, drawn from
    a generator seeded with `seed`, so a given request always returns the same pixels.

    Args:
        image: The image to sample.
        region: The region to sample from. Default: the image's footprint.
        scale: The nominal scale in metres of the projection to sample in.
        projection: The projection to sample in. Default: the projection of the image's first
            band; rescaled to `scale` when that is given.
        factor: A subsampling factor in (0, 1]: the share of the pixels to keep.
        numPixels: The approximate number of pixels to sample (instead of factor).
        seed: The seed of the random subsampling.
        dropNulls: Drop the pixels where any band is masked.
        tileScale: Accepted for compatibility; pixels are read in chunks regardless.
        geometries: Give each feature its pixel's centre as a point geometry.
    """
    if factor is not None and numPixels is not None:
        raise InvalidArgumentError("Only one of 'factor' and 'numPixels' may be given.")
    if factor is not None and not 0 < factor <= 1:
        raise InvalidArgumentError(f"The factor must be in (0, 1], got {factor}.")
    if numPixels is not None and numPixels < 0:
        raise InvalidArgumentError(f"numPixels must not be negative, got {numPixels}.")
    geometry = image_region(image, region, "region")
    proj = analysis_projection(image, scale, projection, None)
    area = fit_region(geometry, proj, SAMPLE_MAX_PIXELS, False)
    share = factor
    if numPixels is not None:
        total = area.count()
        share = min(1.0, numPixels / total) if total else 1.0
    rng = np.random.default_rng(seed)

    def keep(mask: np.ndarray) -> np.ndarray:
        if share is None or share >= 1:
            return mask
        return mask & (rng.random(mask.shape) < share)

    executor, chunk_size = _context()
    pixels = gather(_sources(image), area, executor, chunk_size, keep)
    rows = _pixel_rows(image, pixels, dropNulls)
    points = _points(pixels, proj, rows) if geometries else None
    features = [
        Feature(points[i] if points is not None else None, props, str(i))
        for i, props in enumerate(_properties(image, pixels, rows))
    ]
    return FeatureCollection(tuple(features))


@algorithm("Image.sampleRegions")
def sample_regions(
    image: Image,
    collection: FeatureCollection,
    properties: list[str] | None = None,
    scale: float | None = None,
    projection: Projection | None = None,
    tileScale: float = 1.0,
    geometries: bool = False,
) -> FeatureCollection:
    """Samples the pixels of an image in each region of a collection.

    Every unmasked pixel in a feature's geometry (every band unmasked) becomes a feature with
    one property per band plus the copied properties of its region's feature; a point takes
    the pixel it falls in. Ids are '<feature id>_<n>'.

    Args:
        image: The image to sample.
        collection: The regions, as features.
        properties: The properties to copy from each feature. Default: all but system ones.
        scale: The nominal scale in metres of the projection to sample in.
        projection: The projection to sample in. Default: the projection of the image's first
            band; rescaled to `scale` when that is given.
        tileScale: Accepted for compatibility; pixels are read in chunks regardless.
        geometries: Give each feature its pixel's centre as a point geometry.
    """
    features = _features(collection, "collection")
    proj = analysis_projection(image, scale, projection, None)
    executor, chunk_size = _context()
    out: list[Feature] = []
    for k, feature in enumerate(features):
        if feature.geometry is None:
            raise InvalidArgumentError("A feature of the collection has no geometry.")
        region = fit_region(feature.geometry, proj, SAMPLE_MAX_PIXELS, False)
        pixels = gather(_sources(image), region, executor, chunk_size)
        rows = _pixel_rows(image, pixels, True)
        points = _points(pixels, proj, rows) if geometries else None
        copied = _copied(feature, properties)
        base = feature.id if feature.id is not None else str(k)
        for n, props in enumerate(_properties(image, pixels, rows)):
            geometry = points[n] if points is not None else None
            out.append(Feature(geometry, {**copied, **props}, f"{base}_{n}"))
    return FeatureCollection(tuple(out))


# -- helpers -------------------------------------------------------------------------------------


def _features(collection: Any, what: str) -> list[Feature]:
    if not isinstance(collection, FeatureCollection):
        raise InvalidArgumentError(f"'{what}' must be a FeatureCollection.")
    items = list(collection.features)
    if not all(isinstance(f, Feature) for f in items):
        raise InvalidArgumentError(f"'{what}' must hold features.")
    return items


def _pixel_rows(image: Image, pixels: Gathered, drop_nulls: bool) -> np.ndarray:
    """The indices of the pixels to output: all, or those where every band is unmasked."""
    count = pixels.cols.size
    if not drop_nulls or not pixels.valid:
        return np.arange(count)
    return np.flatnonzero(np.logical_and.reduce(pixels.valid))


def _properties(image: Image, pixels: Gathered, rows: np.ndarray) -> list[dict[str, Any]]:
    columns = [
        (name, values[rows].tolist(), valid[rows].tolist())
        for name, values, valid in zip(image.band_names, pixels.values, pixels.valid, strict=True)
    ]
    return [
        {name: (values[i] if ok[i] else None) for name, values, ok in columns}
        for i in range(rows.size)
    ]


def _points(pixels: Gathered, projection: Projection, rows: np.ndarray) -> list[Geometry]:
    xs, ys = pixels.centres(projection, WGS84)
    return [
        Geometry(shapely.geometry.Point(x, y), WGS84, False)
        for x, y in zip(xs[rows].tolist(), ys[rows].tolist(), strict=True)
    ]


def _copied(feature: Feature, names: list[str] | None) -> dict[str, Any]:
    if names is None:
        return {k: v for k, v in feature.properties.items() if not k.startswith("system:")}
    return {n: feature.properties.get(n) for n in names}
