"""Landsat pixel kernels: calibration of DN from MTL coefficients, and the simple cloud score.

The formulas and their sources are in docs/decisions/0028-landsat-algorithms-and-l2-properties.md.
Outputs are 32-bit floats, the type of Earth Engine's Landsat TOA images; the arithmetic is done
in 64-bit floats and rounded once at the end.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.reduce import reduce_with
from openee.raster.sources import BandSource
from openee.reducers.pixel import PERCENTILE

FLOAT32 = np.dtype(np.float32)


@dataclass(frozen=True)
class CalibratedBand(BandSource):
    """DN to radiance `L = DN * mult + add`; then, by `kind`:

    - "radiance": L;
    - "reflectance": L / sin(sun elevation), with the REFLECTANCE_MULT/ADD coefficients as
      `mult`/`add` (`divisor` = sin(sun elevation));
    - "temperature": brightness temperature K2 / ln(K1 / L + 1), in kelvin.
    """

    input: BandSource
    kind: str
    mult: float
    add: float
    divisor: float = 1.0
    k1: float = 0.0
    k2: float = 0.0

    @property
    def dtype(self) -> np.dtype:
        return FLOAT32

    def read(self, grid: PixelGrid) -> Pixels:
        dn = self.input.read(grid)
        value = dn.data.astype(np.float64) * self.mult + self.add
        valid = dn.valid
        if self.kind == "reflectance":
            value = value / self.divisor
        elif self.kind == "temperature":
            # Radiance <= 0 has no brightness temperature: masked.
            positive = value > 0
            valid = valid & positive
            value = self.k2 / np.log(self.k1 / np.where(positive, value, 1.0) + 1.0)
            value = np.where(positive, value, 0.0)
        return Pixels(value.astype(FLOAT32), valid)


def rescale(value: np.ndarray, low: float, high: float) -> np.ndarray:
    """(value - low) / (high - low): the cloud score's linear ramps."""
    return (value - low) / (high - low)


def cloud_score(
    blue: np.ndarray,
    green: np.ndarray,
    red: np.ndarray,
    nir: np.ndarray,
    swir1: np.ndarray,
    swir2: np.ndarray,
    temp: np.ndarray,
) -> np.ndarray:
    """The simple Landsat cloud score in [0, 100] of TOA reflectance and brightness temperature
    (kelvin): the minimum of linear ramps on brightness, temperature and NDSI, times 100."""
    score = np.ones_like(blue)
    score = np.minimum(score, rescale(blue, 0.1, 0.3))
    score = np.minimum(score, rescale(red + green + blue, 0.2, 0.8))
    score = np.minimum(score, rescale(nir + swir1 + swir2, 0.3, 0.8))
    score = np.minimum(score, rescale(temp, 300.0, 290.0))
    total = green + swir1
    with np.errstate(all="ignore"):
        ndsi = np.where(total == 0, 0.0, (green - swir1) / np.where(total == 0, 1.0, total))
    score = np.minimum(score, rescale(ndsi, 0.8, 0.6))
    return np.clip(score, 0.0, 1.0) * 100.0


# The scores this thread computed last, by (band, grid): a composite reads each scene's score
# once per output band and once for the lowest score, on the same chunk. Bounded in bytes, so a
# composite of many scenes on large chunks recomputes rather than holds them all.
_recent = threading.local()
_RECENT_BYTES = 64 * 2**20


def _nbytes(pixels: Pixels) -> int:
    return int(pixels.data.nbytes + pixels.valid.nbytes)


@dataclass(frozen=True)
class CloudScoreBand(BandSource):
    """`cloud_score` of seven TOA bands: blue, green, red, nir, swir1, swir2, temperature."""

    inputs: tuple[BandSource, ...]

    @property
    def dtype(self) -> np.dtype:
        return FLOAT32

    def read(self, grid: PixelGrid) -> Pixels:
        scores: OrderedDict[tuple[CloudScoreBand, PixelGrid], Pixels] | None
        scores = getattr(_recent, "scores", None)
        if scores is None:
            scores = _recent.scores = OrderedDict()
        key = (self, grid)
        if key in scores:
            scores.move_to_end(key)
            return scores[key]
        pixels = self._score(grid)
        scores[key] = pixels
        while len(scores) > 1 and sum(_nbytes(p) for p in scores.values()) > _RECENT_BYTES:
            scores.popitem(last=False)
        return pixels

    def _score(self, grid: PixelGrid) -> Pixels:
        layers = [source.read(grid) for source in self.inputs]
        valid = np.logical_and.reduce([layer.valid for layer in layers])
        score = cloud_score(*(layer.data.astype(np.float64) for layer in layers))
        return Pixels(np.where(valid, score, 0.0).astype(FLOAT32), valid)


@dataclass(frozen=True)
class SimpleCompositeBand(BandSource):
    """One band of Landsat.simpleComposite: at each pixel, of the first `depth` scenes with a
    cloud score there (scenes in order, least cloudy first), those scoring within `score_range`
    of the lowest score; the `percentile` of their values (linear between ranks)."""

    values: tuple[BandSource, ...]  # the band in each scene
    clouds: tuple[BandSource, ...]  # each scene's cloud score
    percentile: float
    score_range: float
    depth: int

    @property
    def dtype(self) -> np.dtype:
        return FLOAT32

    def read(self, grid: PixelGrid) -> Pixels:
        clouds = [source.read(grid) for source in self.clouds]
        count = np.zeros(grid.shape, dtype=np.int64)
        used = []
        for cloud in clouds:
            take = cloud.valid & (count < self.depth)
            count += take
            used.append(take)
        lowest = np.full(grid.shape, np.inf)
        for cloud, take in zip(clouds, used, strict=True):
            lowest = np.where(take, np.minimum(lowest, cloud.data), lowest)
        stack = []
        for source, cloud, take in zip(self.values, clouds, used, strict=True):
            value = source.read(grid)
            accepted = take & (cloud.data <= lowest + self.score_range)
            stack.append(Pixels(value.data, value.valid & accepted))
        # The percentile in float64, rounded once (the asFloat output has TOA's float32 type).
        out = reduce_with(PERCENTILE, stack, np.dtype(np.float64), self.percentile)
        return Pixels(out.data.astype(FLOAT32), out.valid)
