"""Per-pixel reducers against numpy on hand-made stacks, with masks."""

from __future__ import annotations

import numpy as np
import pytest

from openee.raster.pixels import Pixels
from openee.raster.reduce import output_dtype, reduce_stack

RNG = np.random.default_rng(7)


def stack(n: int = 6, shape: tuple[int, int] = (5, 7)) -> list[Pixels]:
    return [
        Pixels(RNG.integers(0, 1000, shape).astype(np.uint16), RNG.random(shape) > 0.3)
        for _ in range(n)
    ]


def masked(layers: list[Pixels]) -> np.ma.MaskedArray:
    data = np.stack([p.data for p in layers]).astype(np.float64)
    return np.ma.masked_array(data, mask=~np.stack([p.valid for p in layers]))


@pytest.mark.parametrize(
    ("name", "oracle"),
    [
        ("mean", lambda m: m.mean(axis=0)),
        ("median", lambda m: np.ma.median(m, axis=0)),
        ("min", lambda m: m.min(axis=0)),
        ("max", lambda m: m.max(axis=0)),
        ("sum", lambda m: m.sum(axis=0)),
        ("variance", lambda m: m.var(axis=0)),
        ("stdDev", lambda m: m.std(axis=0)),
    ],
)
@pytest.mark.parametrize("footprint", ["scattered", "small box", "l-shape"])
def test_reducers_skip_masked_inputs(name: str, oracle: object, footprint: str) -> None:
    layers = stack(shape=(40, 50))
    if footprint != "scattered":
        # Inputs valid only in part of the grid (a chunk on a tile's edge): the reducers work
        # on the box around the valid pixels, which must not change the result.
        keep = np.zeros((40, 50), dtype=bool)
        keep[5:17, 30:41] = True
        if footprint == "l-shape":
            keep[30:33, 2:9] = True
        layers = [Pixels(p.data, p.valid & keep) for p in layers]
    result = reduce_stack(name, layers, output_dtype(name, np.dtype(np.uint16)))
    expected = oracle(masked(layers))  # type: ignore[operator]
    valid = ~np.ma.getmaskarray(expected)
    assert np.array_equal(result.valid, valid)
    np.testing.assert_allclose(result.data[valid], np.ma.getdata(expected)[valid], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.int32, np.float32])
@pytest.mark.parametrize("layers", [1, 2, 4, 5, 12, 17])
@pytest.mark.parametrize("masked_share", [0.4, 0.004])
def test_median_of_varying_counts_and_extreme_values(
    dtype: type, layers: int, masked_share: float
) -> None:
    """Pixels have their own counts of valid inputs (most of them, or a few at 0.4 %), and
    valid values include the dtype's lowest and highest values (which the median's fills
    use)."""
    shape = (23, 29)
    if np.dtype(dtype).kind == "f":
        lo, hi = -3.0e38, 3.0e38
    else:
        info = np.iinfo(dtype)
        lo, hi = info.min, info.max
    inputs = []
    for _ in range(layers):
        values = RNG.integers(0, 50, shape).astype(dtype)
        extremes = RNG.random(shape)
        values[extremes < 0.1] = lo
        values[extremes > 0.9] = hi
        inputs.append(Pixels(values, RNG.random(shape) > masked_share))
    result = reduce_stack("median", inputs, np.dtype(np.float64))
    expected = np.ma.median(masked(inputs), axis=0)
    valid = ~np.ma.getmaskarray(expected)
    assert np.array_equal(result.valid, valid)
    assert np.all(result.data[~valid] == 0)
    np.testing.assert_array_equal(result.data[valid], np.ma.getdata(expected)[valid])


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    layers = [Pixels(np.full((1, 1), v, np.uint16), np.ones((1, 1), bool)) for v in (1, 2, 10, 40)]
    assert reduce_stack("median", layers, np.dtype(np.float64)).data[0, 0] == 6.0


def test_no_valid_input_is_masked_and_count_is_zero() -> None:
    layers = [Pixels(np.full((2, 2), 9, np.uint16), np.zeros((2, 2), bool)) for _ in range(3)]
    assert not reduce_stack("median", layers, np.dtype(np.float64)).valid.any()
    counted = reduce_stack("count", layers, np.dtype(np.int64))
    assert counted.valid.all() and (counted.data == 0).all()


def test_first_and_last_take_the_first_and_last_valid() -> None:
    a = Pixels(np.array([[1, 1]], np.uint16), np.array([[True, False]]))
    b = Pixels(np.array([[2, 2]], np.uint16), np.array([[True, True]]))
    assert reduce_stack("first", [a, b], np.dtype(np.uint16)).data.tolist() == [[1, 2]]
    assert reduce_stack("last", [a, b], np.dtype(np.uint16)).data.tolist() == [[2, 2]]
