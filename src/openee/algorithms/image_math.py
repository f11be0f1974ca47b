"""Image band math: operator families from one table each, plus normalizedDifference, where,
clamp and unitScale. Pixel kernels and output types live in `openee.raster.bandmath`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.bandmath import (
    ARITHMETIC,
    BITWISE,
    COMPARISONS,
    FLOAT_UNARY,
    SAME_TYPE_UNARY,
    BinaryBand,
    UnaryBand,
    WhereBand,
)
from openee.raster.image import Band, Image
from openee.raster.sources import BandSource, CastBand, ConstantBand


def combine(
    image1: Image, image2: Image, make: Callable[[BandSource, BandSource], BandSource]
) -> Image:
    """Earth Engine's pairing for two-image operators.

    A one-band image is used against every band of the other; otherwise bands pair in order and
    the counts must match. Output names come from the image with more bands, or image1's on a tie;
    properties come from image1.
    """
    n1, n2 = len(image1.bands), len(image2.bands)
    # (left band, right band, the band that names the output)
    if n1 == 1 and n2 > 1:
        pairs = [(image1.bands[0], b, b) for b in image2.bands]
    elif n2 == 1:
        pairs = [(a, image2.bands[0], a) for a in image1.bands]
    elif n1 == n2:
        pairs = [(a, b, a) for a, b in zip(image1.bands, image2.bands, strict=True)]
    else:
        raise InvalidArgumentError(
            f"Images must have the same number of bands or one band, got {n1} and {n2}."
        )
    bands = []
    for a, b, named in pairs:
        projection = a.projection or b.projection
        dimensions = a.dimensions if a.projection else b.dimensions
        bands.append(Band(named.name, make(a.source, b.source), projection, dimensions))
    return Image(
        tuple(bands),
        dict(image1.properties),
        image1.id,
        footprint_geometry=image1.footprint_geometry,
    )


def _register_binary(op: str, wire: str) -> None:
    def binary(image1: Image, image2: Image) -> Image:
        return combine(image1, image2, lambda a, b: BinaryBand(op, a, b))

    binary.__doc__ = (
        f"Applies '{op}' to each matched pair of bands of image1 and image2; masks are combined.\n\n"
        "Args:\n"
        "    image1: The image from which the left operand bands are taken.\n"
        "    image2: The image from which the right operand bands are taken.\n"
    )
    algorithm(f"Image.{wire}")(binary)


def _register_unary(op: str, wire: str) -> None:
    def unary(value: Image) -> Image:
        return value.map_bands(lambda b: replace(b, source=UnaryBand(op, b.source)))

    unary.__doc__ = f"Applies '{op}' to every band of the image.\n\nArgs:\n    value: The image.\n"
    algorithm(f"Image.{wire}")(unary)


for _op in (*COMPARISONS, *ARITHMETIC, *BITWISE):
    _register_binary(_op, _op)
for _op in (*FLOAT_UNARY, *SAME_TYPE_UNARY, "not", "bitwiseNot", "bitCount"):
    _register_unary(_op, _op)


@algorithm("Image.normalizedDifference")
def normalized_difference(input: Image, bandNames: list[str] | None = None) -> Image:
    """Computes (first - second) / (first + second), named 'nd'; 0/0 gives 0.

    Args:
        input: The image.
        bandNames: The two bands to use. Default: the first two bands.
    """
    if bandNames is not None:
        if len(bandNames) != 2:
            raise InvalidArgumentError("Need exactly two band names.")
        first, second = input.band(bandNames[0]), input.band(bandNames[1])
    elif len(input.bands) >= 2:
        first, second = input.bands[0], input.bands[1]
    else:
        raise InvalidArgumentError("The image needs at least two bands.")
    one = ConstantBand(1.0, "float64")
    a = BinaryBand("multiply", first.source, one)
    diff = BinaryBand("subtract", a, second.source)
    total = BinaryBand("add", a, second.source)
    band = Band("nd", BinaryBand("divide", diff, total), first.projection, first.dimensions)
    return Image(
        (band,), dict(input.properties), input.id, footprint_geometry=input.footprint_geometry
    )


@algorithm("Image.where")
def where(input: Image, test: Image, value: Image) -> Image:
    """Replaces pixels of input by those of value wherever test is non-zero.

    Args:
        input: The input image.
        test: The test image; where non-zero, value's pixel is taken.
        value: The image (or number) of replacement values.
    """
    tested = combine(input, test, lambda a, t: WhereBand(a, t, a))
    return combine(
        tested,
        value,
        lambda w, v: WhereBand(w.input, w.test, v) if isinstance(w, WhereBand) else w,
    )


@algorithm("Image.clamp")
def clamp(input: Image, low: float, high: float) -> Image:
    """Clamps the values of every band to [low, high].

    Args:
        input: The image.
        low: The minimum value.
        high: The maximum value.
    """
    lo, hi = ConstantBand(float(low), "float64"), ConstantBand(float(high), "float64")

    def clamped(b: Band) -> Band:
        dtype = b.source.dtype
        source: BandSource = BinaryBand("min", BinaryBand("max", b.source, lo), hi)
        if dtype.kind in "iu":
            source = CastBand(source, dtype.name)
        return replace(b, source=source)

    return input.map_bands(clamped)


@algorithm("Image.unitScale")
def unit_scale(input: Image, low: float, high: float) -> Image:
    """Scales [low, high] to [0, 1] linearly; values outside are not clamped.

    Args:
        input: The image.
        low: The value that maps to 0.
        high: The value that maps to 1.
    """
    if high == low:
        raise InvalidArgumentError("low and high must differ.")
    lo = ConstantBand(float(low), "float64")
    span = ConstantBand(float(high - low), "float64")
    return input.map_bands(
        lambda b: replace(
            b, source=BinaryBand("divide", BinaryBand("subtract", b.source, lo), span)
        )
    )
