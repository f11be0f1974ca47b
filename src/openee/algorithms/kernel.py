"""Kernel constructors and combinators, and the neighbourhood operations of Image that use them:
convolve, reduceNeighborhood and the focal operations. Kernels are data (`openee.values.kernel`);
the pixel work is `openee.raster.neighborhood.NeighborhoodBand`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image
from openee.raster.neighborhood import NeighborhoodBand
from openee.reducers.registry import Context, focal_specs, require, spec
from openee.values.kernel import FIXED_WEIGHTS, Kernel, KernelMatrix, check_units
from openee.values.reducer import Reducer

_RADIUS_DOC = (
    "\n\nArgs:\n"
    "    radius: The radius of the kernel to generate.\n"
    "    units: The system of measurement for the kernel ('pixels' or 'meters').\n"
    "    normalize: Normalize the kernel values to sum to 1.\n"
    "    magnitude: Scale each value by this amount.\n"
)
_FIXED_DOC = (
    "\n\nArgs:\n"
    "    magnitude: Scale each value by this amount.\n"
    "    normalize: Normalize the kernel values to sum to 1.\n"
)


def _radius_kernel(kind: str, default_normalize: bool, doc: str) -> None:
    if default_normalize:

        def make(
            radius: float, units: str = "pixels", normalize: bool = True, magnitude: float = 1.0
        ) -> Kernel:
            return Kernel(kind, radius=radius, units=check_units(units), normalize=normalize,
                          magnitude=magnitude)  # fmt: skip
    else:

        def make(
            radius: float, units: str = "pixels", normalize: bool = False, magnitude: float = 1.0
        ) -> Kernel:
            return Kernel(kind, radius=radius, units=check_units(units), normalize=normalize,
                          magnitude=magnitude)  # fmt: skip

    make.__doc__ = doc + _RADIUS_DOC
    algorithm(f"Kernel.{kind}")(make)


for _kind, _normalize, _doc in (
    ("square", True, "Generates a square-shaped boolean kernel."),
    ("circle", True, "Generates a circle-shaped boolean kernel."),
    ("diamond", True, "Generates a diamond-shaped boolean kernel."),
    ("octagon", True, "Generates an octagon-shaped boolean kernel."),
    ("plus", True, "Generates a plus-shaped boolean kernel."),
    ("cross", True, "Generates a cross-shaped (diagonals) boolean kernel."),
    ("euclidean", False, "Generates a distance kernel based on Euclidean (straight-line) distance."),
    ("manhattan", False, "Generates a distance kernel based on rectilinear (city-block) distance."),
    ("chebyshev", False, "Generates a distance kernel based on Chebyshev distance (the greatest "
     "distance along any dimension)."),
):  # fmt: skip
    _radius_kernel(_kind, _normalize, _doc)


def _fixed_kernel(kind: str, doc: str) -> None:
    def make(magnitude: float = 1.0, normalize: bool = False) -> Kernel:
        return Kernel(kind, normalize=normalize, magnitude=magnitude)

    make.__doc__ = doc + _FIXED_DOC
    algorithm(f"Kernel.{kind}")(make)


for _kind, _doc in {
    "laplacian4": "Generates a 3x3 Laplacian-4 edge-detection kernel.",
    "laplacian8": "Generates a 3x3 Laplacian-8 edge-detection kernel.",
    "sobel": "Generates a 3x3 Sobel edge-detection kernel.",
    "prewitt": "Generates a 3x3 Prewitt edge-detection kernel.",
    "roberts": "Generates a 2x2 Roberts edge-detection kernel (its focus is the lower right cell).",
    "compass": "Generates a 3x3 Prewitt's Compass edge-detection kernel.",
    "kirsch": "Generates a 3x3 Kirsch's Compass edge-detection kernel.",
}.items():
    assert _kind in FIXED_WEIGHTS
    _fixed_kernel(_kind, _doc)


@algorithm("Kernel.rectangle")
def rectangle(
    xRadius: float,
    yRadius: float,
    units: str = "pixels",
    normalize: bool = True,
    magnitude: float = 1.0,
) -> Kernel:
    """Generates a rectangular-shaped kernel.

    Args:
        xRadius: The horizontal radius of the kernel to generate.
        yRadius: The vertical radius of the kernel to generate.
        units: The system of measurement for the kernel ('pixels' or 'meters').
        normalize: Normalize the kernel values to sum to 1.
        magnitude: Scale each value by this amount.
    """
    return Kernel("rectangle", radius=xRadius, y_radius=yRadius, units=check_units(units),
                  normalize=normalize, magnitude=magnitude)  # fmt: skip


@algorithm("Kernel.gaussian")
def gaussian(
    radius: float,
    sigma: float = 1.0,
    units: str = "pixels",
    normalize: bool = True,
    magnitude: float = 1.0,
) -> Kernel:
    """Generates a Gaussian kernel from a sampled continuous Gaussian.

    Args:
        radius: The radius of the kernel to generate.
        sigma: Standard deviation of the Gaussian function (same units as radius).
        units: The system of measurement for the kernel ('pixels' or 'meters').
        normalize: Normalize the kernel values to sum to 1.
        magnitude: Scale each value by this amount.
    """
    return Kernel("gaussian", radius=radius, sigma=sigma, units=check_units(units),
                  normalize=normalize, magnitude=magnitude)  # fmt: skip


@algorithm("Kernel.fixed")
def fixed(
    width: int = -1,
    height: int = -1,
    *,
    weights: list[Any],
    x: int = -1,
    y: int = -1,
    normalize: bool = False,
) -> Kernel:
    """Creates a kernel from a 2-D list of weights.

    Args:
        width: The width of the kernel in pixels (-1: from the weights).
        height: The height of the kernel in pixels (-1: from the weights).
        weights: A 2-D list of [height] x [width] values to use as the weights of the kernel.
        x: The location of the focus, as an offset from the left; negative (the default -1,
            or the guides' -4 of a 9x9 kernel): the middle, width // 2.
        y: The location of the focus, as an offset from the top; negative: the middle,
            height // 2.
        normalize: Normalize the kernel values to sum to 1.
    """
    if not weights or not all(isinstance(row, list) and row for row in weights):
        raise InvalidArgumentError("Kernel.fixed: weights must be a non-empty 2-D list.")
    widths = {len(row) for row in weights}
    if len(widths) != 1:
        raise InvalidArgumentError("Kernel.fixed: every row of weights must have the same length.")
    w, h = widths.pop(), len(weights)
    if (width not in (-1, w)) or (height not in (-1, h)):
        raise InvalidArgumentError(f"Kernel.fixed: the weights are {w}x{h}, not {width}x{height}.")
    # Earth Engine's guides centre a 9x9 kernel with x = y = -4 (ADR 0025): any negative
    # offset, like the default -1, puts the focus in the middle.
    fx = w // 2 if x < 0 else x
    fy = h // 2 if y < 0 else y
    if not (fx < w and fy < h):
        raise InvalidArgumentError("Kernel.fixed: the focus must lie inside the kernel.")
    try:
        rows = tuple(tuple(float(v) for v in row) for row in weights)
    except (TypeError, ValueError):
        raise InvalidArgumentError("Kernel.fixed: weights must be numbers.") from None
    return Kernel("fixed", normalize=normalize, fixed=KernelMatrix(rows, fx, fy))


@algorithm("Kernel.add")
def add(kernel1: Kernel, kernel2: Kernel, normalize: bool = False) -> Kernel:
    """Adds two kernels (pointwise, after aligning their foci).

    Args:
        kernel1: The first kernel.
        kernel2: The second kernel.
        normalize: Normalize the kernel values to sum to 1.
    """
    return Kernel("add", normalize=normalize, operands=(kernel1, kernel2))


@algorithm("Kernel.rotate")
def rotate(kernel: Kernel, rotations: int) -> Kernel:
    """Creates a kernel rotated by quarter turns.

    Args:
        kernel: The kernel to be rotated.
        rotations: Number of 90 degree rotations to make; negative numbers rotate
            counterclockwise.
    """
    return Kernel("rotate", operands=(kernel,), rotations=rotations)


@algorithm("Kernel.inverse")
def inverse(kernel: Kernel) -> Kernel:
    """Returns a kernel which has each of its weights multiplicatively inverted; zero weights
    stay zero.

    Args:
        kernel: The kernel to have its entries inverted.
    """
    return Kernel("inverse", operands=(kernel,))


# -- Image neighbourhood operations -------------------------------------------------------------


def _neighborhood(
    image: Image, kernel: Kernel, op: str, suffix: str | None, skip: bool, weighted: bool
) -> Image:
    def band(b: Band) -> Band:
        name = f"{b.name}_{suffix}" if suffix else b.name
        return replace(b, name=name, source=NeighborhoodBand(b.source, kernel, op, skip, weighted))

    return image.map_bands(band)


def _neighborhood_outputs(
    image: Image,
    kernel: Kernel,
    ops: tuple[tuple[str, str], ...],
    skip: bool,
    weighted: bool,
) -> Image:
    """Several neighbourhood reductions per band, each a band '<band>_<output>'."""
    bands = tuple(
        replace(
            b,
            name=f"{b.name}_{suffix}",
            source=NeighborhoodBand(b.source, kernel, op, skip, weighted),
        )
        for b in image.bands
        for op, suffix in ops
    )
    return replace(image, bands=bands)


@algorithm("Image.convolve")
def convolve(image: Image, kernel: Kernel) -> Image:
    """Convolves each band of an image with the given kernel: the sum of weight x value over the
    unmasked pixels of each neighbourhood. Computed on the requested grid.

    Args:
        image: The image to convolve.
        kernel: The kernel to convolve with.
    """
    return _neighborhood(image, kernel, "convolve", None, True, True)


@algorithm("Image.reduceNeighborhood")
def reduce_neighborhood(
    image: Image,
    reducer: Reducer,
    kernel: Kernel,
    inputWeight: str = "kernel",
    skipMasked: bool = True,
    optimization: str | None = None,
) -> Image:
    """Applies a reducer to the neighbourhood of every pixel; output bands are named
    '<band>_<reducer output>'. Computed on the requested grid.

    Args:
        image: The input image.
        reducer: The reducer: mean, median, min, max, sum, count, stdDev, variance, mode or
            minMax.
        kernel: The kernel defining the neighbourhood; its non-zero cells are the members.
        inputWeight: 'kernel' to weigh members by the kernel's weights, 'mask' to weigh each 1.
        skipMasked: Mask output pixels whose input pixel is masked.
        optimization: Accepted for compatibility ('boxcar', 'window'); results are exact.
    """
    fields = spec(reducer.name).fields
    if fields and reducer.repeat == 1:
        # minMax: two bands per input band, '<band>_min' and '<band>_max'
        # (ee-reducer-minmax.js), from the min and max neighbourhood kernels.
        ops = tuple(zip(fields, reducer.outputs, strict=True))
        return _neighborhood_outputs(image, kernel, ops, skipMasked, inputWeight == "kernel")
    require(reducer, Context.NEIGHBORHOOD, simple=True)
    if inputWeight not in ("kernel", "mask"):
        raise InvalidArgumentError(f"Invalid inputWeight '{inputWeight}': use 'kernel' or 'mask'.")
    if optimization not in (None, "boxcar", "window"):
        raise InvalidArgumentError(f"Invalid optimization '{optimization}'.")
    return _neighborhood(
        image, kernel, reducer.name, reducer.outputs[0], skipMasked, inputWeight == "kernel"
    )


KERNEL_TYPES = ("circle", "square", "cross", "plus", "octagon", "diamond", "gaussian")


def focal_kernel(radius: float, kernelType: str, units: str, kernel: Kernel | None) -> Kernel:
    """The kernel of a focal operation: `kernel`, or one of `kernelType` and `radius`."""
    if kernel is not None:
        return kernel
    if kernelType not in KERNEL_TYPES:
        raise InvalidArgumentError(
            f"Invalid kernelType '{kernelType}': use one of {', '.join(KERNEL_TYPES)}."
        )
    return Kernel(kernelType, radius=radius, units=check_units(units), normalize=True)


def _focal(op: str, doc: str) -> None:
    def focal(
        image: Image,
        radius: float = 1.5,
        kernelType: str = "circle",
        units: str = "pixels",
        iterations: int = 1,
        kernel: Kernel | None = None,
    ) -> Image:
        if iterations < 1:
            raise InvalidArgumentError("iterations must be at least 1.")
        k = focal_kernel(radius, kernelType, units, kernel)
        for _ in range(iterations):
            image = _neighborhood(image, k, op, None, True, True)
        return image

    focal.__doc__ = (
        f"{doc} Band names are kept; computed on the requested grid.\n\n"
        "Args:\n"
        "    image: The image to which to apply the operations.\n"
        "    radius: The radius of the kernel to use.\n"
        "    kernelType: The type of kernel to use: circle, square, cross, plus, octagon,\n"
        "        diamond or gaussian.\n"
        "    units: If a kernel is not specified, this determines whether the kernel is in\n"
        "        meters or pixels.\n"
        "    iterations: The number of times to apply the given kernel.\n"
        "    kernel: A custom kernel; if used, kernelType and radius are ignored.\n"
    )
    algorithm(f"Image.focal{op[0].upper()}{op[1:]}")(focal)


for _spec in focal_specs():
    _focal(_spec.name, _spec.focal or "")
