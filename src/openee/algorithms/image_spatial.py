"""Image algorithms about where pixels are: resample, reproject, clip, pixel coordinates."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
from shapely.ops import unary_union

from openee.algorithms.coerce import coerce
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.bandmath import LonLatBand
from openee.raster.displace import ORDERS, CoordinateBand, DisplacedBand, DisplacementBand
from openee.raster.distance import METRES_PER_DEGREE
from openee.raster.image import DEFAULT_PROJECTION, Band, Image
from openee.raster.paint import (
    PaintedBand,
    ReprojectedCoordinatesBand,
    Stroke,
    TranslatedBand,
)
from openee.raster.read import RESAMPLING
from openee.raster.reproject import PixelAreaBand, ReducedResolutionBand, ReprojectedBand
from openee.raster.sources import ClippedBand, with_resampling
from openee.values.feature import Feature, FeatureCollection
from openee.values.geometry import Geometry
from openee.values.projection import Projection, parse_crs
from openee.values.reducer import Reducer


@algorithm("Image.resample")
def resample(image: Image, mode: str = "bilinear") -> Image:
    """Uses bilinear or bicubic interpolation instead of nearest neighbour when the image's
    source pixels are resampled into a request grid.

    Args:
        image: The image.
        mode: 'bilinear' or 'bicubic'.
    """
    if mode not in RESAMPLING or mode == "nearest":
        raise InvalidArgumentError(f"Unknown resampling mode '{mode}': use bilinear or bicubic.")
    return image.map_bands(lambda b: replace(b, source=with_resampling(b.source, mode)))


def _projection(
    crs: Projection, crsTransform: list[float] | None, scale: float | None
) -> Projection:
    if crsTransform is not None and scale is not None:
        raise InvalidArgumentError("Specify at most one of crsTransform and scale.")
    if crsTransform is not None:
        return Projection.of(crs.crs, crsTransform)
    if scale is not None:
        if scale <= 0:
            raise InvalidArgumentError("scale must be positive.")
        return crs.at_scale(scale)
    return crs


@algorithm("Image.reproject")
def reproject(
    image: Image,
    crs: Projection,
    crsTransform: list[float] | None = None,
    scale: float | None = None,
) -> Image:
    """Forces the image to be computed in a projection and scale, then resampled (nearest) into
    whatever grid is requested.

    Args:
        image: The image.
        crs: The projection to compute in.
        crsTransform: The transform of the projection, if not crs's own.
        scale: The pixel size in meters, instead of crsTransform.
    """
    proj = _projection(crs, crsTransform, scale)
    return image.map_bands(
        lambda b: Band(b.name, ReprojectedBand(b.source, proj.crs, proj.transform), proj, None)
    )


@algorithm("Image.setDefaultProjection")
def set_default_projection(
    image: Image,
    crs: Projection,
    crsTransform: list[float] | None = None,
    scale: float | None = None,
) -> Image:
    """Sets the projection of bands that have none (composites); pixels are not changed.

    Args:
        image: The image.
        crs: The default projection.
        crsTransform: The transform of the projection, if not crs's own.
        scale: The pixel size in meters, instead of crsTransform.
    """
    proj = _projection(crs, crsTransform, scale)
    return image.map_bands(lambda b: b if b.projection else replace(b, projection=proj))


def _geometry(value: Any) -> Geometry:
    if isinstance(value, FeatureCollection):
        shapes = [
            f.geometry.to_wgs84().shape
            for f in value.features
            if isinstance(f, Feature) and f.geometry
        ]
        if not shapes:
            raise InvalidArgumentError("The feature collection has no geometries.")
        return Geometry(unary_union(shapes))
    geometry = coerce(value, "Geometry", "geometry", optional=False)
    assert isinstance(geometry, Geometry)
    return geometry


@algorithm("Image.clip")
def clip(input: Image, geometry: Any) -> Image:
    """Masks every band outside a geometry (or feature, or feature collection).

    Args:
        input: The image.
        geometry: The geometry to clip to.
    """
    geom = _geometry(geometry)
    text = json.dumps(geom.info())
    return replace(
        input.map_bands(lambda b: replace(b, source=ClippedBand(b.source, text, geom.crs))),
        footprint_geometry=geom,
    )


@algorithm("Image.pixelLonLat")
def pixel_lon_lat() -> Image:
    """Creates an image with two bands, 'longitude' and 'latitude': the coordinates of each
    pixel centre in degrees."""
    return Image(
        (Band("longitude", LonLatBand("longitude")), Band("latitude", LonLatBand("latitude")))
    )


@algorithm("Image.pixelArea")
def pixel_area() -> Image:
    """Creates an image with one band, 'area': the area of each pixel in square metres."""
    return Image((Band("area", PixelAreaBand()),))


@algorithm("Image.reduceResolution")
def reduce_resolution(
    image: Image, reducer: Reducer, bestEffort: bool = False, maxPixels: int = 64
) -> Image:
    """Aggregates native pixels into each output pixel with the reducer (mean only, for now)
    whenever the requested grid is coarser than the bands' native grids.

    Args:
        image: The image; every band must have a native projection.
        reducer: The reducer: Reducer.mean().
        bestEffort: Accepted for compatibility.
        maxPixels: The most native pixels per output pixel.
    """
    if reducer.name != "mean":
        raise InvalidArgumentError("Only Reducer.mean() is supported by reduceResolution yet.")

    def reduced(band: Band) -> Band:
        if band.projection is None:
            raise InvalidArgumentError(
                f"Band '{band.name}' has no native projection; use reproject or "
                "setDefaultProjection first."
            )
        proj = band.projection
        return replace(band, source=ReducedResolutionBand(band.source, proj.crs, proj.transform))

    return image.map_bands(reduced)


@algorithm("Image.clipToCollection")
def clip_to_collection(input: Image, collection: Any) -> Image:
    """Masks every band outside the union of the geometries of a feature collection.

    Args:
        input: The image.
        collection: The feature collection to clip to.
    """
    if not isinstance(collection, FeatureCollection):
        raise InvalidArgumentError("clipToCollection: 'collection' must be a FeatureCollection.")
    return clip(input, collection)


@algorithm("Image.pixelCoordinates")
def pixel_coordinates(projection: Projection) -> Image:
    """Creates a two-band image, 'x' and 'y': the coordinates of each pixel centre in the given
    projection (its CRS coordinates mapped through the inverse of its transform).

    Args:
        projection: The projection in which to provide pixels.
    """
    t = tuple(projection.transform)
    return Image(tuple(Band(axis, CoordinateBand(projection.crs, t, axis)) for axis in ("x", "y")))


@algorithm("Image.displace")
def displace(
    image: Image, displacement: Image, mode: str = "bicubic", maxOffset: float | None = None
) -> Image:
    """Warps an image using an image of displacements: each output pixel takes the input's
    value at its position moved by (dx, dy) metres (first band: eastwards, second: northwards),
    converted to pixels with the grid's nominal pixel size.

    Args:
        image: The image to warp.
        displacement: An image of two bands, the X and Y displacements in metres.
        mode: The interpolation mode: 'nearest', 'bilinear' or 'bicubic'.
        maxOffset: The maximum absolute offset in the displacement image, in metres.
    """
    if mode not in ORDERS:
        raise InvalidArgumentError(f"Unknown mode '{mode}': use {', '.join(ORDERS)}.")
    if len(displacement.bands) != 2:
        raise InvalidArgumentError("displace: the displacement image must have two bands.")
    dx, dy = (b.source for b in displacement.bands)
    return image.map_bands(
        lambda b: replace(b, source=DisplacedBand(b.source, dx, dy, mode, maxOffset))
    )


@algorithm("Image.retile")
def retile(image: Image, size: int) -> Image:
    """Changes the size of the tiles used to compute an image; openee computes in its own
    chunks, so the image is returned unchanged.

    Args:
        image: The image.
        size: The tile size, in pixels (between 32 and 256).
    """
    if not 32 <= size <= 256:
        raise InvalidArgumentError("retile: size must be between 32 and 256.")
    return image


def _stroke_value(feature: Feature, value: Any, what: str) -> float | None:
    """A paint argument: a number, or the name of a property holding the number."""
    if value is None:
        return None
    if isinstance(value, str):
        value = feature.properties.get(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"paint: {what} must be a number or a numeric property name.")
    return float(value)


@algorithm("Image.paint")
def paint(
    image: Image, featureCollection: FeatureCollection, color: Any = 0, width: Any = None
) -> Image:
    """Paints the geometries of a collection onto an image: the interiors (no width) or the
    outlines (width in pixels) take the color; painted pixels are unmasked.

    Args:
        image: The image on which the collection is painted.
        featureCollection: The collection painted onto the image.
        color: The pixel value to paint into every band, or the name of a numeric property
            of each feature holding it.
        width: The width of the outlines in pixels, or the name of a numeric property holding
            it; without it the interiors are filled.
    """
    if not isinstance(featureCollection, FeatureCollection):
        raise InvalidArgumentError("paint: 'featureCollection' must be a FeatureCollection.")
    strokes = []
    for f in featureCollection.features:
        if not isinstance(f, Feature) or f.geometry is None:
            continue
        value = _stroke_value(f, color, "color")
        assert value is not None
        text = json.dumps(f.geometry.info())
        strokes.append(Stroke(text, f.geometry.crs, value, _stroke_value(f, width, "width")))
    integral = all(s.value.is_integer() for s in strokes)

    def painted(b: Band) -> Band:
        dtype = np.result_type(b.source.dtype, np.int32 if integral else np.float64)
        return replace(b, source=PaintedBand(b.source, tuple(strokes), dtype.name))

    return image.map_bands(painted)


@algorithm("Image.translate")
def translate(
    input: Image, x: float, y: float, units: str = "meters", proj: Projection | None = None
) -> Image:
    """Translates the image: its content moves x east and y north, in 'meters' or 'pixels' of
    the projection (default: each band's own, else EPSG:4326 at 1 degree).

    Args:
        input: The image to translate.
        x: The amount to translate the image in the x direction.
        y: The amount to translate the image in the y direction.
        units: 'meters' or 'pixels'.
        proj: The projection in which to translate the image; defaults to each band's.
    """
    if units not in ("meters", "pixels"):
        raise InvalidArgumentError(f"Invalid units '{units}': use 'meters' or 'pixels'.")

    def moved(b: Band) -> Band:
        p = proj or b.projection or DEFAULT_PROJECTION
        dx, dy = x, y
        if units == "pixels":
            t = p.transform
            dx, dy = x * abs(t[0]), y * abs(t[4])
        elif parse_crs(p.crs).is_geographic:
            # Metres on a geographic CRS: Earth Engine's 111 319.49 m per degree.
            dx, dy = x / METRES_PER_DEGREE, y / METRES_PER_DEGREE
        return replace(b, source=TranslatedBand(b.source, dx, dy, p.crs))

    return input.map_bands(moved)


@algorithm("Image.changeProj")
def change_proj(input: Image, srcProj: Projection, dstProj: Projection) -> Image:
    """Tweaks the projection of the input image, moving each pixel from its location in
    srcProj to the same coordinates in dstProj.

    Args:
        input: The image.
        srcProj: The original projection.
        dstProj: The new projection.
    """
    source = (srcProj.crs, tuple(srcProj.transform))
    target = (dstProj.crs, tuple(dstProj.transform))

    def moved(b: Band) -> Band:
        recipe = ReprojectedCoordinatesBand(b.source, *source, *target)
        return Band(b.name, recipe, dstProj, None)

    return input.map_bands(moved)


@algorithm("Image.displacement")
def displacement(
    image: Image,
    referenceImage: Image,
    maxOffset: float,
    projection: Projection | None = None,
    patchWidth: float | None = None,
    stiffness: float = 5.0,
) -> Image:
    """Determines the displacements required to register an image to a reference image, by
    block matching on the requested grid: bands 'dx' and 'dy', metres east and north such that
    image.displace(displacement) lines up with the reference. Offsets are whole pixels; the
    bands of both images are compared pairwise (summed squared differences).

    Args:
        image: The image to register.
        referenceImage: The image to register to (as many bands as image).
        maxOffset: The maximum offset allowed when attempting to align the input images, in
            meters (at most 32 pixels of the requested grid).
        projection: Accepted for compatibility: displacements are computed on the requested
            grid.
        patchWidth: Patch size for detecting image offsets, in meters (default: three times
            maxOffset, at least 3 pixels).
        stiffness: Accepted for compatibility: each pixel's offset is chosen independently.
    """
    if len(image.bands) != len(referenceImage.bands) or not image.bands:
        raise InvalidArgumentError(
            "displacement: image and referenceImage must have the same, non-zero number of bands."
        )
    if maxOffset <= 0:
        raise InvalidArgumentError("displacement: maxOffset must be positive.")
    patch = patchWidth if patchWidth is not None else 3 * maxOffset
    src = tuple(b.source for b in image.bands)
    ref = tuple(b.source for b in referenceImage.bands)
    first = referenceImage.bands[0]
    return Image(
        tuple(
            Band(axis, DisplacementBand(src, ref, maxOffset, patch, axis), first.projection)
            for axis in ("dx", "dy")
        )
    )
