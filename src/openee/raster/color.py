"""Colour kernels: HSV <-> RGB on [0, 1] bands, colour maps (SLD ramp, intervals, values) and a
colour per distinct value (Image.randomVisualizer)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels, mask_weight, min_weight
from openee.raster.sources import BandSource


def rgb_to_hsv(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Hue, saturation and value in [0, 1] (hue 0 for greys), as Python's colorsys defines them."""
    high = np.maximum(np.maximum(r, g), b)
    low = np.minimum(np.minimum(r, g), b)
    span = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        saturation = np.where(high > 0, span / np.where(high > 0, high, 1), 0.0)
        safe = np.where(span > 0, span, 1)
        rc, gc, bc = (high - r) / safe, (high - g) / safe, (high - b) / safe
    hue = np.where(r == high, bc - gc, np.where(g == high, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = np.where(span > 0, (hue / 6.0) % 1.0, 0.0)
    return hue, saturation, high


def hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    """Red, green and blue in [0, 1] from hue (wrapping), saturation and value."""
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    p, q, t = v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f))
    i = sector.astype(np.int64) % 6
    choose = [i == k for k in range(6)]
    r = np.select(choose, [v, q, p, p, t, v])
    g = np.select(choose, [t, v, v, q, p, p])
    b = np.select(choose, [p, p, t, v, v, q])
    return r, g, b


@dataclass(frozen=True)
class ColorSpaceBand(BandSource):
    """One channel of a colour-space conversion of three bands ('rgbToHsv' or 'hsvToRgb')."""

    inputs: tuple[BandSource, BandSource, BandSource]
    conversion: str
    channel: int

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        a, b, c = (s.read(grid) for s in self.inputs)
        convert = rgb_to_hsv if self.conversion == "rgbToHsv" else hsv_to_rgb
        channels = convert(*(p.data.astype(np.float64) for p in (a, b, c)))
        valid = a.valid & b.valid & c.valid
        return Pixels(np.asarray(channels[self.channel]), valid, weight=min_weight(a, b, c))


@dataclass(frozen=True)
class ColorMapBand(BandSource):
    """One 8-bit channel of an SLD colour map applied to a band.

    'ramp' interpolates linearly between entries (clamping outside them); 'intervals' gives a
    value the colour of the first entry whose quantity exceeds it (masked past the last);
    'values' colours exact matches only (others masked). An entry with opacity 0 masks.
    """

    input: BandSource
    kind: str  # ramp | intervals | values
    quantities: tuple[float, ...]
    colors: tuple[tuple[int, int, int], ...]
    opacities: tuple[float, ...]
    channel: int

    dtype = np.dtype(np.uint8)

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        x = base.data.astype(np.float64)
        q = np.asarray(self.quantities)
        colors = np.asarray([c[self.channel] for c in self.colors], dtype=np.float64)
        opacity = np.asarray(self.opacities)
        if self.kind == "ramp":
            value = np.interp(x, q, colors)
            alpha = np.interp(x, q, opacity)
            matched = np.ones(grid.shape, dtype=bool)
        else:
            if self.kind == "intervals":
                index = np.searchsorted(q, x, side="right")
                matched = index < len(q)
            else:
                index = np.searchsorted(q, x, side="left")
                matched = (index < len(q)) & (q[np.minimum(index, len(q) - 1)] == x)
            index = np.minimum(index, len(q) - 1)
            value, alpha = colors[index], opacity[index]
        data = np.clip(np.rint(value), 0, 255).astype(np.uint8)
        # An entry's opacity only masks (0) or not ("Non-zero opacity values are treated as
        # completely opaque", Image Visualization guide); the input's fraction stays.
        return Pixels(data, base.valid & matched & (alpha > 0), weight=base.weight)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: a bijective scramble of 64-bit words."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def value_color(values: np.ndarray, channel: int) -> np.ndarray:
    """A pseudo-random 8-bit colour channel that depends only on each value (its float64 bits)."""
    # + 0.0 turns -0.0 into 0.0, so that equal values get equal colours.
    bits = np.ascontiguousarray(np.asarray(values, dtype=np.float64) + 0.0).view(np.uint64)
    return ((_mix64(bits) >> np.uint64(8 * channel)) & np.uint64(0xFF)).astype(np.uint8)


@dataclass(frozen=True)
class ValueColorBand(BandSource):
    """Channel `channel` (0 red, 1 green, 2 blue) of a colour chosen per distinct value."""

    input: BandSource
    channel: int

    dtype = np.dtype(np.uint8)

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        return Pixels(value_color(base.data, self.channel), base.valid)


@dataclass(frozen=True)
class BlendBand(BandSource):
    """`top` over `bottom` with their masks as opacities (Image.blend: "blended together using
    the masks as opacity"), Porter and Duff's "over": opacity a = a_top + a_bottom (1 - a_top)
    is the output's mask, and the value is (v_top a_top + v_bottom a_bottom (1 - a_top)) / a,
    rounded for integer bands (docs/decisions/0055). With whole masks only this is the top's
    pixel wherever it is valid, else the bottom's."""

    bottom: BandSource
    top: BandSource

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(self.bottom.dtype, self.top.dtype)

    def read(self, grid: PixelGrid) -> Pixels:
        under, over = self.bottom.read(grid), self.top.read(grid)
        dtype = self.dtype
        if under.weight is None and over.weight is None:
            data = np.where(over.valid, over.data, under.data).astype(dtype)
            return Pixels(data, under.valid | over.valid)
        a_top, a_bottom = over.fraction(), under.fraction()
        below = a_bottom * (1 - a_top)
        alpha = a_top + below
        with np.errstate(invalid="ignore", over="ignore"):
            top = np.where(a_top > 0, over.data, 0).astype(np.float64)
            bottom = np.where(below > 0, under.data, 0).astype(np.float64)
            value = (top * a_top + bottom * below) / np.where(alpha > 0, alpha, 1)
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            value = np.clip(np.floor(value + 0.5), info.min, info.max)
        return Pixels(value.astype(dtype), alpha > 0, weight=mask_weight(alpha))
