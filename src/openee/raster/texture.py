"""Grey-level co-occurrence (GLCM) texture metrics around each pixel (Image.glcmTexture).

For a direction (dx, dy), the GLCM of a pixel counts the value pairs (v(p), v(p + offset)) for
every p of the (2 size + 1)^2 window around it where both are unmasked, counted both ways
(symmetric), normalised to probabilities P(i, j). The metrics (Haralick's 14, MAXCORR not
computed and 0, and Conners' 4) are taken from P with natural logarithms; SVAR is the variance
of i + j about SAVG. Every metric is an expectation over the pairs themselves, so no matrix is
built: a pair's probability is the share of pairs equal to it (an all-pairs comparison, whose
cost grows with the square of the window size).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.halo import HaloBand, shifted
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

METRICS = (
    "asm", "contrast", "corr", "var", "idm", "savg", "svar", "sent", "ent",
    "dvar", "dent", "imcorr1", "imcorr2", "maxcorr", "diss", "inertia", "shade", "prom",
)  # fmt: skip


def _shares(x: np.ndarray, ok: np.ndarray, n: np.ndarray) -> np.ndarray:
    """For each pair k: the share of the valid pairs whose value equals x[k]."""
    out = np.zeros(x.shape)
    for k in range(x.shape[0]):
        out[k] = ((x == x[k]) & ok).sum(axis=0)
    return out / np.maximum(n, 1)


def _mean(f: np.ndarray, ok: np.ndarray, n: np.ndarray) -> np.ndarray:
    return np.where(ok, f, 0.0).sum(axis=0) / np.maximum(n, 1)


def direction_metrics(
    values: np.ndarray, valid: np.ndarray, dx: int, dy: int, size: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every metric for one direction on a window (computed for all its pixels)."""
    v = values.astype(np.float64)
    other = shifted(v, dy, dx)
    both = valid & shifted(valid, dy, dx, False)
    offsets = [(r, c) for r in range(-size, size + 1) for c in range(-size, size + 1)]
    firsts = [shifted(v, r, c) for r, c in offsets]
    seconds = [shifted(other, r, c) for r, c in offsets]
    oks = [shifted(both, r, c, False) for r, c in offsets]
    i = np.stack(firsts + seconds)  # both orders: symmetric
    j = np.stack(seconds + firsts)
    ok = np.stack(oks + oks)
    n = ok.sum(axis=0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pair = _shares(i * 1e6 + j, ok, n)  # values are integers well below 1e6
        p_sum = _shares(i + j, ok, n)
        p_diff = _shares(np.abs(i - j), ok, n)
        p_i = _shares(i, ok, n)
        p_j = _shares(j, ok, n)
        mu = _mean(i, ok, n)
        var = _mean((i - mu) ** 2, ok, n)
        savg = _mean(i + j, ok, n)
        dmean = _mean(np.abs(i - j), ok, n)
        ent = -_mean(np.log(np.where(ok, pair, 1.0)), ok, n)
        hx = -_mean(np.log(np.where(ok, p_i, 1.0)), ok, n)
        hy = -_mean(np.log(np.where(ok, p_j, 1.0)), ok, n)
        hxy1 = -_mean(np.log(np.where(ok, p_i * p_j, 1.0)), ok, n)
        contrast = _mean((i - j) ** 2, ok, n)
        out = {
            "asm": _mean(pair, ok, n),
            "contrast": contrast,
            "corr": np.where(var > 0, (_mean(i * j, ok, n) - mu * mu) / var, 0.0),
            "var": var,
            "idm": _mean(1.0 / (1.0 + (i - j) ** 2), ok, n),
            "savg": savg,
            "svar": _mean((i + j - savg) ** 2, ok, n),
            "sent": -_mean(np.log(np.where(ok, p_sum, 1.0)), ok, n),
            "ent": ent,
            "dvar": _mean((np.abs(i - j) - dmean) ** 2, ok, n),
            "dent": -_mean(np.log(np.where(ok, p_diff, 1.0)), ok, n),
            "imcorr1": np.where(np.maximum(hx, hy) > 0, (ent - hxy1) / np.maximum(hx, hy), 0.0),
            "imcorr2": np.sqrt(np.maximum(0.0, 1.0 - np.exp(-2.0 * (hx + hy - ent)))),
            "maxcorr": np.zeros(v.shape),
            "diss": _mean(np.abs(i - j), ok, n),
            "inertia": contrast,
            "shade": _mean((i + j - 2 * mu) ** 3, ok, n),
            "prom": _mean((i + j - 2 * mu) ** 4, ok, n),
        }
    return out, n > 0


@lru_cache(maxsize=16)
def _all_metrics(
    source: BandSource, directions: tuple[tuple[int, int], ...], size: int, outer: PixelGrid
) -> tuple[dict[str, np.ndarray], np.ndarray, list[dict[str, np.ndarray]], list[np.ndarray]]:
    """Per direction and averaged over the directions: the metrics on the grown window (cached:
    the 18 output bands of a chunk share one computation)."""
    p = source.read(outer)
    per, oks = [], []
    for dx, dy in directions:
        metrics, ok = direction_metrics(p.data, p.valid, dx, dy, size)
        per.append(metrics)
        oks.append(ok & p.valid)
    count = np.sum(oks, axis=0)
    average = {
        m: sum(np.where(ok, d[m], 0.0) for d, ok in zip(per, oks, strict=True))
        / np.maximum(count, 1)
        for m in METRICS
    }
    return average, count > 0, per, oks


@dataclass(frozen=True)
class GlcmBand(HaloBand):
    """One GLCM metric: averaged over `directions`, or for direction number `direction`."""

    input: BandSource
    directions: tuple[tuple[int, int], ...]
    size: int
    metric: str
    direction: int | None = None

    def __post_init__(self) -> None:
        if self.input.dtype.kind not in "iub":
            raise InvalidArgumentError(
                "glcmTexture: inputs are required to be integer valued; cast or scale the image."
            )

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def inputs(self) -> tuple[BandSource, ...]:
        return ()

    def halo(self, grid: PixelGrid) -> int:
        return self.size + max(max(abs(dx), abs(dy)) for dx, dy in self.directions)

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        average, ok, per, oks = _all_metrics(self.input, self.directions, self.size, outer)
        if self.direction is None:
            return Pixels(average[self.metric], ok)
        return Pixels(per[self.direction][self.metric], oks[self.direction])
