"""Reverse squared Euclidean distance (Image.rsedTransform): the upper envelope of inverted
parabolas v - d^2 standing on the non-zero pixels, on the request grid.

The maximum over a square window splits into two one-dimensional grey dilations (rows, then
columns) since -(dx^2 + dy^2) = -dx^2 - dy^2. With a halo of the window's half-width every
pixel of a chunk sees exactly its window, so chunks agree with the whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from openee.raster.grid import PixelGrid
from openee.raster.halo import UnaryHaloBand
from openee.raster.pixels import Pixels


@dataclass(frozen=True)
class RsedBand(UnaryHaloBand):
    """max(0, max over the unmasked non-zero pixels q with |dx|, |dy| <= neighborhood of
    v(q) - (dx^2 + dy^2)), in pixels of the request grid; every pixel is valid."""

    neighborhood: int

    dtype = np.dtype(np.float64)

    def halo(self, grid: PixelGrid) -> int:
        return self.neighborhood

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        sources = p.valid & (p.data != 0)
        heights = np.where(sources, p.data.astype(np.float64), -np.inf)
        top = float(heights.max()) if sources.any() else 0.0
        # A parabola is below zero (and clipped) beyond sqrt(v) pixels: reach no farther.
        if not math.isfinite(top):
            reach = self.neighborhood
        else:
            reach = min(self.neighborhood, math.isqrt(math.floor(top))) if top > 0 else 0
        surface = heights
        if reach > 0:
            offsets = np.arange(-reach, reach + 1, dtype=np.float64)
            line = -(offsets**2)
            surface = ndimage.grey_dilation(
                surface, structure=line[None, :], mode="constant", cval=-np.inf
            )
            surface = ndimage.grey_dilation(
                surface, structure=line[:, None], mode="constant", cval=-np.inf
            )
        out = np.maximum(surface, 0.0)
        return Pixels(out, np.ones(out.shape, dtype=bool))
