"""The reducers' statistics over stacks of images (ImageCollection.reduce) that are not
per-pixel kernels of one output: sample statistics, products, logical and distinct counts,
min and max together, and the two-input linear fit.

A kernel takes one float64 stack (layers along axis 0) and its validity per reducer input, and
returns its outputs and where they are valid (too few valid inputs for the statistic: invalid).
`output` is the dtype of the bands it makes, as for `openee.reducers.pixel`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from openee.reducers.pixel import band_dtype

Result = tuple[list[np.ndarray], np.ndarray]  # outputs (float64) and validity


def _moments(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, ...]:
    """(n, mean, sum of squared, cubed and fourth-power deviations) per pixel."""
    n = valid.sum(axis=0)
    safe_n = np.maximum(n, 1)
    mean = np.where(valid, values, 0).sum(axis=0) / safe_n
    dev = np.where(valid, values - mean, 0)
    return n, mean, (dev**2).sum(axis=0), (dev**3).sum(axis=0), (dev**4).sum(axis=0)


def _sample_variance(values: np.ndarray, valid: np.ndarray) -> Result:
    n, _, m2, _, _ = _moments(values, valid)
    ok = n > 1
    return [m2 / np.maximum(n - 1, 1)], ok


def _sample_std(values: np.ndarray, valid: np.ndarray) -> Result:
    (variance,), ok = _sample_variance(values, valid)
    return [np.sqrt(variance)], ok


def _skew(values: np.ndarray, valid: np.ndarray) -> Result:
    # Bias-corrected sample skewness (as the list reducer computes it).
    n, _, m2, m3, _ = _moments(values, valid)
    ok = n > 2
    nf = n.astype(np.float64)
    s = np.sqrt(m2 / np.maximum(nf - 1, 1))
    safe_s = np.where(s > 0, s, 1.0)
    skew = nf / np.maximum((nf - 1) * (nf - 2), 1) * m3 / safe_s**3
    return [np.where(s > 0, skew, 0.0)], ok


def _kurtosis(values: np.ndarray, valid: np.ndarray) -> Result:
    # Bias-corrected sample excess kurtosis.
    n, _, m2, _, m4 = _moments(values, valid)
    ok = n > 3
    nf = n.astype(np.float64)
    var = m2 / np.maximum(nf - 1, 1)
    safe = np.where(var > 0, var, 1.0)
    denominator = np.maximum((nf - 1) * (nf - 2) * (nf - 3), 1)
    k = nf * (nf + 1) * m4 / (denominator * safe**2) - 3 * (nf - 1) ** 2 / np.maximum(
        (nf - 2) * (nf - 3), 1
    )
    return [np.where(var > 0, k, 0.0)], ok


def _product(values: np.ndarray, valid: np.ndarray) -> Result:
    return [np.where(valid, values, 1.0).prod(axis=0)], np.ones(values.shape[1:], dtype=bool)


def _any(values: np.ndarray, valid: np.ndarray) -> Result:
    out = (valid & (values != 0)).any(axis=0).astype(np.float64)
    return [out], np.ones(values.shape[1:], dtype=bool)


def _all(values: np.ndarray, valid: np.ndarray) -> Result:
    out = (~valid | (values != 0)).all(axis=0).astype(np.float64)
    return [out], np.ones(values.shape[1:], dtype=bool)


def _count_distinct(values: np.ndarray, valid: np.ndarray) -> Result:
    ordered = np.sort(np.where(valid, values, np.nan), axis=0)  # NaNs (masked) sort last
    new = np.ones(ordered.shape, dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    count = (new & ~np.isnan(ordered)).sum(axis=0).astype(np.float64)
    return [count], np.ones(values.shape[1:], dtype=bool)


def _count_every(values: np.ndarray, valid: np.ndarray) -> Result:
    # Masked inputs are no inputs on images: every valid input is counted.
    return [valid.sum(axis=0).astype(np.float64)], np.ones(values.shape[1:], dtype=bool)


def _min_max(values: np.ndarray, valid: np.ndarray) -> Result:
    low = np.where(valid, values, np.inf).min(axis=0)
    high = np.where(valid, values, -np.inf).max(axis=0)
    ok = np.asarray(valid.any(axis=0))
    return [np.where(ok, low, 0), np.where(ok, high, 0)], ok


def _fit(xs: np.ndarray, ys: np.ndarray, valid: np.ndarray) -> Result:
    n = valid.sum(axis=0)
    safe_n = np.maximum(n, 1)
    mx = np.where(valid, xs, 0).sum(axis=0) / safe_n
    my = np.where(valid, ys, 0).sum(axis=0) / safe_n
    dx, dy = np.where(valid, xs - mx, 0), np.where(valid, ys - my, 0)
    sxx, sxy = (dx * dx).sum(axis=0), (dx * dy).sum(axis=0)
    ok = (n > 1) & (sxx > 0)
    scale = sxy / np.where(ok, sxx, 1.0)
    return [np.where(ok, scale, 0), np.where(ok, my - scale * mx, 0)], ok


def _linear_fit(stacks: list[np.ndarray], valids: list[np.ndarray]) -> Result:
    return _fit(stacks[0], stacks[1], valids[0] & valids[1])


@dataclass(frozen=True)
class StatKernel:
    """`run(stacks, valids)`: one float64 stack and its validity per reducer input."""

    run: Callable[[list[np.ndarray], list[np.ndarray]], Result]
    output: str = "float64"

    def dtype(self, input_dtype: np.dtype) -> np.dtype:
        return band_dtype(self.output, input_dtype)


def _single(fn: Callable[[np.ndarray, np.ndarray], Result], output: str = "float64") -> StatKernel:
    return StatKernel(lambda stacks, valids: fn(stacks[0], valids[0]), output)


SAMPLE_VARIANCE = _single(_sample_variance)
SAMPLE_STD_DEV = _single(_sample_std)
SKEW = _single(_skew)
KURTOSIS = _single(_kurtosis)
PRODUCT = _single(_product, "widened")
ANY_NON_ZERO = _single(_any, "int64")
ALL_NON_ZERO = _single(_all, "int64")
COUNT_DISTINCT = _single(_count_distinct, "int64")
COUNT_EVERY = _single(_count_every, "int64")
MIN_MAX = _single(_min_max, "input")
LINEAR_FIT = StatKernel(_linear_fit)
