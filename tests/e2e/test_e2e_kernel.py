"""Kernels and neighbourhood operations through the stock client, against independent oracles.

Kernel weights are compared with Earth Engine's documented example matrices (radius 3) and
numpy formulas. Neighbourhood results are compared with scipy.ndimage's generic filter applied to
the oracle's exact nearest warp of the source file onto the request grid grown by the kernel's
radius, then cropped: neighbourhoods are computed on the request grid (ADR 0007).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from affine import Affine
from oracle import Grid, load_items, warp_band
from scipy import ndimage

LON, LAT = 15.02, 45.6  # the west edge of 33TWL crosses this grid: masked pixels on one side


def item():
    return next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)


GRID = Grid.centered("EPSG:4326", LON, LAT, 0.0015, 64, 48)


# -- kernels as data ---------------------------------------------------------------------------


def _shape(radius: int, inside: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    dy, dx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return inside(dx, dy).astype(np.float64)


def _normalized(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


OCTAGON_3 = np.array(  # Earth Engine's documented ee.Kernel.octagon({radius: 3})
    [
        [0, 0, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1],
        [0, 1, 1, 1, 1, 1, 0],
        [0, 0, 1, 1, 1, 0, 0],
    ],
    dtype=np.float64,
)

KERNELS: list[tuple[str, Callable, np.ndarray, tuple[int, int]]] = [
    ("square", lambda ee: ee.Kernel.square(3), np.full((7, 7), 1 / 49), (3, 3)),
    ("circle", lambda ee: ee.Kernel.circle(3),
     _normalized(_shape(3, lambda x, y: x * x + y * y <= 9)), (3, 3)),
    ("diamond", lambda ee: ee.Kernel.diamond(2, "pixels", False),
     _shape(2, lambda x, y: abs(x) + abs(y) <= 2), (2, 2)),
    ("octagon", lambda ee: ee.Kernel.octagon(3), _normalized(OCTAGON_3), (3, 3)),
    ("plus", lambda ee: ee.Kernel.plus(3), _normalized(_shape(3, lambda x, y: (x == 0) | (y == 0))),
     (3, 3)),
    ("cross", lambda ee: ee.Kernel.cross(3), _normalized(_shape(3, lambda x, y: abs(x) == abs(y))),
     (3, 3)),
    ("rectangle", lambda ee: ee.Kernel.rectangle(2, 1), np.full((3, 5), 1 / 15), (2, 1)),
    ("euclidean", lambda ee: ee.Kernel.euclidean(3),
     np.hypot(*np.mgrid[-3:4, -3:4].astype(float)), (3, 3)),
    ("manhattan", lambda ee: ee.Kernel.manhattan(2, "pixels", False, 2),
     2 * np.abs(np.mgrid[-2:3, -2:3]).sum(axis=0).astype(float), (2, 2)),
    ("chebyshev", lambda ee: ee.Kernel.chebyshev(2),
     np.abs(np.mgrid[-2:3, -2:3]).max(axis=0).astype(float), (2, 2)),
    ("gaussian", lambda ee: ee.Kernel.gaussian(3, 1.5),  # |dx|, |dy| < 3 (ee_kernel_gaussian.py)
     _normalized(np.exp(-(np.mgrid[-2:3, -2:3] ** 2).sum(axis=0) / (2 * 1.5**2))), (2, 2)),
    ("fixed", lambda ee: ee.Kernel.fixed(7, 3, [[4, 3, 2, 1, 2, 3, 4]] * 3, 1, 0),
     np.array([[4, 3, 2, 1, 2, 3, 4]] * 3, dtype=float), (1, 0)),
    ("laplacian4", lambda ee: ee.Kernel.laplacian4(), np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
     (1, 1)),
    ("laplacian8", lambda ee: ee.Kernel.laplacian8(2),
     2 * np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]]), (1, 1)),
    ("sobel", lambda ee: ee.Kernel.sobel(), np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), (1, 1)),
    ("prewitt", lambda ee: ee.Kernel.prewitt(), np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
     (1, 1)),
    ("roberts", lambda ee: ee.Kernel.roberts(), np.array([[1, 0], [0, -1]]), (1, 1)),
    ("compass", lambda ee: ee.Kernel.compass(), np.array([[1, 1, -1], [1, -2, -1], [1, 1, -1]]),
     (1, 1)),
    ("kirsch", lambda ee: ee.Kernel.kirsch(1, True), np.array([[5, -3, -3], [5, 0, -3], [5, -3, -3]]),
     (1, 1)),
    ("add", lambda ee: ee.Kernel.square(1, "pixels", False).add(ee.Kernel.plus(2, "pixels", False)),
     np.pad(np.ones((3, 3)), 1) + _shape(2, lambda x, y: (x == 0) | (y == 0)), (2, 2)),
    ("rotate", lambda ee: ee.Kernel.sobel().rotate(1), np.rot90(
        np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), -1), (1, 1)),
    ("inverse", lambda ee: ee.Kernel.fixed(2, 2, [[1, 2], [4, 0]]).inverse(),
     np.array([[1, 0.5], [0.25, 0]]), (1, 1)),
]  # fmt: skip


def test_kernel_weights(ee_api) -> None:
    infos = ee_api.List([make(ee_api) for _, make, _, _ in KERNELS]).getInfo()
    for (name, _, expected, (x, y)), info in zip(KERNELS, infos, strict=True):
        assert info["type"] == "Kernel", name
        weights = np.array(info["weights"], dtype=np.float64)
        assert weights.shape == expected.shape, name
        np.testing.assert_allclose(weights, expected, rtol=1e-12, atol=1e-15, err_msg=name)
        assert (info["x"], info["y"], info["width"], info["height"]) == (
            x, y, expected.shape[1], expected.shape[0]
        ), name  # fmt: skip


# -- neighbourhood operations -------------------------------------------------------------------


def compute_bands(ee, images: dict[str, object], grid: Grid) -> dict[str, tuple]:
    """Values and masks of many one-band images on `grid`, in one computePixels request."""
    stacked = None
    for name, image in images.items():
        img = ee.Image(image)
        pair = img.rename([name]).addBands(img.mask().rename([f"{name}__m"]))
        stacked = pair if stacked is None else stacked.addBands(pair)
    arr = ee.data.computePixels(
        {"expression": stacked, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )
    return {name: (arr[name], arr[f"{name}__m"] == 1) for name in images}


def grown(grid: Grid, n: int) -> Grid:
    return Grid(
        grid.crs,
        grid.transform @ Affine.translation(-n, -n),
        grid.width + 2 * n,
        grid.height + 2 * n,
    )


def oracle(
    op: str,
    weights: np.ndarray,
    grid: Grid = GRID,
    skip_masked: bool = True,
    kernel_weighted: bool = True,
) -> np.ndarray:
    """The neighbourhood result on `grid` (NaN = masked), by scipy's generic filter."""
    n = weights.shape[0] // 2
    source = warp_band(item().band_path("B4"), grown(grid, n)).astype(np.float64)
    values = np.where(source != 0, source, np.nan)
    return filter_values(op, weights, values, skip_masked, kernel_weighted)


def filter_values(
    op: str,
    weights: np.ndarray,
    values: np.ndarray,
    skip_masked: bool = True,
    kernel_weighted: bool = True,
) -> np.ndarray:
    """`op` over the kernel around each pixel of `values` (NaN = masked), cropped by the
    kernel's radius on each side."""
    n = weights.shape[0] // 2
    footprint = weights != 0
    member_w = weights[footprint]

    def reduce(window: np.ndarray) -> float:
        ok = ~np.isnan(window)
        if not ok.any():
            return np.nan
        v, w = window[ok], member_w[ok]
        if not kernel_weighted:
            w = np.ones_like(w)
        if op == "convolve":
            return float((v * member_w[ok]).sum())
        if op == "sum":
            return float((v * w).sum())
        if op == "mean":
            return float((v * w).sum() / w.sum())
        if op == "stdDev":
            mean = (v * w).sum() / w.sum()
            return float(math.sqrt(((v - mean) ** 2 * w).sum() / w.sum()))
        if op == "median":
            return float(np.median(v))
        if op == "mode":
            uniq, counts = np.unique(v, return_counts=True)
            return float(uniq[np.argmax(counts)])
        if op == "count":
            return float(ok.sum())
        return float(v.min() if op == "min" else v.max())

    out = ndimage.generic_filter(values, reduce, footprint=footprint, mode="constant", cval=np.nan)
    h, w = values.shape[0] - 2 * n, values.shape[1] - 2 * n
    out = out[n : n + h, n : n + w]
    if skip_masked:
        out[np.isnan(values[n : n + h, n : n + w])] = np.nan
    return out


def square(r: int) -> np.ndarray:
    return np.ones((2 * r + 1, 2 * r + 1))


CIRCLE_15 = square(1)  # circle of radius 1.5: the 3x3 square
GAUSS = np.exp(-(np.mgrid[-1:2, -1:2] ** 2).sum(axis=0) / 2.0)  # gaussian(2): |dx|, |dy| < 2
GAUSS /= GAUSS.sum()
DIAMOND_2 = _shape(2, lambda x, y: abs(x) + abs(y) <= 2)
WEIGHTED = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [0.5, 0.0, 1.0]])


def cases(ee) -> dict[str, tuple[object, Callable[[], np.ndarray]]]:
    b4 = ee.Image(item().image_id).select("B4")
    return {
        "conv_gauss": (b4.convolve(ee.Kernel.gaussian(2)), lambda: oracle("convolve", GAUSS)),
        "conv_sobel": (
            b4.convolve(ee.Kernel.sobel()),
            lambda: oracle("convolve", np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)),
        ),
        "rn_mean": (b4.reduceNeighborhood(ee.Reducer.mean(), ee.Kernel.fixed(3, 3, WEIGHTED.tolist())),
                    lambda: oracle("mean", WEIGHTED)),
        "rn_mean_mask": (
            b4.reduceNeighborhood(ee.Reducer.mean(), ee.Kernel.fixed(3, 3, WEIGHTED.tolist()), "mask"),
            lambda: oracle("mean", WEIGHTED, kernel_weighted=False),
        ),
        "rn_sum": (b4.reduceNeighborhood(ee.Reducer.sum(), ee.Kernel.square(1, "pixels", False)),
                   lambda: oracle("sum", square(1))),
        "rn_median": (b4.reduceNeighborhood(ee.Reducer.median(), ee.Kernel.diamond(2)),
                      lambda: oracle("median", DIAMOND_2)),
        "rn_min": (b4.reduceNeighborhood(ee.Reducer.min(), ee.Kernel.square(2)),
                   lambda: oracle("min", square(2))),
        "rn_max_grow": (
            b4.reduceNeighborhood(ee.Reducer.max(), ee.Kernel.square(1), "kernel", False),
            lambda: oracle("max", square(1), skip_masked=False),
        ),
        "rn_count": (b4.reduceNeighborhood(ee.Reducer.count(), ee.Kernel.square(1)),
                     lambda: oracle("count", square(1))),
        "rn_std": (b4.reduceNeighborhood(ee.Reducer.stdDev(), ee.Kernel.square(1)),
                   lambda: oracle("stdDev", square(1))),
        "rn_mode": (b4.reduceNeighborhood(ee.Reducer.mode(), ee.Kernel.square(2)),
                    lambda: oracle("mode", square(2))),
        "f_min": (b4.focalMin(), lambda: oracle("min", CIRCLE_15)),
        "f_max": (b4.focalMax(2, "diamond"), lambda: oracle("max", DIAMOND_2)),
        "f_mean": (b4.focalMean(1, "square"), lambda: oracle("mean", square(1))),
        "f_median": (b4.focalMedian(2, "square"), lambda: oracle("median", square(2))),
        "f_mode": (b4.focalMode(kernel=ee.Kernel.diamond(2)), lambda: oracle("mode", DIAMOND_2)),
        # Two iterations: the 3x3 max of the 3x3 max (computed on the grid grown by 1).
        "f_max_iter": (b4.focalMax(1, "square", "pixels", 2),
                       lambda: filter_values("max", square(1),
                                             oracle("max", square(1), grid=grown(GRID, 1)))),
    }  # fmt: skip


def test_neighbourhood_operations_match_a_generic_filter(ee_api) -> None:
    table = cases(ee_api)
    got = compute_bands(ee_api, {name: image for name, (image, _) in table.items()}, GRID)
    for name, (_, expected_of) in table.items():
        values, valid = got[name]
        expected = expected_of()
        expected_valid = ~np.isnan(expected)
        assert expected_valid.any() and not expected_valid.all(), name
        np.testing.assert_array_equal(valid, expected_valid, err_msg=name)
        np.testing.assert_allclose(
            values[valid], expected[expected_valid], rtol=1e-9, atol=1e-9, err_msg=name
        )


def test_reduce_neighborhood_names_bands_after_the_reducer(ee_api) -> None:
    b4 = ee_api.Image(item().image_id).select(["B4", "B8"])
    names = b4.reduceNeighborhood(ee_api.Reducer.median(), ee_api.Kernel.square(1)).bandNames()
    focal = b4.focalMedian().bandNames()
    assert ee_api.List([names, focal]).getInfo() == [["B4_median", "B8_median"], ["B4", "B8"]]


def test_kernel_in_meters_uses_the_grid_pixel_size(ee_api) -> None:
    # A 100 m UTM grid: a 250 m circle is 2.5 pixels: the 5x5 square without its corners.
    x0, y0 = 520_000.0, 5_052_000.0
    grid = Grid("EPSG:32633", Affine(100.0, 0, x0, 0, -100.0, y0), 40, 30)
    b4 = ee_api.Image(item().image_id).select("B4")
    got = compute_bands(ee_api, {"m": b4.focalMax(250, "circle", "meters")}, grid)["m"]
    circle = _shape(2, lambda x, y: x * x + y * y <= 6.25)
    expected = oracle("max", circle, grid=grid)
    np.testing.assert_array_equal(got[1], ~np.isnan(expected))
    np.testing.assert_array_equal(got[0][got[1]], expected[got[1]])


@pytest.mark.parametrize(
    "bad",
    [
        lambda ee, img: img.reduceNeighborhood(ee.Reducer.toList(), ee.Kernel.square(1)),
        lambda ee, img: img.focalMax(1, "hexagon"),
        lambda ee, img: img.convolve(ee.Kernel.square(1, "furlongs")),
    ],
)
def test_bad_neighbourhood_arguments_are_clean_errors(ee_api, bad: Callable) -> None:
    img = ee_api.Image(item().image_id).select("B4")
    with pytest.raises(ee_api.EEException):
        bad(ee_api, img).bandNames().getInfo()
