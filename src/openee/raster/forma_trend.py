"""FORMA trend statistics of a per-pixel time series, vectorised over pixels (ADR 0018).

The series y_0 .. y_{T-1} (or its ratio to a covariate series) is taken as evenly spaced, at
t = 0, 1, ..., T-1 (one unit per image), and fitted by ordinary least squares y = a + b t + e:

- long-trend: the slope b of the fit on the whole series;
- long-tstat: b / se(b), se(b)^2 = (RSS / (T - 2)) / sum (t - mean t)^2;
- short-trend: the least OLS slope over the windows of `window` consecutive images;
- hansen-stat: Hansen's (1992) L_c statistic of the joint stability of a, b and the error
  variance: with the scores f_t = (e_t, t e_t, e_t^2 - s^2), s^2 = RSS / T, their partial sums
  S_t and V = sum f_t f_t', L_c = (1 / T) sum_t S_t' V^-1 S_t.

A pixel masked in any image (or whose covariate is masked or zero) is masked; so is a pixel
whose V is singular (a series fitted exactly) for hansen-stat, and one with RSS = 0 for
long-tstat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

STATISTICS = ("long-trend", "short-trend", "long-tstat", "hansen-stat")


def _slopes(y: np.ndarray) -> np.ndarray:
    """OLS slopes of the series along the last axis against 0, 1, ..., n-1."""
    n = y.shape[-1]
    t = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    return (y * t).sum(-1) / (t * t).sum()


def _fit(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope, residuals and centred times of the OLS line through each series (last axis)."""
    n = y.shape[-1]
    t = np.arange(n, dtype=np.float64)
    tc = t - t.mean()
    slope = (y * tc).sum(-1) / (tc * tc).sum()
    intercept = y.mean(-1) - slope * t.mean()
    resid = y - intercept[..., None] - slope[..., None] * t
    return slope, resid, tc


def statistic(y: np.ndarray, name: str, window: int) -> tuple[np.ndarray, np.ndarray]:
    """One FORMA statistic of series `y` (pixels x T) and where it is defined."""
    n = y.shape[-1]
    if name == "short-trend":
        windows = sliding_window_view(y, window, axis=-1)  # pixels x (T - window + 1) x window
        value = _slopes(windows).min(-1)
        return value, np.isfinite(value)
    slope, resid, tc = _fit(y)
    if name == "long-trend":
        return slope, np.isfinite(slope)
    rss = (resid * resid).sum(-1)
    if name == "long-tstat":
        with np.errstate(divide="ignore", invalid="ignore"):
            tstat = slope / np.sqrt(rss / (n - 2) / (tc * tc).sum())
        return tstat, np.isfinite(tstat) & (rss > 0)
    t = np.arange(n, dtype=np.float64)
    scores = np.stack([resid, resid * t, resid * resid - (rss / n)[..., None]], axis=-1)
    partial = np.cumsum(scores, axis=-2)  # pixels x T x 3
    v = np.einsum("ptk,ptl->pkl", scores, scores)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = np.linalg.cond(v) < 1e12  # singular when the line fits the series exactly
    safe = np.where(ok[:, None, None], v, np.eye(3))
    solved = np.linalg.solve(safe[:, None, :, :], partial[..., None])[..., 0]
    value = (partial * solved).sum(-1).sum(-1) / n
    return value, ok & np.isfinite(value)


@dataclass(frozen=True)
class FormaTrendBand(BandSource):
    """One FORMA statistic (`name`, one of STATISTICS) of a series of bands, optionally
    divided by a covariate series of the same length."""

    name: str
    series: tuple[BandSource, ...]
    covariates: tuple[BandSource, ...]
    window: int

    dtype = np.dtype(np.float32)

    def read(self, grid: PixelGrid) -> Pixels:
        layers = [s.read(grid) for s in self.series]
        y = np.stack([p.data.astype(np.float64) for p in layers], axis=-1)
        valid = np.logical_and.reduce([p.valid for p in layers])
        if self.covariates:
            cov = [s.read(grid) for s in self.covariates]
            c = np.stack([p.data.astype(np.float64) for p in cov], axis=-1)
            valid &= np.logical_and.reduce([p.valid for p in cov]) & (c != 0).all(-1)
            y = y / np.where(c == 0, 1.0, c)
        out = np.zeros(grid.shape, dtype=np.float32)
        flat = valid.ravel()
        if flat.any():
            value, ok = statistic(y.reshape(-1, y.shape[-1])[flat], self.name, self.window)
            good = np.zeros(flat.shape, dtype=bool)
            good[flat] = ok
            dense = np.zeros(flat.shape, dtype=np.float64)
            dense[flat] = np.where(ok, value, 0.0)
            out = dense.reshape(grid.shape).astype(np.float32)
            valid = good.reshape(grid.shape)
        return Pixels(out, valid)
