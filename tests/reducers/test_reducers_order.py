"""The one implementation of median, percentile and mode (openee.reducers.order), bit for bit
against numpy's `median`/`percentile` (the rule Earth Engine documents for the median: the mean
of the two middle values for an even count) and a counting oracle for the mode."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest

from openee.reducers import order

PERCENTILES = [0, 7.5, 25, 33.3, 50, 62.5, 90, 100]


@pytest.mark.parametrize("count", [1, 2, 5, 8, 17, 40])
def test_quantile_is_numpys(count: int) -> None:
    rng = np.random.default_rng(count)
    values = rng.normal(size=(count, 6, 5)) * 1e3
    assert np.array_equal(order.quantile(values), np.median(values, axis=0))
    for q in PERCENTILES:
        assert np.array_equal(order.quantile(values, q), np.percentile(values, q, axis=0))
    assert np.array_equal(order.quantile(values, axis=2), np.median(values, axis=2))


def test_quantile_of_values_with_a_nan_is_nan() -> None:
    values = np.array([[1.0, 2.0], [np.nan, 3.0], [5.0, 4.0]])
    assert np.array_equal(order.quantile(values), np.median(values, axis=0), equal_nan=True)


def _nan_oracle(fn: Callable[..., np.ndarray], masked: np.ndarray, *args: float) -> np.ndarray:
    # A pixel with no valid value is an all-NaN slice: numpy warns, the pixel is not compared.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(masked, *args, axis=0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
@pytest.mark.parametrize("layers", [1, 4, 9, 16, 23])
def test_stack_quantile_skips_invalid_values(dtype: type, layers: int) -> None:
    rng = np.random.default_rng(layers)
    data = [(rng.random((7, 9)) * 200).astype(dtype) for _ in range(layers)]
    valid = [rng.random((7, 9)) > 0.35 for _ in range(layers)]
    count = np.sum(valid, axis=0)
    masked = np.where(np.array(valid), np.array(data, dtype=np.float64), np.nan)
    some = count > 0
    median = _nan_oracle(np.nanmedian, masked)
    assert np.array_equal(order.stack_quantile(data, valid, count)[some], median[some])
    for q in PERCENTILES:
        expected = _nan_oracle(np.nanpercentile, masked, q)
        got = order.stack_quantile(data, valid, count, q)
        assert np.array_equal(got[some], expected[some])


def test_grouped_quantile_is_the_median_of_each_group() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(12, 11))
    groups = rng.integers(1, 6, size=values.shape)
    index = np.arange(1, 7)  # 6 has no value
    got = order.grouped_quantile(values, groups, index)
    expected = [np.median(values[groups == g]) if (groups == g).any() else 0.0 for g in index]
    assert np.array_equal(got, expected)


def test_mode_is_the_smallest_most_frequent_value() -> None:
    values = [3, 1, 2, 3, 1, 7]
    counts = Counter(values)
    top = max(counts.values())
    assert order.mode(np.array(values)) == min(v for v, c in counts.items() if c == top) == 1


def test_stack_mode_skips_invalid_values() -> None:
    values = np.array([[1.0, 4.0], [2.0, 4.0], [2.0, 5.0], [1.0, 5.0]])
    valid = np.array([[True, True], [True, False], [True, True], [False, True]])
    # Column 0: 1, 2, 2 -> 2; column 1: 4, 5, 5 -> 5.
    assert np.array_equal(order.stack_mode(values, valid), [2.0, 5.0])


@pytest.mark.parametrize("n", range(1, 18))
def test_pruned_network_orders_every_zero_one_input_at_the_ranks_it_keeps(n: int) -> None:
    """The median's selection network (Batcher's odd-even merge sort, pruned to the ranks
    read) against sorted(): by the 0-1 principle, a comparator network that orders every 0/1
    input orders every input. All 2**n inputs at once, one column each."""
    inputs = (np.arange(2**n)[None, :] >> np.arange(n)[:, None]) & 1
    expected = np.sort(inputs, axis=0)
    mid = (n - 1) // 2
    for ranks in [tuple(range(n)), (mid,), (mid, mid + 1)]:
        layers = [row.astype(np.uint8) for row in inputs]
        ordered = order._select_layers(layers, ranks)
        for rank in ranks:
            if rank < n:
                assert np.array_equal(ordered[rank], expected[rank]), (n, ranks, rank)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32])
@pytest.mark.parametrize("layers", [1, 2, 5, 6, 16])
def test_median_network_leaves_its_inputs_unchanged(dtype: type, layers: int) -> None:
    """The network works in place on its own layers: fully valid inputs are copied first,
    masked ones filled into new arrays. numpy's median of the valid values is the oracle."""
    rng = np.random.default_rng(layers)
    data = [(rng.random((6, 8)) * 100).astype(dtype) for _ in range(layers)]
    valid = [
        np.ones((6, 8), bool) if i % 2 == 0 else rng.random((6, 8)) > 0.3 for i in range(layers)
    ]
    before = [d.copy() for d in data]
    count = np.sum(valid, axis=0)
    got = order.stack_quantile(data, valid, count)
    for d, b in zip(data, before, strict=True):
        assert np.array_equal(d, b)
    for (row, col), n in np.ndenumerate(count):
        if n:
            values = [float(d[row, col]) for d, v in zip(data, valid, strict=True) if v[row, col]]
            assert got[row, col] == np.median(values)
