"""Image algorithms about objects, groups of connected equal-valued pixels:
connectedComponents, connectedPixelCount and reduceConnectedComponents (recipes in
`openee.raster.components`). An object's "size" limit is its extent in pixels, which is also
the halo read around each chunk, so results do not depend on chunking.
"""

from __future__ import annotations

from dataclasses import replace

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.components import (
    ComponentLabelBand,
    ComponentReduceBand,
    PixelCountBand,
    offsets_of_kernel,
)
from openee.raster.halo import MAX_HALO
from openee.raster.image import Image
from openee.reducers.registry import Context, require
from openee.values.kernel import Kernel
from openee.values.reducer import Reducer


def _check_max_size(max_size: int) -> None:
    if not 1 <= max_size <= MAX_HALO:
        raise InvalidArgumentError(f"maxSize must be between 1 and {MAX_HALO}.")


@algorithm("Image.connectedComponents")
def connected_components(image: Image, connectedness: Kernel, maxSize: int) -> Image:
    """Finds connected components with the same value of the first band of the input and
    labels them with a globally unique value, in a band 'labels' added to the image.
    Connectedness is specified by the given kernel. Objects larger than maxSize pixels in
    width or height are considered background, and are masked.

    Args:
        image: The image to label.
        connectedness: Connectedness kernel: its non-zero cells are a pixel's neighbours.
        maxSize: Maximum size of objects to be labeled, in pixels.
    """
    _check_max_size(maxSize)
    if not image.bands:
        raise InvalidArgumentError("connectedComponents: the image has no bands.")
    if connectedness.metric:
        raise InvalidArgumentError("connectedComponents needs a kernel in pixels.")
    m = connectedness.matrix()
    offsets = offsets_of_kernel(m.array(), m.x, m.y)
    first = image.bands[0]
    labels = replace(
        first, name="labels", source=ComponentLabelBand(first.source, offsets, maxSize)
    )
    return image.add_bands(Image((labels,)), None, True)


@algorithm("Image.connectedPixelCount")
def connected_pixel_count(input: Image, maxSize: int = 100, eightConnected: bool = True) -> Image:
    """Generates an image where each pixel contains the number of 4- or 8-connected
    neighbours with its value (including itself), at most maxSize.

    Args:
        input: The input image.
        maxSize: The maximum size of the neighborhood in pixels.
        eightConnected: Whether to use 8-connected rather than 4-connected rules.
    """
    _check_max_size(maxSize)
    return input.map_bands(
        lambda b: replace(b, source=PixelCountBand(b.source, maxSize, eightConnected))
    )


@algorithm("Image.reduceConnectedComponents")
def reduce_connected_components(
    image: Image, reducer: Reducer, labelBand: str | None = None, maxSize: int = 256
) -> Image:
    """Applies a reducer to all of the pixels inside of each 'object'. Pixels belong to an
    object if they are connected (8-way) and have the same value in the label band; the other
    bands are the reducer's inputs and keep their names.

    Args:
        image: The input image.
        reducer: The reducer to apply to pixels within the connected component.
        labelBand: The name of the band to use to detect connectedness. If unspecified, the
            first band is used.
        maxSize: Size of the neighborhood to consider when aggregating values. Any objects
            larger than maxSize in either the horizontal or vertical dimension are masked.
    """
    _check_max_size(maxSize)
    require(reducer, Context.COMPONENTS, simple=True)
    if not image.bands:
        raise InvalidArgumentError("reduceConnectedComponents: the image has no bands.")
    label = image.band(labelBand) if labelBand is not None else image.bands[0]
    others = [b for b in image.bands if b.name != label.name]
    if not others:
        raise InvalidArgumentError("reduceConnectedComponents: the image has no bands to reduce.")
    bands = tuple(
        replace(b, source=ComponentReduceBand(label.source, b.source, reducer.name, maxSize))
        for b in others
    )
    return replace(image, bands=bands)
