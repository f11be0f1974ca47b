"""Image.medialAxis (the recipe and its definition: raster/medial_axis.py; ADR 0018)."""

from __future__ import annotations

from dataclasses import replace

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.halo import MAX_HALO
from openee.raster.image import Image
from openee.raster.medial_axis import BANDS, MedialAxisBand


@algorithm("Image.medialAxis")
def medial_axis(image: Image, neighborhood: int = 256, units: str = "pixels") -> Image:
    """Computes the discrete medial axis of the zero-valued pixels of the first band (valid
    non-zero pixels are the boundary). Outputs 4 bands: 'medial', the medial axis pixels valued
    by their distance to the boundary (0 elsewhere); 'coverage', the number of boundary points
    supporting each medial axis pixel; 'xlabel' and 'ylabel', the horizontal and vertical
    offsets in pixels (x east, y down) to each pixel's power point, its nearest boundary pixel.
    Pixels with no boundary pixel within the neighborhood are masked.

    Args:
        image: The input image.
        neighborhood: Neighborhood size in pixels.
        units: The units of the neighborhood; only 'pixels'.
    """
    if units != "pixels":
        raise InvalidArgumentError("medialAxis: only units 'pixels' are supported.")
    if not 0 <= neighborhood < MAX_HALO:
        raise InvalidArgumentError(
            f"medialAxis: neighborhood must be between 0 and {MAX_HALO - 1}."
        )
    if not image.bands:
        raise InvalidArgumentError("medialAxis: the image has no bands.")
    first = image.bands[0]
    bands = tuple(
        replace(first, name=name, source=MedialAxisBand(first.source, neighborhood, name))
        for name in BANDS
    )
    return Image(bands, dict(image.properties), footprint_geometry=image.footprint_geometry)
