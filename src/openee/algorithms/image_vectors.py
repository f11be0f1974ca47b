"""Image algorithms that turn pixels into features: reduceToVectors (objects as polygons,
boxes or centroids), sampleRectangle (a block of pixels as lists) and stratifiedSample (random
pixels per class). Pixels are read in the analysis projection as reduceRegion reads them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import rasterio.features
import shapely.geometry
from scipy import ndimage
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from openee.algorithms import aggregate
from openee.algorithms.context import current
from openee.algorithms.image_reduce import column_outputs
from openee.algorithms.registry import algorithm
from openee.engine.chunks import materialize
from openee.engine.regions import (
    InlineExecutor,
    Region,
    analysis_projection,
    fit_region,
    gather,
    image_region,
)
from openee.errors import InvalidArgumentError
from openee.raster.components import EIGHT, FOUR, label
from openee.raster.image import Image
from openee.raster.pixels import Pixels
from openee.reducers.registry import counting, spec
from openee.values.feature import Feature, FeatureCollection
from openee.values.geometry import WGS84, Geometry
from openee.values.projection import Projection
from openee.values.reducer import Reducer

GEOMETRY_TYPES = ("polygon", "bb", "centroid")
# sampleRectangle refuses larger blocks, as Earth Engine does.
SAMPLE_RECTANGLE_MAX_PIXELS = 262_144


def _pixels(image: Image, region: Region) -> list[Pixels]:
    """Every band's pixels on the region's bounding grid."""
    ctx = current()
    executor = ctx.executor if ctx.executor is not None else InlineExecutor()
    return materialize([b.source for b in image.bands], region.grid(), executor, ctx.chunk_size)


def _number(value: Any) -> Any:
    v = value.item() if isinstance(value, np.generic) else value
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _reduced(reducer: Reducer, columns: list[np.ndarray], count: int) -> list[Any]:
    if not columns:
        if not spec(reducer.name).counts:
            raise InvalidArgumentError(
                f"The reducer '{reducer.name}' needs bands besides the label band to reduce."
            )
        return [count]
    if reducer.num_inputs() != len(columns):
        raise InvalidArgumentError(
            f"The reducer takes {reducer.num_inputs()} inputs, but the image has "
            f"{len(columns)} bands besides the label band."
        )
    if len(columns) == 1:
        return column_outputs(reducer, columns[0])
    return aggregate.evaluate(reducer, [c.tolist() for c in columns])


def _vectors(
    image: Image,
    reducer: Reducer | None,
    geometry: Geometry | None,
    scale: float | None,
    geometryType: str,
    eightConnected: bool,
    labelProperty: str | None,
    crs: Projection | None,
    crsTransform: list[float] | None,
    bestEffort: bool,
    maxPixels: int,
    native: bool,
) -> FeatureCollection:
    if geometryType not in GEOMETRY_TYPES:
        raise InvalidArgumentError(
            f"Unknown geometryType '{geometryType}': use one of {', '.join(GEOMETRY_TYPES)}."
        )
    if not image.bands:
        raise InvalidArgumentError("reduceToVectors: the image has no bands.")
    red = reducer or counting()
    projection = analysis_projection(image, scale, crs, crsTransform)
    region = fit_region(
        image_region(image, geometry, "geometry"), projection, maxPixels, bestEffort
    )
    if region.empty:
        return FeatureCollection(())
    pixels = _pixels(image, region)
    inside = region.mask(0, 0, region.height, region.width)
    first, others = pixels[0], pixels[1:]
    valid = first.valid & inside
    comp = label(first.data, valid, EIGHT if eightConnected else FOUR)
    grid = region.grid()
    shapes: dict[int, list[BaseGeometry]] = defaultdict(list)
    for geojson, value in rasterio.features.shapes(
        comp.ids.astype(np.int32),
        mask=valid,
        connectivity=8 if eightConnected else 4,
        transform=grid.transform,
    ):
        shapes[int(value)].append(shapely.geometry.shape(geojson))
    # Components are numbered in the order of their first pixel (row-major); each is read
    # within its bounding box only.
    boxes = ndimage.find_objects(comp.ids + 1)
    features: list[Feature] = []
    for k in sorted(shapes):
        box = boxes[k]
        assert box is not None
        members = comp.ids[box] == k
        shape = unary_union(shapes[k])
        if geometryType == "bb":
            shape = shapely.geometry.box(*shape.bounds)
        elif geometryType == "centroid":
            shape = shape.centroid
        geom = Geometry(shape, projection.crs, False)
        if not native:
            geom = geom.to_wgs84()
        columns = [p.data[box][members & p.valid[box]] for p in others]
        values = _reduced(red, columns, int(members.sum()))
        props: dict[str, Any] = dict(zip(red.outputs, values, strict=True))
        if labelProperty:
            props[labelProperty] = first.data[box][members][0].item()
        features.append(Feature(geom, props, str(len(features))))
    return FeatureCollection(tuple(features))


_VECTOR_ARGS = """
Args:
    image: The input image: the first band is the label, the others the reducer's inputs.
    reducer: The reducer applied to the other bands' pixels of each object (default
        countEvery: a 'count' property).
    geometry: The region over which to reduce data. Default: the image's footprint.
    scale: A nominal scale in meters of the projection to work in.
    geometryType: 'polygon' (the object's outline), 'bb' (its bounding box in the working
        projection) or 'centroid'.
    eightConnected: Whether diagonally-connected pixels belong to the same object.
    labelProperty: The property receiving each object's label ('' or null: none).
    crs: The projection to work in. Default: the first band's.
    crsTransform: The CRS transform, instead of scale.
    bestEffort: Use a coarser scale when the region holds more than maxPixels pixels.
    maxPixels: The maximum number of pixels to read.
    tileScale: Accepted for compatibility; pixels are read in chunks regardless.
    geometryInNativeProjection: Give the geometries in the working projection instead of
        EPSG:4326.
"""


def _vector_algorithm(name: str) -> None:
    def reduce_to_vectors(
        image: Image,
        reducer: Reducer | None = None,
        geometry: Geometry | None = None,
        scale: float | None = None,
        geometryType: str = "polygon",
        eightConnected: bool = True,
        labelProperty: str = "label",
        crs: Projection | None = None,
        crsTransform: list[float] | None = None,
        bestEffort: bool = False,
        maxPixels: int = 10_000_000,
        tileScale: float = 1.0,
        geometryInNativeProjection: bool = False,
    ) -> FeatureCollection:
        return _vectors(image, reducer, geometry, scale, geometryType, eightConnected,
                        labelProperty, crs, crsTransform, bestEffort, maxPixels,
                        geometryInNativeProjection)  # fmt: skip

    reduce_to_vectors.__doc__ = (
        "Converts an image to a feature collection: one feature per group of connected pixels "
        "with the same value of the first band, with the label and the reducer's outputs as "
        "properties.\n" + _VECTOR_ARGS
    )
    algorithm(name)(reduce_to_vectors)


_vector_algorithm("Image.reduceToVectors")
# Streaming differs in Earth Engine only in how the batch export runs.
_vector_algorithm("Image.reduceToVectorsStreaming")


@algorithm("Image.sampleRectangle")
def sample_rectangle(
    image: Image,
    region: Geometry | None = None,
    properties: list[str] | None = None,
    defaultValue: float | None = None,
    defaultArrayValue: Any = None,
) -> Feature:
    """Extracts a rectangle of pixels into a feature: one property per band holding a 2-D
    list of values (rows north to south) over the pixels touching the region's bounding box,
    in the projection of the image's first band. Masked pixels take defaultValue.

    Args:
        image: The image to sample.
        region: The region whose bounding box to sample. Default: the image's footprint.
        properties: The image properties to copy to the feature.
        defaultValue: The value for masked pixels; without it a masked pixel is an error.
        defaultArrayValue: Accepted for compatibility (array pixels are not supported).
    """
    geometry = image_region(image, region, "region")
    projection = analysis_projection(image, None, None, None)
    box = Geometry(shapely.geometry.box(*geometry.transformed(projection.crs).bounds),
                   projection.crs, False)  # fmt: skip
    window = Region.of(box, projection)
    if window.empty:
        raise InvalidArgumentError("sampleRectangle: the region holds no pixels.")
    if window.width * window.height > SAMPLE_RECTANGLE_MAX_PIXELS:
        raise InvalidArgumentError(
            f"sampleRectangle: too many pixels in sample; must be <= "
            f"{SAMPLE_RECTANGLE_MAX_PIXELS}. Got {window.width * window.height}."
        )
    full = Region(projection, box.shape, window.col0, window.row0, window.width, window.height)
    pixels = _pixels(image, full)
    props: dict[str, Any] = {}
    for band, p in zip(image.bands, pixels, strict=True):
        if not p.valid.all() and defaultValue is None:
            raise InvalidArgumentError(
                f"sampleRectangle: band '{band.name}' has masked pixels in the region; "
                "give defaultValue."
            )
        data = p.data.astype(object)  # Python numbers, so a default of another type fits
        data[~p.valid] = defaultValue
        props[band.name] = data.tolist()
    for name in properties or []:
        if name in image.properties:
            props[name] = image.properties[name]
    return Feature(geometry, props)


@algorithm("Image.stratifiedSample")
def stratified_sample(
    image: Image,
    numPoints: int,
    classBand: str | None = None,
    region: Geometry | None = None,
    scale: float | None = None,
    projection: Projection | None = None,
    seed: int = 0,
    classValues: list[int] | None = None,
    classPoints: list[int] | None = None,
    dropNulls: bool = True,
    tileScale: float = 1.0,
    geometries: bool = False,
) -> FeatureCollection:
    """Extracts a stratified random sample of points: up to numPoints pixels of each value of
    the class band, drawn without replacement from a generator seeded with `seed`.

    Args:
        image: The image to sample; the class band must be integer-valued.
        numPoints: The default number of points to sample in each class.
        classBand: The band holding the classes. Default: the first band.
        region: The region to sample from. Default: the image's footprint.
        scale: A nominal scale in meters of the projection to sample in.
        projection: The projection to sample in. Default: the first band's.
        seed: A randomization seed.
        classValues: Classes whose number of points is given by classPoints.
        classPoints: The number of points of each class of classValues.
        dropNulls: Skip pixels where any band is masked.
        tileScale: Accepted for compatibility; pixels are read in chunks regardless.
        geometries: Give each feature its pixel's centre as a point geometry.
    """
    if numPoints < 0:
        raise InvalidArgumentError("stratifiedSample: numPoints must not be negative.")
    if (classValues is None) != (classPoints is None) or (
        classValues is not None and classPoints is not None and len(classValues) != len(classPoints)
    ):
        raise InvalidArgumentError(
            "stratifiedSample: classValues and classPoints must be given together, of equal length."
        )
    if not image.bands:
        raise InvalidArgumentError("stratifiedSample: the image has no bands.")
    names = image.band_names
    cls_index = names.index(image.band(classBand).name) if classBand is not None else 0
    proj = analysis_projection(image, scale, projection, None)
    area = fit_region(image_region(image, region, "region"), proj, 100_000_000, False)
    ctx = current()
    pixels = gather([b.source for b in image.bands], area, ctx.executor, ctx.chunk_size)
    ok = pixels.valid[cls_index].copy()
    if dropNulls:
        ok &= np.logical_and.reduce(pixels.valid)
    classes = pixels.values[cls_index]
    wanted = dict(zip(classValues or [], classPoints or [], strict=True))
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for value in np.unique(classes[ok]):
        where = np.flatnonzero(ok & (classes == value))
        n = min(where.size, wanted.get(_number(value), numPoints))
        chosen.extend(sorted(rng.choice(where, size=n, replace=False).tolist()))
    xs, ys = pixels.centres(proj, WGS84) if geometries else (None, None)
    features = []
    for i, k in enumerate(chosen):
        props = {
            name: (values[k].item() if valid[k] else None)
            for name, values, valid in zip(names, pixels.values, pixels.valid, strict=True)
        }
        geom = None
        if xs is not None and ys is not None:
            point = shapely.geometry.Point(float(xs[k]), float(ys[k]))
            geom = Geometry(point, WGS84, False)
        features.append(Feature(geom, props, str(i)))
    return FeatureCollection(tuple(features))
