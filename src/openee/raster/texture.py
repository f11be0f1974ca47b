"""Grey-level co-occurrence (GLCM) texture metrics around each pixel (Image.glcmTexture).

For a direction (dx, dy), the GLCM of a pixel counts the value pairs (v(p), v(p + offset)) for
every p of the (2 size + 1)^2 window around it where both are unmasked, counted both ways
(symmetric), normalised to probabilities P(i, j). The metrics (Haralick's 14, MAXCORR not
computed and 0, and Conners' 4) are taken from P with natural logarithms; SVAR is the variance
of i + j about SAVG. Every metric is an expectation over the pairs themselves, so no matrix is
built: a pair's probability is the share of pairs equal to it, counted by sorting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.halo import HaloBand, shifted
from openee.raster.pixels import Pixels
from openee.raster.runs import value_counts
from openee.raster.sources import BandSource

METRICS = (
    "asm", "contrast", "corr", "var", "idm", "savg", "svar", "sent", "ent",
    "dvar", "dent", "imcorr1", "imcorr2", "maxcorr", "diss", "inertia", "shade", "prom",
)  # fmt: skip


def _mean_share(x: np.ndarray, ok: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The mean, over the valid pairs, of the share of pairs equal to each (sum of P^2)."""
    counts, sorted_ok = value_counts(x, ok)
    return np.where(sorted_ok, counts, 0.0).sum(axis=0) / np.maximum(n, 1) ** 2


def _entropy(x: np.ndarray, ok: np.ndarray, n: np.ndarray) -> np.ndarray:
    """-mean over the valid pairs of log(share of pairs equal to each): the entropy of x."""
    counts, sorted_ok = value_counts(x, ok)
    share = np.where(sorted_ok, counts / np.maximum(n, 1), 1.0)
    return -np.log(share).sum(axis=0) / np.maximum(n, 1)


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
        pair = i * 1e6 + j  # one number per pair (grey levels are integers well below 1e6)
        mu = _mean(i, ok, n)
        var = _mean((i - mu) ** 2, ok, n)
        savg = _mean(i + j, ok, n)
        dmean = _mean(np.abs(i - j), ok, n)
        ent = _entropy(pair, ok, n)
        hx = _entropy(i, ok, n)
        hy = hx  # the pairs are counted both ways: j holds the same values as i
        # HXY1 = -sum P(i, j) log(px(i) py(j)) = HX + HY when the marginals are those of P.
        hxy1 = hx + hy
        contrast = _mean((i - j) ** 2, ok, n)
        out = {
            "asm": _mean_share(pair, ok, n),
            "contrast": contrast,
            "corr": np.where(var > 0, (_mean(i * j, ok, n) - mu * mu) / var, 0.0),
            "var": var,
            "idm": _mean(1.0 / (1.0 + (i - j) ** 2), ok, n),
            "savg": savg,
            "svar": _mean((i + j - savg) ** 2, ok, n),
            "sent": _entropy(i + j, ok, n),
            "ent": ent,
            "dvar": _mean((np.abs(i - j) - dmean) ** 2, ok, n),
            "dent": _entropy(np.abs(i - j), ok, n),
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

    dtype = np.dtype(np.float64)

    def inputs(self) -> tuple[BandSource, ...]:
        return ()

    def halo(self, grid: PixelGrid) -> int:
        return self.size + max(max(abs(dx), abs(dy)) for dx, dy in self.directions)

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        average, ok, per, oks = _all_metrics(self.input, self.directions, self.size, outer)
        if self.direction is None:
            return Pixels(average[self.metric], ok)
        return Pixels(per[self.direction][self.metric], oks[self.direction])
