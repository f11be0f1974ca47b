"""Image algorithms about projections and where pixels are: resample, reproject,
setDefaultProjection, reduceResolution, displace, clip, pixel coordinates and areas."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from shapely.ops import unary_union

from openee.algorithms.coerce import coerce
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.bandmath import LonLatBand
from openee.raster.displace import ORDERS, DisplacedBand, DisplacementBand
from openee.raster.image import Band, Image
from openee.raster.read import RESAMPLING
from openee.raster.reproject import PixelAreaBand, ReducedResolutionBand, ReprojectedBand
from openee.raster.sources import ClippedBand, with_resampling
from openee.reducers.registry import Context, require
from openee.values.feature import Feature, FeatureCollection
from openee.values.geometry import Geometry
from openee.values.projection import Projection
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
    """Sets the projection every band is computed in unless a request says otherwise: a
    composite's, and a stored band's too (the stock client turns a thumbnail's or download's
    `crs` into this call, with a unit transform, so that the output grid is laid out in that
    CRS). Nothing is resampled until pixels are asked for; the sources are still read where
    they are, into whatever grid is requested.

    Args:
        image: The image.
        crs: The default projection.
        crsTransform: The transform of the projection, if not crs's own.
        scale: The pixel size in meters, instead of crsTransform.
    """
    proj = _projection(crs, crsTransform, scale)
    # The native grid's dimensions no longer describe the band in its new projection.
    return image.map_bands(lambda b: replace(b, projection=proj, dimensions=None))


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
    require(reducer, Context.RESOLUTION)

    def reduced(band: Band) -> Band:
        if band.projection is None:
            raise InvalidArgumentError(
                f"Band '{band.name}' has no native projection; use reproject or "
                "setDefaultProjection first."
            )
        proj = band.projection
        return replace(band, source=ReducedResolutionBand(band.source, proj.crs, proj.transform))

    return image.map_bands(reduced)


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
