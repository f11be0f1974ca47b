"""Spectral/spatial morphology (Image.spectralErosion, spectralDilation, spectralGradient),
after Plaza et al., 'Spatial/spectral endmember extraction by multidimensional morphological
operations' (IEEE TGRS 40.9, 2002).

Within the kernel's neighbourhood of each pixel, every member's spectrum (all bands) is compared
with a reference spectrum (the centre pixel's, or the mean of the members with useCentroid):
erosion takes the spectrum of the closest member, dilation that of the farthest, and the
gradient is the distance between the two. Members with a masked band are left out; ties go to
the first member in row-major kernel order. Computed on the request grid, like the other
neighbourhood operations (docs/decisions/0007-neighbourhoods-on-the-request-grid.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.neighborhood import metres_per_pixel, read_expanded
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.raster.spectral import spectral_distance
from openee.values.kernel import Kernel

MORPHOLOGY_OPS = ("erosion", "dilation", "gradient")


@lru_cache(maxsize=4)
def _morphology(
    inputs: tuple[BandSource, ...], kernel: Kernel, metric: str, use_centroid: bool, grid: PixelGrid
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eroded spectra, dilated spectra, valid) on `grid`; kept for the chunk's other bands."""
    m = kernel.matrix(metres_per_pixel(grid) if kernel.metric else None)
    top, left = m.y, m.x
    bottom, right = m.height - 1 - m.y, m.width - 1 - m.x
    outer = [read_expanded(s, grid, top, left, bottom, right) for s in inputs]
    values = np.stack([p.data.astype(np.float64) for p in outer])
    ok = np.logical_and.reduce([p.valid for p in outer])
    h, w = grid.shape
    members = [(r, c) for r in range(m.height) for c in range(m.width) if m.weights[r][c] != 0]
    spectra = np.stack([values[:, r : r + h, c : c + w] for r, c in members])  # (k, n, h, w)
    member_ok = np.stack([ok[r : r + h, c : c + w] for r, c in members])  # (k, h, w)
    centre_ok = ok[top : top + h, left : left + w]
    if use_centroid:
        count = member_ok.sum(axis=0)
        reference = (spectra * member_ok[:, None]).sum(axis=0) / np.maximum(count, 1)
    else:
        reference = values[:, top : top + h, left : left + w]
    distances = np.stack([spectral_distance(s, reference, metric) for s in spectra])
    distances = np.where(np.isnan(distances), np.inf, distances)
    low = np.where(member_ok, distances, np.inf).argmin(axis=0)
    high = np.where(member_ok, distances, -np.inf).argmax(axis=0)
    rows, cols = np.indices((h, w))
    eroded = spectra[low, :, rows, cols].transpose(2, 0, 1)
    dilated = spectra[high, :, rows, cols].transpose(2, 0, 1)
    valid = centre_ok & member_ok.any(axis=0)
    for a in (eroded, dilated, valid):
        a.setflags(write=False)
    return eroded, dilated, valid


@dataclass(frozen=True)
class SpectralMorphologyBand(BandSource):
    """Band `index` of the spectral erosion or dilation of `inputs`, or their gradient (the
    spectral distance between the dilated and eroded spectra, one band)."""

    inputs: tuple[BandSource, ...]
    kernel: Kernel
    metric: str
    use_centroid: bool
    op: str
    index: int = 0

    reads_other_grid = True  # its inputs are read on the expanded grid

    @property
    def dtype(self) -> np.dtype:
        if self.op == "gradient":
            return np.dtype(np.float64)
        return self.inputs[self.index].dtype

    def read(self, grid: PixelGrid) -> Pixels:
        eroded, dilated, valid = _morphology(
            self.inputs, self.kernel, self.metric, self.use_centroid, grid
        )
        if self.op == "gradient":
            data = spectral_distance(dilated, eroded, self.metric)
        else:
            data = (eroded if self.op == "erosion" else dilated)[self.index]
        data = np.where(valid, data, 0).astype(self.dtype)
        return Pixels(data, valid.copy())
