"""Pixels of one band on one grid: values and a validity mask (Earth Engine's per-band mask).

An array-valued band (docs/decisions/0015-array-valued-pixels.md) has `data` of shape
(height, width, *dims): every pixel's array is padded to the chunk's largest extent per axis.
`lengths`, when present, has shape (height, width, rank) and gives each pixel's own extent per
axis; None means every pixel uses the whole padded extent. `valid` masks whole pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pixels:
    """`data` starts with the grid's (height, width) shape; `valid` is the band's mask."""

    data: np.ndarray
    valid: np.ndarray
    lengths: np.ndarray | None = None
    # The mask's fraction where it is between 0 and 1 (Earth Engine's masks are fractional),
    # float32 of `valid`'s shape; None: every valid pixel weighs 1. Where `valid` is False the
    # weight is meaningless (the pixel is masked).
    weight: np.ndarray | None = None

    @classmethod
    def empty(cls, shape: tuple[int, int], dtype: np.dtype) -> Pixels:
        return cls(np.zeros(shape, dtype=dtype), np.zeros(shape, dtype=bool))

    @property
    def rank(self) -> int:
        """The number of array dimensions of each pixel (0 for scalar pixels)."""
        return self.data.ndim - self.valid.ndim

    def extents(self) -> np.ndarray:
        """Each pixel's extent per axis, shape (*valid.shape, rank)."""
        if self.lengths is not None:
            return self.lengths
        dims = np.asarray(self.data.shape[self.valid.ndim :], dtype=np.int64)
        return np.broadcast_to(dims, (*self.valid.shape, self.rank))

    def fraction(self) -> np.ndarray:
        """The mask as float32 values in [0, 1]: the weight where valid, 0 where masked."""
        if self.weight is None:
            return self.valid.astype(np.float32)
        return np.where(self.valid, self.weight, np.float32(0)).astype(np.float32, copy=False)


def min_weight(*parts: Pixels) -> np.ndarray | None:
    """The fraction of a per-pixel operation's output: the minimum of its inputs' fractions
    (docs/decisions/0055), or None when no input has one (the common path costs nothing)."""
    weights = [p.weight for p in parts if p.weight is not None]
    if not weights:
        return None
    if len(weights) == 1:
        return weights[0]
    out: np.ndarray = np.minimum.reduce(np.broadcast_arrays(*weights))
    return out


def mask_weight(values: np.ndarray) -> np.ndarray | None:
    """The fraction that a mask band's values set (Image.updateMask, selfMask, mask): a value
    strictly between 0 and 1 is that fraction of a pixel; other non-zero values are whole
    pixels. Only floating-point values can hold a fraction, so integer masks cost nothing."""
    if values.dtype.kind != "f":
        return None
    partial = (values > 0) & (values < 1)
    if not partial.any():
        return None
    return np.where(partial, values, 1).astype(np.float32)


Box = tuple[slice, slice]


@dataclass(frozen=True)
class BoxedPixels:
    """Pixels of one band on a (height, width) grid held only in a box of it: every pixel
    outside the box is masked (value 0).

    A file covers a small part of many chunks (a chunk on a tile's edge: at 2048x2048 over a
    Sentinel-2 tile, about 40 % of each chunk). Carrying its reads, a composite of them and
    the chunk's result in their box, instead of zero-filled chunk arrays, spares the memory
    and the passes over the rest of the chunk; a cold request pays for every fresh page
    (bench/RESULTS.md, docs/decisions/0048).
    """

    shape: tuple[int, int]
    box: Box | None  # None: no pixel is valid
    pixels: Pixels  # the box's pixels (of shape (0, 0) when box is None)

    @classmethod
    def whole(cls, pixels: Pixels) -> BoxedPixels:
        shape = (pixels.valid.shape[0], pixels.valid.shape[1])
        return cls(shape, (slice(0, shape[0]), slice(0, shape[1])), pixels)

    @classmethod
    def empty(cls, shape: tuple[int, int], dtype: np.dtype) -> BoxedPixels:
        return cls(shape, None, Pixels.empty((0, 0), dtype))

    def full(self) -> Pixels:
        """The pixels on the whole grid."""
        if self.box is not None and self._covers(self.box, self.shape):
            return self.pixels
        return self.within((slice(0, self.shape[0]), slice(0, self.shape[1])))

    def within(self, box: Box) -> Pixels:
        """The pixels of `box` (any box of the grid), masked and 0 outside this box; views
        when `box` lies within this box."""
        if self.box == box:
            return self.pixels
        common = meet_box(self.box, box)
        if self.box is not None and common == box:
            crop = _relative(box, self.box)
            weight = self.pixels.weight
            return Pixels(
                self.pixels.data[crop],
                self.pixels.valid[crop],
                weight=weight[crop] if weight is not None else None,
            )
        shape = (box[0].stop - box[0].start, box[1].stop - box[1].start)
        out = Pixels.empty(shape, self.pixels.data.dtype)
        if self.pixels.weight is not None:
            out = Pixels(out.data, out.valid, weight=np.ones(shape, dtype=np.float32))
        if self.box is not None and common is not None:
            into, source = _relative(common, box), _relative(common, self.box)
            out.data[into] = self.pixels.data[source]
            out.valid[into] = self.pixels.valid[source]
            if out.weight is not None and self.pixels.weight is not None:
                out.weight[into] = self.pixels.weight[source]
        return out

    @staticmethod
    def _covers(box: Box, shape: tuple[int, int]) -> bool:
        return box[0] == slice(0, shape[0]) and box[1] == slice(0, shape[1])


def union_box(boxes: list[Box | None]) -> Box | None:
    """The smallest box holding all of `boxes` (None ones hold nothing)."""
    held = [b for b in boxes if b is not None]
    if not held:
        return None
    return (
        slice(min(b[0].start for b in held), max(b[0].stop for b in held)),
        slice(min(b[1].start for b in held), max(b[1].stop for b in held)),
    )


def meet_box(a: Box | None, b: Box | None) -> Box | None:
    """The box both `a` and `b` hold (None if they do not meet)."""
    if a is None or b is None:
        return None
    rows = slice(max(a[0].start, b[0].start), min(a[0].stop, b[0].stop))
    cols = slice(max(a[1].start, b[1].start), min(a[1].stop, b[1].stop))
    if rows.start >= rows.stop or cols.start >= cols.stop:
        return None
    return rows, cols


def _relative(inner: Box, outer: Box) -> Box:
    """`inner` (held by `outer`) in the coordinates of `outer`."""
    return (
        slice(inner[0].start - outer[0].start, inner[0].stop - outer[0].start),
        slice(inner[1].start - outer[1].start, inner[1].stop - outer[1].start),
    )
