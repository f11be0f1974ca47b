"""Image.register: Image.displacement followed by Image.displace, as Earth Engine describes it."""

from __future__ import annotations

from openee.algorithms.image_projection import displace, displacement
from openee.algorithms.registry import algorithm
from openee.raster.image import Image


@algorithm("Image.register")
def register(
    image: Image,
    referenceImage: Image,
    maxOffset: float,
    patchWidth: float | None = None,
    stiffness: float = 5.0,
) -> Image:
    """Registers an image to a reference image: the displacements found by block matching
    (Image.displacement, on the requested grid) are applied to the input image with bicubic
    interpolation (Image.displace), so that it lines up with the reference.

    Args:
        image: The image to register.
        referenceImage: The image to register to (as many bands as image).
        maxOffset: The maximum offset allowed when attempting to align the input images, in
            meters (at most 32 pixels of the requested grid).
        patchWidth: Patch size for detecting image offsets, in meters (default: three times
            maxOffset, at least 3 pixels).
        stiffness: Accepted for compatibility: each pixel's offset is chosen independently.
    """
    found = displacement(image, referenceImage, maxOffset, None, patchWidth, stiffness)
    return displace(image, found, "bicubic", maxOffset)
