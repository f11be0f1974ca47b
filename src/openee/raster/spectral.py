"""Spectral morphology (Plaza et al. 2002): erosion, dilation and gradient of a multi-band
image under a structuring kernel, with a spectral distance between pixel spectra.

Among the unmasked members of the kernel around a pixel (a member is unmasked when all its
bands are), each gets a score: its distance to the mean spectrum of the members
(`use_centroid`), or else the sum of its distances to every other member. Erosion takes the
spectrum of the member with the lowest score (the most central), dilation the highest (the
most extreme); ties go to the first member in row-major kernel order. The gradient is the
distance between the dilated and the eroded spectra.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.halo import HaloBand, shifted
from openee.raster.local import kernel_matrix, kernel_reach
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.values.kernel import Kernel

METRICS = ("sam", "sid", "sed", "emd")


def _normalized(a: np.ndarray) -> np.ndarray:
    total = a.sum(axis=0)
    return a / np.where(total != 0, total, 1.0)


def spectral_distance(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Distance between spectra along axis 0: 'sam' the angle (radians), 'sid' the spectral
    information divergence, 'sed' the squared euclidean distance, 'emd' the earth mover's
    distance between the spectra normalised to sum 1 (band order as the bins)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "sed":
            return ((a - b) ** 2).sum(axis=0)
        if metric == "sam":
            norm = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
            cos = np.where(norm > 0, (a * b).sum(axis=0) / np.where(norm > 0, norm, 1.0), 1.0)
            return np.arccos(np.clip(cos, -1.0, 1.0))
        p, q = _normalized(a), _normalized(b)
        if metric == "emd":
            return np.abs(np.cumsum(p, axis=0) - np.cumsum(q, axis=0)).sum(axis=0)
        terms = np.where((p > 0) & (q > 0), (p - q) * np.log(p / q), 0.0)
        return terms.sum(axis=0)


@lru_cache(maxsize=8)
def _morphology(
    sources: tuple[BandSource, ...],
    kernel: Kernel,
    metric: str,
    use_centroid: bool,
    outer: PixelGrid,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eroded, dilated) spectra (bands x h x w) and validity on the grown window."""
    layers = [s.read(outer) for s in sources]
    values = np.stack([p.data.astype(np.float64) for p in layers])
    valid = np.logical_and.reduce([p.valid for p in layers])
    m = kernel_matrix(kernel, outer)
    members = [(int(r) - m.y, int(c) - m.x) for r, c in zip(*np.nonzero(m.array()), strict=True)]
    spectra = [np.stack([shifted(band, dr, dc) for band in values]) for dr, dc in members]
    oks = [shifted(valid, dr, dc, False) for dr, dc in members]
    count = np.sum(oks, axis=0)
    if use_centroid:
        total = sum(np.where(ok, s, 0.0) for s, ok in zip(spectra, oks, strict=True))
        centroid = total / np.maximum(count, 1)
        scores = [spectral_distance(s, centroid, metric) for s in spectra]
    else:
        scores = []
        for s in spectra:
            d = [
                np.where(ok, spectral_distance(s, t, metric), 0.0)
                for t, ok in zip(spectra, oks, strict=True)
            ]
            scores.append(np.sum(d, axis=0))
    score = np.stack([np.where(ok, sc, np.nan) for sc, ok in zip(scores, oks, strict=True)])
    any_ok = count > 0
    filled_low = np.where(np.isnan(score), np.inf, score)
    filled_high = np.where(np.isnan(score), -np.inf, score)
    low, high = np.argmin(filled_low, axis=0), np.argmax(filled_high, axis=0)
    stack = np.stack(spectra)  # members x bands x h x w
    rows, cols = np.indices(valid.shape)
    eroded = stack[low, :, rows, cols].transpose(2, 0, 1)
    dilated = stack[high, :, rows, cols].transpose(2, 0, 1)
    return eroded, dilated, any_ok & valid


@dataclass(frozen=True)
class SpectralMorphologyBand(HaloBand):
    """Band `band` of the eroded or dilated image, or (op 'gradient') the distance between
    the dilated and eroded spectra. Masked where the pixel itself is masked."""

    sources: tuple[BandSource, ...]
    kernel: Kernel
    metric: str
    use_centroid: bool
    op: str
    band: int = 0

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise InvalidArgumentError(
                f"Unknown spectral metric '{self.metric}': use one of {', '.join(METRICS)}."
            )
        if self.kernel.metric:
            raise InvalidArgumentError("Spectral morphology needs a kernel in pixels.")

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def inputs(self) -> tuple[BandSource, ...]:
        return ()

    def halo(self, grid: PixelGrid) -> int:
        return kernel_reach(kernel_matrix(self.kernel, grid))

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        eroded, dilated, ok = _morphology(
            self.sources, self.kernel, self.metric, self.use_centroid, outer
        )
        if self.op == "gradient":
            return Pixels(spectral_distance(dilated, eroded, self.metric), ok)
        chosen = eroded if self.op == "erosion" else dilated
        return Pixels(chosen[self.band], ok)
