"""Spatial Image algorithms through the stock client, against independent numpy/scipy oracles:
derivatives, zero crossings, neighbourhoods as bands, entropy, distances, connected objects,
cumulative cost and the seed grid.

Every oracle works on the demo B4 band warped (GDAL nearest) onto the request grid grown by the
operation's halo (ADR 0007, ADR 0012), computes there with plain numpy loops, scipy.ndimage or a
heapq Dijkstra, and crops the requested window.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import numpy as np
import pytest
from oracle import Grid, warp_band
from scipy import ndimage
from test_e2e_kernel import compute_bands, grown, item

LON, LAT = 15.02, 45.6  # the west edge of 33TWL crosses this grid: masked pixels on one side
GRID = Grid.centered("EPSG:4326", LON, LAT, 0.0015, 40, 30)
METRES_PER_DEGREE = 6378137.0 * math.pi / 180.0
PIXEL_M = 0.0015 * METRES_PER_DEGREE  # the grid's nominal pixel size (Earth Engine's rule)


def b4(n: int, grid: Grid = GRID) -> np.ndarray:
    """B4 on the grid grown by n pixels; NaN where masked (nodata 0)."""
    v = warp_band(item().band_path("B4"), grown(grid, n)).astype(np.float64)
    return np.where(v != 0, v, np.nan)


def crop(a: np.ndarray, n: int) -> np.ndarray:
    return a[n : a.shape[0] - n, n : a.shape[1] - n] if n else a


def bright(v: np.ndarray) -> np.ndarray:
    """The oracle of b4.gt(450): targets (True), non-targets (False); NaN masks stay apart."""
    return np.nan_to_num(v, nan=0.0) > 450


def levels(v: np.ndarray) -> np.ndarray:
    return np.floor(v / 100.0)


def check(got: tuple, expected: np.ndarray, name: str, rtol: float = 1e-9) -> None:
    values, valid = got
    expected_valid = ~np.isnan(expected)
    assert expected_valid.any(), name
    np.testing.assert_array_equal(valid, expected_valid, err_msg=name)
    np.testing.assert_allclose(
        values[valid], expected[expected_valid], rtol=rtol, atol=1e-9, err_msg=name
    )


# -- small neighbourhoods --------------------------------------------------------------------------


def central(v: np.ndarray, axis: str) -> np.ndarray:
    """(next - previous) / 2 along columns ('x') or rows ('y'), on the grid grown by 1."""
    d = (v[1:-1, 2:] - v[1:-1, :-2]) / 2 if axis == "x" else (v[2:, 1:-1] - v[:-2, 1:-1]) / 2
    return np.where(np.isnan(v[1:-1, 1:-1]), np.nan, d)


def zero_crossings(v: np.ndarray) -> np.ndarray:
    """On the grid grown by 1: 1 where the sign differs from the right or lower neighbour."""
    h, w = v.shape[0] - 2, v.shape[1] - 2
    out = np.full((h, w), np.nan)
    for r in range(h):
        for c in range(w):
            x = v[r + 1, c + 1]
            if np.isnan(x):
                continue
            hit = any(
                not np.isnan(v[r + 1 + dr, c + 1 + dc]) and x * v[r + 1 + dr, c + 1 + dc] < 0
                for dr, dc in ((0, 1), (1, 0))
            )
            out[r, c] = float(hit)
    return out


def window_entropy(v: np.ndarray, radius: int) -> np.ndarray:
    def entropy(window: np.ndarray) -> float:
        ok = window[~np.isnan(window)]
        if ok.size == 0:
            return np.nan
        _, counts = np.unique(ok, return_counts=True)
        p = counts / ok.size
        return float(-(p * np.log2(p)).sum())

    size = 2 * radius + 1
    out = ndimage.generic_filter(v, entropy, size=size, mode="constant", cval=np.nan)
    return crop(out, radius)


def test_small_neighbourhood_operations(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select("B4")
    derivs = img.derivative()
    grad = img.gradient()
    plus = img.neighborhoodToBands(ee.Kernel.plus(1))
    images = {
        "dx": derivs.select("B4_x"),
        "dy": derivs.select("B4_y"),
        "gx": grad.select("x"),
        "gy": grad.select("y"),
        "zc": img.subtract(300).zeroCrossing(),
        "ent": img.divide(100).floor().entropy(ee.Kernel.square(1)),
        "west": plus.select("B4_-1_0"),
        "south": plus.select("B4_0_1"),
    }
    got = compute_bands(ee, images, GRID)
    v1 = b4(1)
    check(got["dx"], central(v1, "x"), "derivative x")
    check(got["dy"], central(v1, "y"), "derivative y")
    check(got["gx"], central(v1, "x") / PIXEL_M, "gradient x")
    check(got["gy"], -central(v1, "y") / PIXEL_M, "gradient y")
    check(got["zc"], zero_crossings(v1 - 300), "zeroCrossing")
    check(got["ent"], window_entropy(levels(v1), 1), "entropy")
    check(got["west"], v1[1:-1, :-2], "neighborhoodToBands west")
    check(got["south"], v1[2:, 1:-1], "neighborhoodToBands south")
    names = plus.bandNames().getInfo()
    assert names == ["B4_0_-1", "B4_-1_0", "B4_0_0", "B4_1_0", "B4_0_1"]
    assert derivs.bandNames().getInfo() == ["B4_x", "B4_y"]


# -- distances ------------------------------------------------------------------------------------


def nearest_target(target: np.ndarray, n: int, metric: Callable) -> np.ndarray:
    """Brute force: for each inner pixel the smallest metric(dr, dc) to a target cell."""
    tr, tc = np.nonzero(target)
    h, w = target.shape[0] - 2 * n, target.shape[1] - 2 * n
    out = np.full((h, w), np.inf)
    for r in range(h):
        for c in range(w):
            if tr.size:
                out[r, c] = metric(tr - (r + n), tc - (c + n)).min()
    return out


def euclid(dr, dc):
    return np.hypot(dr, dc)


def manhattan(dr, dc):
    return np.abs(dr) + np.abs(dc)


def test_distances(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select("B4")
    targets = img.gt(450)
    images = {
        "dist": targets.distance(ee.Kernel.euclidean(5)),
        "dist_m": targets.distance(ee.Kernel.manhattan(4), False),
        "fdt": targets.fastDistanceTransform(8),
        "fdt_l1": targets.fastDistanceTransform(6, "pixels", "manhattan"),
        "east": targets.directionalDistanceTransform(0, 10).select("distance"),
    }
    got = compute_bands(ee, images, GRID)

    v = b4(5)
    d = nearest_target(bright(v), 5, euclid)
    check(got["dist"], np.where((d <= 5) & ~np.isnan(crop(v, 5)), d, np.nan), "distance")
    v = b4(4)
    d = nearest_target(bright(v), 4, manhattan)
    check(got["dist_m"], np.where(d <= 4, d, np.nan), "distance manhattan, skipMasked false")
    v = b4(8)
    d = nearest_target(bright(v), 8, euclid)
    check(got["fdt"], np.where(d <= 8, d * d, np.nan), "fastDistanceTransform")
    v = b4(6)
    d = nearest_target(bright(v), 6, manhattan)
    check(got["fdt_l1"], np.where(d <= 6, d, np.nan), "fastDistanceTransform manhattan")

    # East: walk right along the row to the first target, at most 10 pixels.
    t = bright(b4(10))
    east = np.full((GRID.height, GRID.width), np.nan)
    for r in range(GRID.height):
        for c in range(GRID.width):
            for k in range(11):
                if t[r + 10, c + 10 + k]:
                    east[r, c] = k
                    break
    check(got["east"], east, "directionalDistanceTransform")


# -- objects ---------------------------------------------------------------------------------------


def components(values: np.ndarray, eight: bool) -> tuple[np.ndarray, int]:
    """scipy labels of equal-valued unmasked (not NaN) cells: one labelling per value."""
    out = np.zeros(values.shape, dtype=np.int64)
    structure = np.ones((3, 3)) if eight else ndimage.generate_binary_structure(2, 1)
    count = 0
    for value in np.unique(values[~np.isnan(values)]):
        lab, n = ndimage.label(values == value, structure=structure)
        out[lab > 0] = lab[lab > 0] + count
        count += n
    return out, count


def extents(lab: np.ndarray, count: int) -> np.ndarray:
    """Per label (index = label): the larger side of its bounding box."""
    ext = np.zeros(count + 1, dtype=np.int64)
    for i, box in enumerate(ndimage.find_objects(lab), start=1):
        if box is not None:
            ext[i] = max(box[0].stop - box[0].start, box[1].stop - box[1].start)
    return ext


def test_connected_objects(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select("B4")
    lv = img.divide(100).floor().rename("levels")
    images = {
        "count": lv.connectedPixelCount(20, False),
        "labels": lv.connectedComponents(ee.Kernel.plus(1), 15).select("labels"),
        "mean": lv.addBands(img).reduceConnectedComponents(ee.Reducer.mean(), "levels", 15),
        "max": lv.addBands(img).reduceConnectedComponents(ee.Reducer.max(), "levels", 15),
    }
    got = compute_bands(ee, images, GRID)

    # connectedPixelCount: the size of each 4-connected object, at most 20.
    v = b4(20)
    lab, count = components(levels(v), eight=False)
    sizes = np.bincount(lab.ravel(), minlength=count + 1)
    expected = np.where(lab > 0, np.minimum(sizes[lab], 20), np.nan).astype(np.float64)
    check(got["count"], crop(expected, 20), "connectedPixelCount")

    # connectedComponents: the same partition as scipy's, objects wider than 15 masked.
    v = b4(15)
    lab, count = components(levels(v), eight=False)
    small = extents(lab, count) <= 15
    want = crop(np.where((lab > 0) & small[lab], lab, 0), 15)
    labels, valid = got["labels"]
    np.testing.assert_array_equal(valid, want > 0)
    pairs = set(zip(labels[valid].tolist(), want[valid].tolist(), strict=True))
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs}) > 10

    # reduceConnectedComponents: the mean and max of B4 over each 8-connected object.
    lab8, count8 = components(levels(v), eight=True)
    small8 = extents(lab8, count8) <= 15
    index = np.arange(1, count8 + 1)
    b = np.nan_to_num(v)
    means = np.concatenate([[np.nan], ndimage.mean(b, lab8, index)])
    maxes = np.concatenate([[np.nan], ndimage.maximum(b, lab8, index)])
    keep = (lab8 > 0) & small8[lab8]
    check(got["mean"], crop(np.where(keep, means[lab8], np.nan), 15), "reduce mean")
    check(got["max"], crop(np.where(keep, maxes[lab8], np.nan), 15), "reduce max")
    names = lv.addBands(img).reduceConnectedComponents(ee.Reducer.mean(), "levels")
    assert names.bandNames().getInfo() == ["B4"]


# -- cumulative cost -------------------------------------------------------------------------------


def dijkstra(cost: np.ndarray, sources: np.ndarray, dx: np.ndarray, dy: float) -> np.ndarray:
    """Least accumulated cost over 8-connected steps: length x mean cost of the two cells."""
    h, w = cost.shape
    best = np.full((h, w), np.inf)
    heap = [(0.0, r, c) for r, c in zip(*np.nonzero(sources), strict=True)]
    for _, r, c in heap:
        best[r, c] = 0.0
    heapq.heapify(heap)
    while heap:
        d, r, c = heapq.heappop(heap)
        if d > best[r, c]:
            continue
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if (dr, dc) == (0, 0) or not (0 <= rr < h and 0 <= cc < w):
                    continue
                if np.isnan(cost[rr, cc]):
                    continue
                step_dx = (dx[r] + dx[rr]) / 2
                length = math.hypot(dc * step_dx, dr * dy)
                nd = d + length * (cost[r, c] + cost[rr, cc]) / 2
                if nd < best[rr, cc]:
                    best[rr, cc] = nd
                    heapq.heappush(heap, (nd, rr, cc))
    return best


def test_cumulative_cost(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select("B4")
    cost = img.divide(100).int()  # floor(B4 / 100): B4 is not negative
    got = compute_bands(ee, {"cc": cost.cumulativeCost(img.gt(450), 1500)}, GRID)
    n = math.ceil(1500 / PIXEL_M) + 1
    g = grown(GRID, n)
    v = b4(n)
    lat = g.transform.f + g.transform.e * (np.arange(g.height) + 0.5)
    dx = 0.0015 * METRES_PER_DEGREE * np.cos(np.radians(lat))
    dy = 0.0015 * METRES_PER_DEGREE
    sources = bright(v) & ~np.isnan(v)
    best = dijkstra(levels(v), sources, dx, dy)
    values, valid = got["cc"]
    expected = crop(best, n)
    # Where the server gives a value it is the least cost; masks differ only at the distance
    # limit, which the oracle does not model.
    assert valid.sum() > 100
    np.testing.assert_allclose(values[valid], expected[valid], rtol=1e-9)
    # Masked cost pixels are masked in the output.
    assert not valid[np.isnan(crop(v, n))].any()


# -- seed grid -----------------------------------------------------------------------


def test_seed_grid(ee_api) -> None:
    ee = ee_api
    images = {
        "square": ee.Algorithms.Image.Segmentation.seedGrid(4),
        "hex": ee.Algorithms.Image.Segmentation.seedGrid(6, "hex"),
    }
    got = compute_bands(ee, images, GRID)
    t = GRID.transform
    rows = np.arange(GRID.height)[:, None] + round(t.f / t.e)
    cols = np.arange(GRID.width)[None, :] + round(t.c / t.a)
    square = ((rows % 4 == 0) & (cols % 4 == 0)).astype(float)
    shift = np.where((rows // 6) % 2 == 1, 3, 0)
    hexa = ((rows % 6 == 0) & ((cols - shift) % 6 == 0)).astype(float)
    check(got["square"], square, "seedGrid square")
    check(got["hex"], hexa, "seedGrid hex")


# -- displacement -----------------------------------------------------------------


def test_displace(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select("B4")
    images = {
        "near": img.displace(ee.Image.constant([2 * PIXEL_M, -1 * PIXEL_M]), "nearest"),
        "lin": img.displace(ee.Image.constant([0.5 * PIXEL_M, 0.0]), "bilinear"),
    }
    got = compute_bands(ee, images, GRID)
    v = b4(2)
    # 2 px east and 1 px south: out[r, c] = in[r + 1, c + 2].
    check(got["near"], v[3:-1, 4:], "displace nearest")
    # Half a pixel east: the mean of the pixel and its eastern neighbour.
    check(got["lin"], (v[2:-2, 2:-2] + v[2:-2, 3:-1]) / 2, "displace bilinear")


# -- texture ---------------------------------------------------------------------------------------

GLCM_METRICS = [
    "asm", "contrast", "corr", "var", "idm", "savg", "svar", "sent", "ent",
    "dvar", "dent", "imcorr1", "imcorr2", "maxcorr", "diss", "inertia", "shade", "prom",
]  # fmt: skip


def glcm_metrics(pairs: list[tuple[float, float]]) -> dict[str, float]:
    """Haralick/Conners metrics of the symmetric, normalised co-occurrence matrix of pairs."""
    levels = sorted({a for a, _ in pairs} | {b for _, b in pairs})
    at = {v: k for k, v in enumerate(levels)}
    m = np.zeros((len(levels), len(levels)))
    for a, b in pairs:
        m[at[a], at[b]] += 1
        m[at[b], at[a]] += 1
    p = m / m.sum()
    g = np.array(levels)
    i, j = np.meshgrid(g, g, indexing="ij")
    px = p.sum(axis=1)
    mu = (g * px).sum()
    var = ((g - mu) ** 2 * px).sum()
    sums, diffs = {}, {}
    for (a, b), q in np.ndenumerate(p):
        if q == 0:
            continue
        sums[g[a] + g[b]] = sums.get(g[a] + g[b], 0.0) + q
        diffs[abs(g[a] - g[b])] = diffs.get(abs(g[a] - g[b]), 0.0) + q
    ks, ps = np.array(list(sums)), np.array(list(sums.values()))
    kd, pd = np.array(list(diffs)), np.array(list(diffs.values()))
    savg = (ks * ps).sum()
    nz = p > 0
    ent = -(p[nz] * np.log(p[nz])).sum()
    hx = -(px[px > 0] * np.log(px[px > 0])).sum()
    pxpy = np.outer(px, px)
    hxy1 = -(p[nz] * np.log(pxpy[nz])).sum()
    hxy2 = -(pxpy[pxpy > 0] * np.log(pxpy[pxpy > 0])).sum()
    return {
        "asm": (p**2).sum(),
        "contrast": ((i - j) ** 2 * p).sum(),
        "corr": ((i * j * p).sum() - mu * mu) / var if var > 0 else 0.0,
        "var": var,
        "idm": (p / (1 + (i - j) ** 2)).sum(),
        "savg": savg,
        "svar": ((ks - savg) ** 2 * ps).sum(),
        "sent": -(ps * np.log(ps)).sum(),
        "ent": ent,
        "dvar": ((kd - (kd * pd).sum()) ** 2 * pd).sum(),
        "dent": -(pd * np.log(pd)).sum(),
        "imcorr1": (ent - hxy1) / hx if hx > 0 else 0.0,
        "imcorr2": math.sqrt(max(0.0, 1 - math.exp(-2 * (hxy2 - ent)))),
        "maxcorr": 0.0,
        "diss": (np.abs(i - j) * p).sum(),
        "inertia": ((i - j) ** 2 * p).sum(),
        "shade": ((i + j - 2 * mu) ** 3 * p).sum(),
        "prom": ((i + j - 2 * mu) ** 4 * p).sum(),
    }


def test_glcm_texture(ee_api) -> None:
    ee = ee_api
    grid = Grid.centered("EPSG:4326", LON + 0.03, LAT, 0.0015, 8, 6)  # inside the tile
    lv = ee.Image(item().image_id).select("B4").divide(100).int()  # whole levels
    texture = lv.glcmTexture()
    names = texture.bandNames().getInfo()
    assert names == [f"B4_{m}" for m in GLCM_METRICS]
    got = compute_bands(ee, {m: texture.select(f"B4_{m}") for m in GLCM_METRICS}, grid)
    v = levels(b4(2, grid))
    assert not np.isnan(v).any()
    directions = [(-1, -1), (0, -1), (1, -1), (-1, 0)]  # (dx, dy): the default 3x3 kernel's
    for r in range(grid.height):
        for c in range(grid.width):
            per_direction = []
            for dx, dy in directions:
                pairs = [
                    (v[r + 2 + wr, c + 2 + wc], v[r + 2 + wr + dy, c + 2 + wc + dx])
                    for wr in (-1, 0, 1)
                    for wc in (-1, 0, 1)
                ]
                per_direction.append(glcm_metrics(pairs))
            for m in GLCM_METRICS:
                expected = np.mean([d[m] for d in per_direction])
                values, valid = got[m]
                assert valid[r, c], m
                assert values[r, c] == pytest.approx(expected, rel=1e-9, abs=1e-9), (m, r, c)
    one = lv.glcmTexture(1, ee.Kernel.fixed(3, 1, [[0, 0, 1]]), False).bandNames().getInfo()
    assert one == [f"B4_{m}_1_0" for m in GLCM_METRICS]
