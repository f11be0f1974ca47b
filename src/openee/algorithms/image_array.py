"""Array-valued pixels: building arrays from bands and collections, reading, slicing, reducing
and reshaping them. Kernels live in `openee.raster.array_kernels`; the representation is in
docs/decisions/0015-array-valued-pixels.md.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.array_bands import (
    ArrayOpBand,
    CollectionArrayBand,
    NeighborhoodArrayBand,
    PerBandArrayBand,
)
from openee.raster.grid import PixelGrid
from openee.raster.image import Band, Image, ImageCollection
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource, ConstantBand
from openee.reducers.registry import Context, axis_outputs, default, require
from openee.values.kernel import Kernel
from openee.values.reducer import Reducer


def _array_bands(image: Image, what: str) -> None:
    for b in image.bands:
        if b.source.rank == 0:
            raise InvalidArgumentError(
                f"band '{b.name}' is not array-valued; make an array image with toArray() first."
            )


def map_array(image: Image, what: str, op: str, *params: object) -> Image:
    """Applies the array op to every band (each must be array-valued)."""
    _array_bands(image, what)
    return image.map_bands(lambda b: replace(b, source=ArrayOpBand(op, (b.source,), params)))


def pair_bands(image1: Image, image2: Image, what: str, op: str, *params: object) -> Image:
    """A two-input array op, pairing bands as band math does (one band against all, or in
    order)."""
    from openee.algorithms.image_math import combine

    return combine(image1, image2, lambda a, b: ArrayOpBand(op, (a, b), params))


def _scalar_source(image: Image | None, what: str) -> BandSource:
    """The one scalar band of a parameter image, or an absent one (masked nowhere, no value)."""
    if image is None:
        return _NONE
    if len(image.bands) != 1 or image.bands[0].source.rank != 0:
        raise InvalidArgumentError(f"'{what}' must be a single-band scalar image.")
    return image.bands[0].source


@dataclass(frozen=True)
class EmptyBand(BandSource):
    """A parameter left out: a zero-length array on every pixel, never masked."""

    accepts_arrays = True

    dtype = np.dtype(np.int64)

    @property
    def rank(self) -> int:
        return 1

    def read(self, grid: PixelGrid) -> Pixels:
        return Pixels(np.zeros((*grid.shape, 0), np.int64), np.ones(grid.shape, dtype=bool))


_NONE = EmptyBand()


def _axis(axis: int, rank: int, what: str) -> int:
    if not 0 <= axis < rank:
        raise InvalidArgumentError(f"axis {axis} is out of range for {rank}-D array pixels.")
    return axis


# -- building arrays --------------------------------------------------------------------------


@algorithm("Image.toArray")
def image_to_array(image: Image, axis: int = 0) -> Image:
    """Concatenates the bands of each pixel into one array band named 'array': scalar bands
    make a 1-D array; array bands are concatenated along `axis`, or stacked along a new last
    axis when `axis` equals their number of dimensions (a 1-D band with axis 1 becomes a
    column matrix). A pixel is masked if any band is.

    Args:
        image: The image whose bands are concatenated; all of the same array rank.
        axis: The axis to concatenate along, at most the inputs' number of dimensions.
    """
    if not image.bands:
        raise InvalidArgumentError("the image has no bands.")
    ranks = {b.source.rank for b in image.bands}
    if len(ranks) != 1:
        raise InvalidArgumentError("all bands must have the same dimensions.")
    _axis(axis, ranks.pop() + 1, "toArray")
    first = image.bands[0]
    source = ArrayOpBand("toArray", tuple(b.source for b in image.bands), (axis,))
    return replace(image, bands=(Band("array", source, first.projection, first.dimensions),))


@algorithm("ImageCollection.toArray")
def collection_to_array(collection: ImageCollection) -> Image:
    """Turns a collection into one 2-D array band named 'array': at each pixel, the images
    valid in all their bands along axis 0 (in collection order), their bands along axis 1.
    Pixels where no image is valid are masked.

    Args:
        collection: The collection; every image must have the same number of bands.
    """
    images = collection.images
    counts = {len(img.bands) for img in images}
    if len(counts) > 1:
        raise InvalidArgumentError("the images must all have the same number of bands.")
    source = CollectionArrayBand(tuple(tuple(b.source for b in img.bands) for img in images))
    return Image((Band("array", source),))


@algorithm("ImageCollection.toArrayPerBand")
def collection_to_array_per_band(
    collection: ImageCollection, axis: int = 0, dropMasked: bool = False
) -> Image:
    """Concatenates each band across the images of a collection into one array band of the
    same name. A pixel is masked if any image is masked there, unless dropMasked.

    Args:
        collection: The collection; all images must have the same band names.
        axis: The axis to concatenate along.
        dropMasked: Drop masked values instead of masking the whole pixel (scalar bands).
    """
    images = collection.images
    if not images:
        raise InvalidArgumentError("the collection is empty.")
    names = images[0].band_names
    for img in images:
        if img.band_names != names:
            raise InvalidArgumentError(
                f"all images must have the same bands, got {names} and {img.band_names}."
            )
    bands = []
    for i, name in enumerate(names):
        inputs = tuple(img.bands[i].source for img in images)
        _axis(axis, max(1, inputs[0].rank), "toArrayPerBand")
        bands.append(Band(name, PerBandArrayBand(inputs, axis, bool(dropMasked))))
    return Image(tuple(bands))


@algorithm("Image.arrayCat")
def array_cat(image1: Image, image2: Image, axis: int) -> Image:
    """Concatenates the arrays of two images along an axis; with `axis` equal to their dimension
    count they are stacked along a new last axis (ee_image_arraycat.py: [0, 1, 2] and [3, 4, 5]
    on axis 1 give [[0, 3], [1, 4], [2, 5]]).

    Args:
        image1: The first array image.
        image2: The second array image, concatenated after the first.
        axis: The axis to concatenate along.
    """
    _array_bands(image1, "arrayCat")
    _array_bands(image2, "arrayCat")
    return pair_bands(image1, image2, "arrayCat", "toArray", axis)


@algorithm("Image.arrayPad")
def array_pad(image: Image, lengths: list[int], pad: float = 0.0) -> Image:
    """Pads each array to at least the given length per axis with a value.

    Args:
        image: The array image.
        lengths: The length to pad each axis to; an axis already longer is kept.
        pad: The value to pad with.
    """
    _array_bands(image, "arrayPad")
    for b in image.bands:
        if len(lengths) != b.source.rank:
            raise InvalidArgumentError(f"{len(lengths)} lengths for {b.source.rank}-D arrays.")
    return map_array(image, "arrayPad", "pad", tuple(int(n) for n in lengths), pad)


@algorithm("Image.arrayRepeat")
def array_repeat(input: Image, axis: int, copies: Image) -> Image:
    """Repeats each array a number of times along an axis; with `axis` equal to the arrays'
    dimension count they gain an axis (a scalar band becomes a 1-D array, a 1-D array a
    matrix of `copies` columns).

    Args:
        input: The image to repeat.
        axis: The axis to repeat along.
        copies: A single-band image of the number of copies per pixel.
    """
    count = _scalar_source(copies, "copies")
    for b in input.bands:  # axis may be one past the last: the arrays gain an axis
        _axis(axis, b.source.rank + 1, "arrayRepeat")
    return input.map_bands(
        lambda b: replace(b, source=ArrayOpBand("repeat", (b.source, count), (axis,)))
    )


@algorithm("Image.arrayReshape")
def array_reshape(image: Image, lengths: Image, dimensions: int) -> Image:
    """Reshapes each array to new lengths (row-major order); one length may be -1.

    Args:
        image: The array image.
        lengths: A 1-D array image of the new lengths, one per dimension.
        dimensions: The number of dimensions of the result (the length of `lengths`).
    """
    if all(b.source.rank == 0 for b in lengths.bands):
        lengths = image_to_array(lengths)  # one scalar band per length, as a 1-D array
    if len(lengths.bands) != 1 or lengths.bands[0].source.rank != 1:
        raise InvalidArgumentError("'lengths' must be a 1-D array image.")
    shape = lengths.bands[0].source
    return image.map_bands(
        lambda b: replace(b, source=ArrayOpBand("reshape", (b.source, shape), (dimensions,)))
    )


@algorithm("Image.bitsToArrayImage")
def bits_to_array_image(input: Image) -> Image:
    """Turns the bits of an integer band into a 1-D array, least significant bit first, up to
    the highest set bit.

    Args:
        input: An image of integers.
    """
    for b in input.bands:
        if b.source.dtype.kind not in "iub" or b.source.rank:
            raise InvalidArgumentError("the input must be integer.")
    return input.map_bands(lambda b: replace(b, source=ArrayOpBand("bitsToArray", (b.source,))))


# -- reading and shape ------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementBand(BandSource):
    """One element of each pixel's array; masked where the array does not have `shape`."""

    accepts_arrays = True

    input: BandSource
    index: tuple[int, ...]
    shape: tuple[int, ...]

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    @property
    def rank(self) -> int:
        return 0

    def read(self, grid: PixelGrid) -> Pixels:
        p = self.input.read(grid)
        match = (p.extents() == np.asarray(self.shape)).all(axis=-1)
        if any(i >= s for i, s in zip(self.index, p.data.shape[2:], strict=True)):
            return Pixels.empty(grid.shape, self.dtype)
        element: tuple[Any, ...] = (..., *self.index)
        return Pixels(np.array(p.data[element]), p.valid & match)


@algorithm("Image.arrayFlatten")
def array_flatten(image: Image, coordinateLabels: list[list[str]], separator: str = "_") -> Image:
    """Turns a single-band array image into one scalar band per element, named by joining the
    labels of its position on each axis with `separator`. Pixels whose array does not have the
    labels' shape are masked.

    Args:
        image: A single-band array image.
        coordinateLabels: The labels of each position, one list per axis.
        separator: The text joining the labels of the axes.
    """
    if len(image.bands) != 1:
        raise InvalidArgumentError(f"the image must have one band, got {len(image.bands)}.")
    band = image.bands[0]
    _array_bands(image, "arrayFlatten")
    if len(coordinateLabels) != band.source.rank:
        raise InvalidArgumentError(
            f"{len(coordinateLabels)} label lists given for {band.source.rank}-D array pixels."
        )
    shape = tuple(len(labels) for labels in coordinateLabels)
    bands = []
    for index in itertools.product(*(range(n) for n in shape)):
        name = separator.join(str(coordinateLabels[a][i]) for a, i in enumerate(index))
        bands.append(replace(band, name=name, source=ElementBand(band.source, index, shape)))
    return replace(image, bands=tuple(bands))


@algorithm("Image.arrayGet")
def array_get(image: Image, position: Image) -> Image:
    """The element of each array at a position; masked where the position is out of range.

    Args:
        image: The array image.
        position: An image with one integer band per array axis, giving the position.
    """
    _array_bands(image, "arrayGet")
    coords = tuple(
        _scalar_source(position.select([i]), "position") for i in range(len(position.bands))
    )
    for b in image.bands:
        if len(coords) != b.source.rank:
            raise InvalidArgumentError(
                f"the position has {len(coords)} bands for {b.source.rank}-D arrays."
            )
    return image.map_bands(lambda b: replace(b, source=ArrayOpBand("get", (b.source, *coords))))


@algorithm("Image.arraySlice")
def array_slice(
    input: Image, axis: int = 0, start: Image | None = None, end: Image | None = None, step: int = 1
) -> Image:
    """Slices each array along an axis from start (inclusive) to end (exclusive) by step;
    negative start or end count from the end of the axis.

    Args:
        input: The array image.
        axis: The axis to slice.
        start: A single-band image of the first index. Default: 0.
        end: A single-band image of the index after the last. Default: the axis length.
        step: The step between indices (positive).
    """
    _array_bands(input, "arraySlice")
    if step < 1:
        raise InvalidArgumentError(f"step must be positive, got {step}.")
    first, stop = _scalar_source(start, "start"), _scalar_source(end, "end")
    for b in input.bands:
        _axis(axis, b.source.rank, "arraySlice")
    return input.map_bands(
        lambda b: replace(b, source=ArrayOpBand("slice", (b.source, first, stop), (axis, step)))
    )


@algorithm("Image.arrayProject")
def array_project(input: Image, axes: list[int]) -> Image:
    """Keeps only the given axes of each array, in that order; every dropped axis must have
    length 1 (other pixels are masked).

    Args:
        input: The array image.
        axes: The axes to keep.
    """
    _array_bands(input, "arrayProject")
    for b in input.bands:
        for a in axes:
            _axis(a, b.source.rank, "arrayProject")
    if len(set(axes)) != len(axes) or not axes:
        raise InvalidArgumentError(f"invalid axes {axes}.")
    return map_array(input, "arrayProject", "project", tuple(int(a) for a in axes))


@algorithm("Image.arrayTranspose")
def array_transpose(input: Image, axis1: int = 0, axis2: int = 1) -> Image:
    """Swaps two axes of each array.

    Args:
        input: The array image.
        axis1: The first axis.
        axis2: The second axis.
    """
    _array_bands(input, "arrayTranspose")
    for b in input.bands:
        _axis(axis1, b.source.rank, "arrayTranspose")
        _axis(axis2, b.source.rank, "arrayTranspose")
    return map_array(input, "arrayTranspose", "transpose", axis1, axis2)


@dataclass(frozen=True)
class ExtentBand(BandSource):
    """Lengths of each pixel's array: one axis (scalar), all axes (1-D), or the rank."""

    accepts_arrays = True

    input: BandSource
    axis: int  # -1: all axes as a 1-D array; -2: the number of dimensions

    dtype = np.dtype(np.int32)

    @property
    def rank(self) -> int:
        return 1 if self.axis == -1 else 0

    def read(self, grid: PixelGrid) -> Pixels:
        p = self.input.read(grid)
        ext = p.extents().astype(np.int32)
        if self.axis == -2:
            return Pixels(np.full(grid.shape, p.rank, np.int32), p.valid)
        if self.axis == -1:
            return Pixels(np.array(ext), p.valid)
        return Pixels(np.array(ext[..., self.axis]), p.valid)


@algorithm("Image.arrayLength")
def array_length(input: Image, axis: int) -> Image:
    """The length of each array along an axis.

    Args:
        input: The array image.
        axis: The axis.
    """
    _array_bands(input, "arrayLength")
    for b in input.bands:
        _axis(axis, b.source.rank, "arrayLength")
    return input.map_bands(lambda b: replace(b, source=ExtentBand(b.source, axis)))


@algorithm("Image.arrayLengths")
def array_lengths(input: Image) -> Image:
    """The lengths of each array along all its axes, as a 1-D array.

    Args:
        input: The array image.
    """
    _array_bands(input, "arrayLengths")
    return input.map_bands(lambda b: replace(b, source=ExtentBand(b.source, -1)))


@algorithm("Image.arrayDimensions")
def array_dimensions(input: Image) -> Image:
    """The number of dimensions of each pixel's array (0 for scalar bands).

    Args:
        input: The image.
    """
    return input.map_bands(
        lambda b: replace(
            b,
            source=ExtentBand(b.source, -2) if b.source.rank else ConstantBand(0.0, "int32"),
        )
    )


@algorithm("Image.arrayMask")
def array_mask(input: Image, mask: Image) -> Image:
    """Keeps the array elements where the mask array is non-zero; the mask may have more than
    one element along a single axis, and that axis is the one filtered. Lengths may then
    differ from pixel to pixel.

    Args:
        input: The array image.
        mask: The mask array image: one band for all input bands, or one per band.
    """
    _array_bands(input, "arrayMask")
    return pair_bands(input, mask, "arrayMask", "mask")


@algorithm("Image.arraySort")
def array_sort(image: Image, keys: Image | None = None) -> Image:
    """Sorts each array along one axis, by its own values or by keys (a stable sort); keys
    may have more than one element along a single axis, the axis sorted.

    Args:
        image: The array image.
        keys: The keys to sort by, default the values themselves.
    """
    _array_bands(image, "arraySort")
    if keys is None:
        return map_array(image, "arraySort", "sort")
    return pair_bands(image, keys, "arraySort", "sort")


@algorithm("Image.arrayArgmax")
def array_argmax(image: Image) -> Image:
    """The position of the largest element of each array (the first if tied), as a 1-D array
    of one index per axis.

    Args:
        image: The array image.
    """
    return map_array(image, "arrayArgmax", "argmax")


@algorithm("Image.arrayDotProduct")
def array_dot_product(image1: Image, image2: Image) -> Image:
    """The dot product of each pair of 1-D arrays.

    Args:
        image1: The first 1-D array image.
        image2: The second 1-D array image.
    """
    for img in (image1, image2):
        _array_bands(img, "arrayDotProduct")
        if any(b.source.rank != 1 for b in img.bands):
            raise InvalidArgumentError("the arrays must be 1-D.")
    return pair_bands(image1, image2, "arrayDotProduct", "dot")


@algorithm("Image.arrayReduce")
def array_reduce(
    input: Image, reducer: Reducer, axes: list[int], fieldAxis: int | None = None
) -> Image:
    """Reduces each array along the given axes, which keep length 1. A reducer with several
    outputs (minMax, percentile with several percentiles, a combined one) lays them out along
    `fieldAxis`, an axis of length 1 once reduced; pixels where it is longer are masked.

    Args:
        input: The array image.
        reducer: The reducer: mean, sum, min, max, minMax, median, percentile, product, count,
            stdDev, variance (and their sample forms), first, last, or a combination of them.
        axes: The axes to reduce over.
        fieldAxis: The axis holding the outputs of a multi-output reducer.
    """
    _array_bands(input, "arrayReduce")
    outputs = axis_outputs(reducer)
    for b in input.bands:
        for a in axes:
            _axis(a, b.source.rank, "arrayReduce")
        if len(outputs) > 1:
            if fieldAxis is None:
                raise InvalidArgumentError("a reducer with several outputs needs a fieldAxis.")
            _axis(fieldAxis, b.source.rank, "arrayReduce")
    return map_array(
        input, "arrayReduce", "reduce", outputs, tuple(int(a) for a in axes), fieldAxis or 0
    )


@algorithm("Image.arrayAccum")
def array_accum(input: Image, axis: int, reducer: Reducer | None = None) -> Image:
    """Accumulates each array along an axis: element i is the reduction of elements 0..i.

    Args:
        input: The array image.
        axis: The axis to accumulate along.
        reducer: sum (default), product, min, max, mean or count.
    """
    _array_bands(input, "arrayAccum")
    name = (
        require(reducer, Context.ARRAY_ACCUM).name
        if reducer is not None
        else default(Context.ARRAY_ACCUM)
    )
    for b in input.bands:
        _axis(axis, b.source.rank, "arrayAccum")
    return map_array(input, "arrayAccum", "accum", axis, name)


@algorithm("Image.neighborhoodToArray")
def neighborhood_to_array(image: Image, kernel: Kernel, defaultValue: float = 0.0) -> Image:
    """Turns the neighbourhood of each pixel into a 2-D array the kernel's size: axis 0 runs
    down the rows, axis 1 along the columns. Each band keeps its mask; masked neighbours hold
    defaultValue. The neighbourhood is taken on the request grid (docs/decisions/0007).

    Args:
        image: The image of scalar bands.
        kernel: The kernel whose rectangle (every cell, whatever its weight) is the
            neighbourhood.
        defaultValue: The value of masked neighbours, truncated for integer bands and clamped
            to the band's type.
    """
    for b in image.bands:
        if b.source.rank:
            raise InvalidArgumentError(f"band '{b.name}' is already array-valued.")
    return image.map_bands(
        lambda b: replace(b, source=NeighborhoodArrayBand(b.source, kernel, float(defaultValue)))
    )
