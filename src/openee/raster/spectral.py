"""Per-pixel spectral kernels over a stack of bands: linear unmixing (Image.unmix) and spectral
distances (Image.spectralDistance).

Stacks are (bands, height, width) float64 arrays; results are per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

DISTANCE_METRICS = ("sam", "sid", "sed", "emd")
# Weight of the sum-to-one row when it is combined with non-negativity for many endmembers
# (then solved as one more, heavily weighted, equation).
SUM_TO_ONE_WEIGHT = 1e4


def _stack(sources: tuple[BandSource, ...], grid: PixelGrid) -> tuple[np.ndarray, np.ndarray]:
    pixels = [s.read(grid) for s in sources]
    data = np.stack([p.data.astype(np.float64) for p in pixels])
    valid = np.logical_and.reduce([p.valid for p in pixels])
    return data, valid


def _least_squares(a: np.ndarray, x: np.ndarray, sum_to_one: bool) -> np.ndarray:
    """argmin ||a f - x|| for every column of x, subject to sum(f) = 1 when asked."""
    if not sum_to_one:
        return np.linalg.pinv(a) @ x
    # Equality-constrained least squares, by its KKT system.
    k = a.shape[1]
    kkt = np.zeros((k + 1, k + 1))
    kkt[:k, :k] = a.T @ a
    kkt[:k, k] = kkt[k, :k] = 1.0
    rhs = np.vstack([a.T @ x, np.ones((1, x.shape[1]))])
    return (np.linalg.pinv(kkt) @ rhs)[:k]


def _non_negative(a: np.ndarray, x: np.ndarray, sum_to_one: bool) -> np.ndarray:
    """Non-negative (and optionally sum-to-one) least squares, exactly, for few endmembers.

    The optimum is the (constrained) least-squares solution on its own support, so it is the
    best of the feasible solutions over all supports: 2^k - 1 small solves, each vectorized
    over every pixel.
    """
    k, n = a.shape[1], x.shape[1]
    best = np.zeros((k, n))
    best_error = np.full(n, np.inf) if sum_to_one else (x * x).sum(axis=0)  # f = 0
    tolerance = -1e-9 * max(1.0, float(np.abs(x).max(initial=0.0)))
    for mask in range(1, 1 << k):
        support = [j for j in range(k) if mask >> j & 1]
        f = _least_squares(a[:, support], x, sum_to_one)
        error = ((a[:, support] @ f - x) ** 2).sum(axis=0)
        better = (f.min(axis=0) >= tolerance) & (error < best_error)
        best[:, better] = 0.0
        best[np.ix_(np.asarray(support), np.nonzero(better)[0])] = np.maximum(f[:, better], 0.0)
        best_error = np.where(better, error, best_error)
    return best


# Beyond this many endmembers, non-negative unmixing solves pixel by pixel (scipy's NNLS).
MAX_ENUMERATED_ENDMEMBERS = 10


def unmix_pixels(
    x: np.ndarray, endmembers: np.ndarray, sum_to_one: bool, non_negative: bool
) -> np.ndarray:
    """Fractions f (k, N) with endmembers.T @ f ~ x for pixels x (n, N); endmembers is (k, n)."""
    a = endmembers.T  # (n bands, k endmembers)
    k = a.shape[1]
    if not non_negative:
        return _least_squares(a, x, sum_to_one)
    if k <= MAX_ENUMERATED_ENDMEMBERS:
        return _non_negative(a, x, sum_to_one)
    from scipy.optimize import nnls

    if sum_to_one:
        weight = SUM_TO_ONE_WEIGHT * max(float(np.abs(a).max()), 1.0)
        a = np.vstack([a, np.full((1, k), weight)])
        x = np.vstack([x, np.full((1, x.shape[1]), weight)])
    out = np.zeros((k, x.shape[1]))
    for i in range(x.shape[1]):
        out[:, i] = nnls(a, x[:, i])[0]
    return out


@lru_cache(maxsize=4)
def _unmixed(
    inputs: tuple[BandSource, ...],
    endmembers: tuple[tuple[float, ...], ...],
    sum_to_one: bool,
    non_negative: bool,
    grid: PixelGrid,
) -> tuple[np.ndarray, np.ndarray]:
    """Every endmember's fractions on `grid`, kept for the next band of the same chunk (the
    bands of one chunk are read one after another, and the solve is the cost)."""
    data, valid = _stack(inputs, grid)
    out = np.zeros((len(endmembers), *grid.shape))
    if valid.any():
        out[:, valid] = unmix_pixels(
            data[:, valid], np.asarray(endmembers), sum_to_one, non_negative
        )
    out.setflags(write=False)
    return out, valid


@dataclass(frozen=True)
class UnmixedBand(BandSource):
    """The fraction of endmember `index` in each pixel of the stacked inputs."""

    inputs: tuple[BandSource, ...]
    endmembers: tuple[tuple[float, ...], ...]
    sum_to_one: bool
    non_negative: bool
    index: int

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        fractions, valid = _unmixed(
            self.inputs, self.endmembers, self.sum_to_one, self.non_negative, grid
        )
        return Pixels(fractions[self.index].copy(), valid.copy())


def spectral_distance(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Distances between the spectra a and b (bands on axis 0).

    sam: the angle between the vectors (radians); sid: the symmetric Kullback-Leibler divergence
    of the spectra normalized to sum 1; sed: the squared Euclidean distance; emd: the earth
    mover's distance between the normalized spectra (sum of |difference of cumulative sums|).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "sam":
            cos = (a * b).sum(axis=0) / np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
            return np.arccos(np.clip(cos, -1.0, 1.0))
        if metric == "sed":
            return ((a - b) ** 2).sum(axis=0)
        p, q = a / a.sum(axis=0), b / b.sum(axis=0)
        if metric == "sid":
            return (p * np.log(p / q)).sum(axis=0) + (q * np.log(q / p)).sum(axis=0)
        return np.abs(np.cumsum(p, axis=0) - np.cumsum(q, axis=0)).sum(axis=0)


@dataclass(frozen=True)
class SpectralDistanceBand(BandSource):
    """The per-pixel spectral distance between two stacks of bands."""

    first: tuple[BandSource, ...]
    second: tuple[BandSource, ...]
    metric: str

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        a, valid_a = _stack(self.first, grid)
        b, valid_b = _stack(self.second, grid)
        return Pixels(spectral_distance(a, b, self.metric), valid_a & valid_b)
