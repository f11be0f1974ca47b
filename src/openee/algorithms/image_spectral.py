"""Image algorithms over each pixel's spectrum (all its bands): linear unmixing and spectral
distance. Kernels live in `openee.raster.spectral`."""

from __future__ import annotations

import math
from dataclasses import replace

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image
from openee.raster.spectral import DISTANCE_METRICS, SpectralDistanceBand, UnmixedBand
from openee.raster.spectral_morphology import SpectralMorphologyBand
from openee.values.kernel import Kernel


def _first_projection(image: Image) -> tuple:
    first = image.bands[0]
    return first.projection, first.dimensions


@algorithm("Image.unmix")
def unmix(
    image: Image,
    endmembers: list[list[float]],
    sumToOne: bool = False,
    nonNegative: bool = False,
) -> Image:
    """Unmixes each pixel into fractions of the endmembers by least squares (the pseudo-inverse
    when unconstrained): double bands 'band_0', 'band_1', ..., one per endmember.

    Args:
        image: The input image: one band per element of each endmember.
        endmembers: The endmember spectra, each with one value per band of the image.
        sumToOne: Constrain the fractions of each pixel to sum to one.
        nonNegative: Constrain the fractions to be non-negative.
    """
    n = len(image.bands)
    if not endmembers:
        raise InvalidArgumentError("the list of endmembers is empty.")
    rows = []
    for member in endmembers:
        if len(member) != n:
            raise InvalidArgumentError(
                f"each endmember needs {n} values (one per band), got {len(member)}."
            )
        values = tuple(float(v) for v in member)
        if not all(math.isfinite(v) for v in values):
            raise InvalidArgumentError("endmember values must be finite.")
        rows.append(values)
    inputs = tuple(b.source for b in image.bands)
    projection, dimensions = _first_projection(image)
    bands = tuple(
        Band(
            f"band_{i}",
            UnmixedBand(inputs, tuple(rows), sumToOne, nonNegative, i),
            projection,
            dimensions,
        )
        for i in range(len(rows))
    )
    return Image(
        bands, dict(image.properties), image.id, footprint_geometry=image.footprint_geometry
    )


@algorithm("Image.spectralDistance")
def spectral_distance(image1: Image, image2: Image, metric: str = "sam") -> Image:
    """Computes the per-pixel spectral distance between two images of as many bands: one double
    band 'distance'.

    Args:
        image1: The first image.
        image2: The second image.
        metric: 'sam' (spectral angle, radians), 'sid' (spectral information divergence),
            'sed' (squared Euclidean distance) or 'emd' (earth mover's distance).
    """
    if metric not in DISTANCE_METRICS:
        raise InvalidArgumentError(
            f"unknown metric '{metric}': use one of {', '.join(DISTANCE_METRICS)}."
        )
    if len(image1.bands) != len(image2.bands) or not image1.bands:
        raise InvalidArgumentError(
            "the images must have the same number of bands, got "
            f"{len(image1.bands)} and {len(image2.bands)}."
        )
    source = SpectralDistanceBand(
        tuple(b.source for b in image1.bands), tuple(b.source for b in image2.bands), metric
    )
    projection, dimensions = _first_projection(image1)
    return Image(
        (Band("distance", source, projection, dimensions),),
        dict(image1.properties),
        image1.id,
        footprint_geometry=image1.footprint_geometry,
    )


def _morphology(
    image: Image, metric: str, kernel: Kernel | None, useCentroid: bool, op: str
) -> Image:
    if metric not in DISTANCE_METRICS:
        raise InvalidArgumentError(
            f"unknown metric '{metric}': use one of {', '.join(DISTANCE_METRICS)}."
        )
    if not image.bands:
        raise InvalidArgumentError("the image has no bands.")
    kernel = kernel or Kernel("square", radius=1.0)
    inputs = tuple(b.source for b in image.bands)
    if op == "gradient":
        first = image.bands[0]
        source = SpectralMorphologyBand(inputs, kernel, metric, useCentroid, op)
        return replace(image, bands=(replace(first, name="gradient", source=source),))
    return replace(
        image,
        bands=tuple(
            replace(b, source=SpectralMorphologyBand(inputs, kernel, metric, useCentroid, op, i))
            for i, b in enumerate(image.bands)
        ),
    )


def _morphology_algorithm(op: str, summary: str) -> None:
    def morphology(
        image: Image, metric: str = "sam", kernel: Kernel | None = None, useCentroid: bool = False
    ) -> Image:
        return _morphology(image, metric, kernel, useCentroid, op)

    morphology.__doc__ = (
        f"{summary}\n\nArgs:\n    image: The input image.\n"
        "    metric: The spectral distance: 'sam', 'sid', 'sed' or 'emd'.\n"
        "    kernel: The neighbourhood kernel. Default: a square of radius 1 (8-connected).\n"
        "    useCentroid: If true, distances are measured from the mean spectrum of the"
        " neighbourhood instead of the centre pixel's.\n"
    )
    algorithm(f"Image.spectral{op.capitalize()}")(morphology)


MORPHOLOGY = {
    "erosion": "Spectral/spatial erosion: each pixel takes the spectrum (all bands) of the member"
    " of its neighbourhood closest to the reference spectrum; band names are kept.",
    "dilation": "Spectral/spatial dilation: each pixel takes the spectrum (all bands) of the"
    " member of its neighbourhood farthest from the reference spectrum; band names are kept.",
    "gradient": "Spectral gradient: the spectral distance between each pixel's dilated and"
    " eroded spectra, as one double band 'gradient'.",
}
for _op, _summary in MORPHOLOGY.items():
    _morphology_algorithm(_op, _summary)
