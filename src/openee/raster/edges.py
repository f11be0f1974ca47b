"""Canny edges (Earth Engine's CannyEdgeDetector): Gaussian smoothing, Sobel gradient,
non-maximum suppression along the gradient direction and one threshold (ADR 0032).

Earth Engine documents the threshold, the Gaussian's sigma (0: no smoothing) and that edge pixels
hold the gradient magnitude (others 0); it does not document its gradient operator. Here the
gradient is the Sobel operator divided by 8, i.e. the change in value per pixel, so a threshold
reads in the band's units per pixel. Computed on a halo of the smoothing radius plus two pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from openee.raster.grid import PixelGrid
from openee.raster.halo import UnaryHaloBand
from openee.raster.pixels import Pixels

TRUNCATE = 3.0  # the Gaussian is cut at 3 sigma


def smoothing_radius(sigma: float) -> int:
    return int(TRUNCATE * sigma + 0.5) if sigma > 0 else 0


def canny(values: np.ndarray, threshold: float, sigma: float) -> np.ndarray:
    """Edge magnitudes of `values` (0 off the edges)."""
    v = values.astype(np.float64)
    if sigma > 0:
        v = ndimage.gaussian_filter(v, sigma, mode="nearest", truncate=TRUNCATE)
    gx = ndimage.sobel(v, axis=1, mode="nearest") / 8.0
    gy = ndimage.sobel(v, axis=0, mode="nearest") / 8.0
    mag = np.hypot(gx, gy)
    # The gradient direction, folded to [0, 180) degrees, picks the two neighbours to beat.
    angle = np.degrees(np.arctan2(gy, gx)) % 180.0
    padded = np.pad(mag, 1, mode="edge")
    h, w = mag.shape

    def at(dr: int, dc: int) -> np.ndarray:
        return padded[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]

    keep = np.zeros(mag.shape, dtype=bool)
    sectors = (
        ((angle < 22.5) | (angle >= 157.5), (0, 1)),
        ((angle >= 22.5) & (angle < 67.5), (1, 1)),
        ((angle >= 67.5) & (angle < 112.5), (1, 0)),
        ((angle >= 112.5) & (angle < 157.5), (1, -1)),
    )
    for sector, (dr, dc) in sectors:
        keep |= sector & (mag >= at(dr, dc)) & (mag >= at(-dr, -dc))
    return np.where(keep & (mag > threshold), mag, 0.0)


@dataclass(frozen=True)
class CannyBand(UnaryHaloBand):
    """Canny edges of `input`; masked where any pixel the result depends on is masked."""

    threshold: float
    sigma: float

    dtype = np.dtype(np.float64)

    def halo(self, grid: PixelGrid) -> int:
        return smoothing_radius(self.sigma) + 2

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        reach = smoothing_radius(self.sigma) + 2
        footprint = np.ones((2 * reach + 1, 2 * reach + 1), dtype=bool)
        valid = ndimage.binary_erosion(p.valid, footprint, border_value=1)
        if not valid.any():
            return Pixels.empty(p.valid.shape, self.dtype)
        filled = np.where(p.valid, p.data, 0)
        return Pixels(canny(filled, self.threshold, self.sigma), valid)
