"""Image algorithms about distances: distance, fastDistanceTransform,
directionalDistanceTransform, cumulativeCost (recipes in `openee.raster.distance`) and
rsedTransform (`openee.raster.rsed`).
Computed on the requested grid (ADR 0007); search limits are the halos read (ADR 0012).
"""

from __future__ import annotations

from dataclasses import replace

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.distance import (
    CumulativeCostBand,
    DirectionalDistanceBand,
    DistanceTransformBand,
    KernelDistanceBand,
)
from openee.raster.halo import MAX_HALO
from openee.raster.image import Band, Image
from openee.raster.rsed import RsedBand
from openee.values.kernel import Kernel

# Image.distance without a kernel: a euclidean kernel of this many pixels.
DEFAULT_DISTANCE_RADIUS = 256


@algorithm("Image.distance")
def distance(image: Image, kernel: Kernel | None = None, skipMasked: bool = True) -> Image:
    """Computes the distance to the nearest non-zero pixel in each band, using the specified
    distance kernel, in the kernel's units; masked beyond the kernel's radius.

    Args:
        image: The input image.
        kernel: The distance kernel: chebyshev, euclidean or manhattan (default: euclidean of
            256 pixels).
        skipMasked: Mask output pixels if the corresponding input pixel is masked.
    """
    k = kernel or Kernel("euclidean", radius=DEFAULT_DISTANCE_RADIUS)
    return image.map_bands(lambda b: replace(b, source=KernelDistanceBand(b.source, k, skipMasked)))


def _check_size(value: float, what: str) -> None:
    if value < 0 or value > MAX_HALO:
        raise InvalidArgumentError(f"{what} must be between 0 and {MAX_HALO} pixels.")


@algorithm("Image.fastDistanceTransform")
def fast_distance_transform(
    image: Image, neighborhood: int = 256, units: str = "pixels", metric: str = "squared_euclidean"
) -> Image:
    """Returns the distance, as determined by the specified distance metric, to the nearest
    non-zero valued pixel in the input (first band), in a band 'distance'. The output contains
    values for all pixels within the given neighbourhood size, regardless of the input's mask.
    The default metric returns squared distance.

    Args:
        image: The input image.
        neighborhood: Neighborhood size in pixels.
        units: The units of the neighborhood; only 'pixels'.
        metric: 'squared_euclidean', 'manhattan' or 'chebyshev'.
    """
    if units != "pixels":
        raise InvalidArgumentError("fastDistanceTransform: only units 'pixels' are supported.")
    _check_size(neighborhood, "neighborhood")
    if not image.bands:
        raise InvalidArgumentError("fastDistanceTransform: the image has no bands.")
    b = image.bands[0]
    source = DistanceTransformBand(b.source, neighborhood, metric)
    return replace(image, bands=(replace(b, name="distance", source=source),))


@algorithm("Image.directionalDistanceTransform")
def directional_distance_transform(
    source: Image, angle: float, maxDistance: int, labelBand: str | None = None
) -> Image:
    """For each pixel, the distance in pixels to the nearest non-zero pixel in the given
    direction (degrees counter-clockwise from east), in a band 'distance'; masked where none
    lies within maxDistance.

    Args:
        source: The source image (one band, or several with labelBand).
        angle: The angle, in degrees, at which to search for non-zero pixels.
        maxDistance: The maximum distance, in pixels, over which to search.
        labelBand: If given, multi-band inputs are allowed and only this band is searched; the
            other bands are returned with the values at the non-zero pixel found.
    """
    _check_size(maxDistance, "maxDistance")
    if labelBand is None:
        if len(source.bands) != 1:
            raise InvalidArgumentError(
                "directionalDistanceTransform: the source must have one band, or give labelBand."
            )
        label, others = source.bands[0], []
    else:
        label = source.band(labelBand)
        others = [b for b in source.bands if b.name != labelBand]
    dist = DirectionalDistanceBand(label.source, angle, maxDistance)
    bands = [replace(label, name="distance", source=dist)]
    bands += [
        replace(b, source=DirectionalDistanceBand(label.source, angle, maxDistance, b.source))
        for b in others
    ]
    return replace(source, bands=tuple(bands))


@algorithm("Image.cumulativeCost")
def cumulative_cost(
    cost: Image, source: Image, maxDistance: float, geodeticDistance: bool = True
) -> Image:
    """Computes a cumulative cost map based on an image containing costs to traverse each pixel
    and an image containing source locations: for each cost band, the least sum over a path
    of step length (metres) x mean cost of the two pixels. Paths are searched within
    maxDistance of the pixel's chunk (see CumulativeCostBand).

    Args:
        cost: The cost of traversing each pixel (per metre); masked pixels cannot be traversed.
        source: A single-band image of the sources: a non-zero pixel is a source.
        maxDistance: Maximum distance for computation, in meters.
        geodeticDistance: Measure steps on the sphere (east-west steps of a geographic grid
            shrink with latitude); otherwise with the grid's nominal pixel size.
    """
    if len(source.bands) != 1:
        raise InvalidArgumentError("cumulativeCost: the source must have exactly one band.")
    if maxDistance <= 0:
        raise InvalidArgumentError("cumulativeCost: maxDistance must be positive.")
    src = source.bands[0].source

    def band(b: Band) -> Band:
        return replace(b, source=CumulativeCostBand(b.source, src, maxDistance, geodeticDistance))

    return cost.map_bands(band)


@algorithm("Image.rsedTransform")
def rsed_transform(image: Image, neighborhood: int = 256, units: str = "pixels") -> Image:
    """Reverse Squared Euclidean Distance (RSED): the maximal height surface made by placing an
    inverted parabola over each non-zero pixel, whose value is the parabola's height:
    max(0, max over the unmasked non-zero pixels q within the square neighbourhood of
    v(q) - d^2), with d the distance in pixels of the request grid. Viewed as a binary image this
    buffers each non-zero pixel by the square root of its value, in pixels. Each band is
    transformed (float64); every output pixel is valid.

    Args:
        image: The input image.
        neighborhood: Neighborhood size in pixels: the half-width of the square window of
            parabolas that reach a pixel.
        units: The units of the neighborhood; only 'pixels' is supported.
    """
    if units != "pixels":
        raise InvalidArgumentError("rsedTransform: only units 'pixels' are supported.")
    _check_size(neighborhood, "neighborhood")
    return image.map_bands(lambda b: replace(b, source=RsedBand(b.source, neighborhood)))
