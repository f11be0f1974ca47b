"""Array construction and reshaping, and matrix algebra on array pixels, through the stock
client against numpy on the same pixels.

Oracle: one clear 33TWM scene read with rasterio on its native grid; at each pixel the vector
v = (B2, B3, B4, B8) / 1000 and the 2x2 matrix M = v reshaped row-major, computed with numpy
(numpy.linalg batched over pixels for the matrix results).
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from oracle import Grid, load_items

pytestmark = pytest.mark.e2e

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
ROW0, COL0, HEIGHT, WIDTH = 505, 160, 5, 7
GRID = Grid("EPSG:32633", Affine(120, 0, 499980 + 120 * COL0, 0, -120, 5200020 - 120 * ROW0),
            WIDTH, HEIGHT)  # fmt: skip
BANDS = ["B2", "B3", "B4", "B8"]
FILL = -999.0
CLOUD = 5000


def items():
    return sorted((i for i in load_items() if "33TWM" in i.id), key=lambda i: i.time_start_ms)


def read(item, band: str) -> np.ndarray:
    with rasterio.open(item.band_path(band)) as src:
        window = ((ROW0, ROW0 + HEIGHT), (COL0, COL0 + WIDTH))
        return src.read(1, window=window).astype(np.float64)


def clear_item():
    return items()[1]


def vectors() -> np.ndarray:
    """(row, col, 4): v per pixel."""
    return np.stack([read(clear_item(), b) / 1000 for b in BANDS], axis=-1)


def compute(ee, image) -> np.ndarray:
    return ee.data.computePixels(
        {
            "expression": image.unmask(FILL),
            "fileFormat": "NUMPY_NDARRAY",
            "grid": GRID.to_pixel_grid(),
        }
    )


def flat(image, name: str, *shape: int):
    """A 1-D or 2-D array band as scalar bands name<i> or name<i>_<j>."""
    labels = [[f"{name}{i}" for i in range(shape[0])]]
    labels += [[str(j) for j in range(n)] for n in shape[1:]]
    return image.arrayFlatten(labels)


def grid_of(got: np.ndarray, name: str, *shape: int) -> np.ndarray:
    """The (row, col, *shape) array of the bands `flat` made."""
    keys = [f"{name}{i}" if len(shape) == 1 else f"{name}{i}_{j}"
            for i in range(shape[0]) for j in range(shape[1] if len(shape) > 1 else 1)]  # fmt: skip
    return np.stack([got[k] for k in keys], axis=-1).reshape(*got.shape, *shape)


def scene(ee):
    img = ee.Image(clear_item().image_id)
    return img.select(BANDS).toDouble().divide(1000)


def test_building_and_reshaping_arrays(ee_api) -> None:
    ee = ee_api
    v = scene(ee).toArray()
    m = v.arrayReshape(ee.Image([2, 2]).toArray(), 2)
    b4 = ee.Image(clear_item().image_id).select("B4")
    bits = b4.bitsToArrayImage()
    clear = (
        ee.ImageCollection(COLLECTION)
        .filter(ee.Filter.stringContains("system:index", "33TWM"))
        .map(lambda i: i.updateMask(i.select("B4").lt(CLOUD)))
        .select(["B4"])
    )
    image = (
        flat(v.arrayCat(v.multiply(2), 0), "cat", 8)
        .addBands(flat(v.arrayPad([6], -1), "pad", 6))
        .addBands(flat(v.arrayRepeat(0, 2), "rep", 8))
        .addBands(flat(m, "m", 2, 2))
        .addBands(flat(m.arrayTranspose(), "t", 2, 2))
        .addBands(flat(v.arrayAccum(0), "acc", 4))
        .addBands(flat(v.arrayAccum(0, ee.Reducer.max()), "accmax", 4))
        .addBands(flat(v.arrayArgmax(), "argmax", 1))
        .addBands(v.arrayDotProduct(v.multiply(3)).rename("dot"))
        .addBands(flat(m.addBands(m.multiply(-1)).toArray(1), "cat2", 2, 4))
        .addBands(flat(v.toArray(1).matrixTranspose().matrixMultiply(v.toArray(1)), "vtv", 1, 1))
        .addBands(
            flat(m.arrayReduce(ee.Reducer.min().combine(ee.Reducer.max()), [0], 0), "minmax", 2, 2)
        )
        .addBands(bits.arrayLength(0).rename("nbits"))
        .addBands(bits.arrayReduce(ee.Reducer.sum(), [0]).arrayGet([0]).rename("popcount"))
        .addBands(bits.arrayGet([0]).rename("bit0"))
        .addBands(clear.toArrayPerBand(0, True).arrayLength(0).rename("n_clear"))
        .addBands(clear.toArrayPerBand().arrayLength(0).rename("n_all"))
    )
    got = compute(ee, image)
    vv = vectors()
    np.testing.assert_allclose(grid_of(got, "cat", 8), np.concatenate([vv, 2 * vv], -1))
    pad = np.concatenate([vv, np.full((*vv.shape[:2], 2), -1.0)], -1)
    np.testing.assert_allclose(grid_of(got, "pad", 6), pad)
    np.testing.assert_allclose(grid_of(got, "rep", 8), np.concatenate([vv, vv], -1))
    mm = vv.reshape(*vv.shape[:2], 2, 2)
    np.testing.assert_allclose(grid_of(got, "m", 2, 2), mm)
    np.testing.assert_allclose(grid_of(got, "t", 2, 2), np.swapaxes(mm, -1, -2))
    np.testing.assert_allclose(grid_of(got, "acc", 4), np.cumsum(vv, -1), rtol=1e-12)
    np.testing.assert_allclose(grid_of(got, "accmax", 4), np.maximum.accumulate(vv, -1))
    np.testing.assert_array_equal(got["argmax0"], np.argmax(vv, -1))
    np.testing.assert_allclose(got["dot"], 3 * (vv**2).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(grid_of(got, "cat2", 2, 4), np.concatenate([mm, -mm], -1))
    # toArray(1) of a 1-D band makes a column: v' v is the squared norm
    np.testing.assert_allclose(got["vtv0_0"], (vv**2).sum(-1), rtol=1e-12)
    minmax = np.stack([mm.min(-2), mm.max(-2)], -2)
    np.testing.assert_allclose(grid_of(got, "minmax", 2, 2), minmax)
    raw = read(clear_item(), "B4").astype(np.int64)
    np.testing.assert_array_equal(got["nbits"], [[int(x).bit_length() for x in r] for r in raw])
    np.testing.assert_array_equal(
        got["popcount"], [[bin(int(x)).count("1") for x in r] for r in raw]
    )
    np.testing.assert_array_equal(got["bit0"], raw & 1)
    b4s = np.stack([read(i, "B4") for i in items()])
    clear_n = ((b4s != 0) & (b4s < CLOUD)).sum(0)
    assert clear_n.min() > 0 and clear_n.min() < len(items())
    np.testing.assert_array_equal(got["n_clear"], clear_n)
    # without dropMasked, a pixel masked in any image is masked
    np.testing.assert_array_equal(got["n_all"], np.where(clear_n == len(items()), 5, FILL))


def test_matrix_algebra(ee_api) -> None:
    ee = ee_api
    m = scene(ee).toArray().arrayReshape(ee.Image([2, 2]).toArray(), 2)
    spd = m.matrixMultiply(m.matrixTranspose()).add(ee.Image.matrixIdentity(2))
    svd = m.matrixSingularValueDecomposition()
    lu = m.matrixLUDecomposition()
    qr = m.matrixQRDecomposition()
    image = (
        flat(spd, "spd", 2, 2)
        .addBands(flat(spd.matrixInverse(), "inv", 2, 2))
        .addBands(flat(m.matrixPseudoInverse(), "pinv", 2, 2))
        .addBands(m.matrixFnorm().rename("fnorm"))
        .addBands(m.matrixTrace().rename("trace"))
        .addBands(m.matrixDeterminant().rename("det"))
        .addBands(flat(m.matrixDiagonal(), "diag", 2, 1))
        .addBands(flat(m.matrixDiagonal().matrixToDiag(), "todiag", 2, 2))
        .addBands(flat(spd.matrixSolve(m), "solve", 2, 2))
        .addBands(flat(spd.matrixCholeskyDecomposition(), "chol", 2, 2))
        .addBands(flat(svd.select("U"), "U", 2, 2))
        .addBands(flat(svd.select("S"), "S", 2, 2))
        .addBands(flat(svd.select("V"), "V", 2, 2))
        .addBands(flat(lu.select("L"), "L", 2, 2))
        .addBands(flat(lu.select("U"), "LU", 2, 2))
        .addBands(flat(lu.select("P"), "P", 2, 2))
        .addBands(flat(qr.select("Q"), "Q", 2, 2))
        .addBands(flat(qr.select("R"), "R", 2, 2))
    )
    got = compute(ee, image)
    mm = vectors().reshape(HEIGHT, WIDTH, 2, 2)
    eye = np.eye(2)
    spd = mm @ np.swapaxes(mm, -1, -2) + eye
    close = {"rtol": 1e-9, "atol": 1e-12}
    np.testing.assert_allclose(grid_of(got, "spd", 2, 2), spd, **close)
    np.testing.assert_allclose(grid_of(got, "inv", 2, 2), np.linalg.inv(spd), **close)
    np.testing.assert_allclose(grid_of(got, "pinv", 2, 2), np.linalg.pinv(mm), rtol=1e-7)
    np.testing.assert_allclose(got["fnorm"], np.sqrt((mm**2).sum((-1, -2))), **close)
    np.testing.assert_allclose(got["trace"], mm[..., 0, 0] + mm[..., 1, 1], **close)
    det = mm[..., 0, 0] * mm[..., 1, 1] - mm[..., 0, 1] * mm[..., 1, 0]
    np.testing.assert_allclose(got["det"], det, rtol=1e-9, atol=1e-12)
    diag = np.stack([mm[..., 0, 0], mm[..., 1, 1]], -1)
    np.testing.assert_allclose(grid_of(got, "diag", 2, 1)[..., 0], diag)
    np.testing.assert_allclose(grid_of(got, "todiag", 2, 2), diag[..., None] * eye)
    np.testing.assert_allclose(spd @ grid_of(got, "solve", 2, 2), mm, **close)
    chol = grid_of(got, "chol", 2, 2)
    assert np.allclose(np.triu(chol, 1), 0)
    np.testing.assert_allclose(chol @ np.swapaxes(chol, -1, -2), spd, **close)
    u, s, v = (grid_of(got, k, 2, 2) for k in "USV")
    np.testing.assert_allclose(u @ s @ np.swapaxes(v, -1, -2), mm, **close)
    np.testing.assert_allclose(np.diagonal(s, axis1=-2, axis2=-1),
                               np.linalg.svd(mm, compute_uv=False), **close)  # fmt: skip
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ u, np.broadcast_to(eye, u.shape), atol=1e-9)
    lower, upper, perm = (grid_of(got, k, 2, 2) for k in ("L", "LU", "P"))
    np.testing.assert_allclose(perm @ mm, lower @ upper, **close)
    assert np.allclose(np.diagonal(lower, axis1=-2, axis2=-1), 1)
    assert np.allclose(lower[..., 0, 1], 0) and np.allclose(upper[..., 1, 0], 0)
    assert set(np.unique(perm)) <= {0.0, 1.0}
    q, r = grid_of(got, "Q", 2, 2), grid_of(got, "R", 2, 2)
    np.testing.assert_allclose(q @ r, mm, **close)
    np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(eye, q.shape), atol=1e-9)
    assert np.allclose(r[..., 1, 0], 0)


def test_array_errors_are_clear(ee_api) -> None:
    ee = ee_api
    v = scene(ee).toArray()
    with pytest.raises(ee.EEException, match="not array-valued"):
        scene(ee).arrayLength(0).getInfo()
    with pytest.raises(ee.EEException, match="must hold 2-D matrices"):
        v.matrixInverse().getInfo()
    with pytest.raises(ee.EEException, match="not supported on arrays"):
        v.arrayReduce(ee.Reducer.histogram(), [0]).getInfo()
    with pytest.raises(ee.EEException, match="unmask the scalar bands"):
        v.unmask(0).getInfo()
    with pytest.raises(ee.EEException, match="arrayMask"):
        scene(ee).updateMask(v).getInfo()
    arrays = ee.ImageCollection([v, v.multiply(2)])
    refused = {
        "where": v.where(scene(ee).select(0).gt(0.5), 0),
        "focal_mean": v.focal_mean(1),
        "convolve": v.convolve(ee.Kernel.square(1)),
        "collection mean": arrays.mean(),
        "mosaic": arrays.mosaic(),
        "Image.reduce": v.addBands(v).reduce(ee.Reducer.mean()),
    }
    for name, image in refused.items():
        with pytest.raises(ee.EEException, match="does not accept array-valued pixels") as err:
            compute(ee, flat(image, "x", 4))
        assert "arrayFlatten" in str(err.value), name
    # the mask of an array band is a scalar band
    assert compute(ee, v.mask().rename("m"))["m"].tolist() == np.ones((HEIGHT, WIDTH)).tolist()
    # a singular matrix masks its pixel instead of failing the request
    zero = v.multiply(0).arrayReshape(ee.Image([2, 2]).toArray(), 2)
    got = compute(ee, flat(zero.matrixInverse(), "z", 2, 2).addBands(zero.matrixTrace()))
    assert (got["z0_0"] == FILL).all()


def test_neighborhood_to_array(ee_api) -> None:
    ee = ee_api
    b4 = ee.Image(clear_item().image_id).select("B4").toInt32()
    dark = b4.updateMask(b4.lt(300))
    hood = dark.neighborhoodToArray(ee.Kernel.rectangle(1, 1), -5)
    info = hood.getInfo()["bands"][0]["data_type"]
    assert info["dimensions"] == 2
    got = compute(ee, flat(hood, "n", 3, 3))
    with rasterio.open(clear_item().band_path("B4")) as src:
        grown = src.read(1, window=((ROW0 - 1, ROW0 + HEIGHT + 1), (COL0 - 1, COL0 + WIDTH + 1)))
    values = np.where(grown < 300, grown.astype(np.int64), -5)
    windows = np.lib.stride_tricks.sliding_window_view(values, (3, 3))
    centre_ok = grown[1:-1, 1:-1] < 300
    assert centre_ok.any() and not centre_ok.all()
    expected = np.where(centre_ok[..., None, None], windows, FILL)
    np.testing.assert_array_equal(grid_of(got, "n", 3, 3), expected)


def test_covariance_of_array_pixels_over_a_region(ee_api) -> None:
    ee = ee_api
    v = scene(ee).toArray()
    crs = {"crs": "EPSG:32633", "crsTransform": list(GRID.crs_transform)}
    x0, y0 = GRID.transform.c, GRID.transform.f
    box = ee.Geometry.Rectangle([x0, y0 - 120 * HEIGHT, x0 + 120 * WIDTH, y0], "EPSG:32633", False)
    got = v.reduceRegion(ee.Reducer.covariance(), box, **crs).getInfo()
    # centeredCovariance takes its inputs as already centred: sum of x x' over n - 1
    got_c = v.reduceRegion(ee.Reducer.centeredCovariance(), box, **crs).getInfo()
    pixels = vectors().reshape(-1, 4)
    np.testing.assert_allclose(got["array"], np.cov(pixels, rowvar=False), rtol=1e-9)
    np.testing.assert_allclose(got_c["array"], pixels.T @ pixels / (len(pixels) - 1), rtol=1e-9)


def test_reprojected_array_pixels_resample_whole_arrays(ee_api) -> None:
    ee = ee_api
    x0, y0 = GRID.transform.c, GRID.transform.f
    fixed = scene(ee).toArray().reproject("EPSG:32633", [120, 0, x0, 0, -120, y0])
    coarse = Grid("EPSG:32633", Affine(360, 0, x0, 0, -360, y0), 3, 3)
    got = ee.data.computePixels(
        {
            "expression": flat(fixed, "r", 4),
            "fileFormat": "NUMPY_NDARRAY",
            "grid": coarse.to_pixel_grid(),
        }
    )
    # computed on the 120 m lattice, then each 360 m pixel takes the array at its centre
    window = ((ROW0, ROW0 + 9), (COL0, COL0 + 9))
    layers = []
    for band in BANDS:
        with rasterio.open(clear_item().band_path(band)) as src:
            layers.append(src.read(1, window=window) / 1000)
    blocks = np.stack(layers, -1)
    np.testing.assert_allclose(grid_of(got, "r", 4), blocks[1::3, 1::3])


# Rows: two made-up linear combinations of (B2, B3, B4, B8), as a tasseled cap has six.
COEFFICIENTS = [[0.3, 0.2, 0.1, 0.4], [-0.25, 0.5, -0.5, 0.75]]


def test_constant_array_image_times_pixel_columns(ee_api) -> None:
    """The tasseled-cap idiom: ee.Image(ee.Array(matrix)).matrixMultiply(bands as a column)."""
    ee = ee_api
    assert ee.Array(COEFFICIENTS).getInfo() == COEFFICIENTS
    constant = ee.Image(ee.Array(COEFFICIENTS))
    assert constant.getInfo()["bands"][0]["data_type"]["dimensions"] == 2
    column = scene(ee).toArray().toArray(1)
    components = constant.matrixMultiply(column).arrayProject([0]).arrayFlatten([["c1", "c2"]])
    got = compute(ee, components)
    expected = vectors() @ np.asarray(COEFFICIENTS).T
    np.testing.assert_allclose(got["c1"], expected[..., 0], rtol=1e-12)
    np.testing.assert_allclose(got["c2"], expected[..., 1], rtol=1e-12)
    with pytest.raises(ee.EEException, match="rectangular"):
        ee.Array([[1, 2], [3]]).getInfo()


def test_principal_components_idiom(ee_api) -> None:
    """Earth Engine's PCA recipe: centre the bands, centredCovariance over the region, eigen of
    the covariance, then eigenvectors x each pixel's column of centred values."""
    ee = ee_api
    crs = {"crs": "EPSG:32633", "crsTransform": list(GRID.crs_transform)}
    x0, y0 = GRID.transform.c, GRID.transform.f
    box = ee.Geometry.Rectangle([x0, y0 - 120 * HEIGHT, x0 + 120 * WIDTH, y0], "EPSG:32633", False)
    image = scene(ee)
    means = image.reduceRegion(ee.Reducer.mean(), box, **crs)
    centred = image.subtract(ee.Image.constant(means.values(BANDS)))
    arrays = centred.toArray()
    covar = arrays.reduceRegion(ee.Reducer.centeredCovariance(), box, **crs)
    eigens = ee.Array(covar.get("array")).eigen()
    vectors_ee = eigens.slice(1, 1)
    pcs = ee.Image(vectors_ee).matrixMultiply(arrays.toArray(1))
    flat_pcs = pcs.arrayProject([0]).arrayFlatten([[f"pc{i}" for i in range(4)]])
    got = compute(ee, flat_pcs)
    pixels = vectors().reshape(-1, 4)
    centred_np = pixels - pixels.mean(axis=0)
    cov = centred_np.T @ centred_np / (len(pixels) - 1)
    table = np.asarray(eigens.getInfo())
    np.testing.assert_allclose(table[:, 0], np.sort(np.linalg.eigvalsh(cov))[::-1], rtol=1e-9)
    for value, *vector in table:  # each row: an eigenvalue, then its unit eigenvector
        np.testing.assert_allclose(cov @ vector, value * np.asarray(vector), atol=1e-9)
    expected = (centred_np @ table[:, 1:].T).reshape(HEIGHT, WIDTH, 4)
    np.testing.assert_allclose(grid_of(got, "pc", 4), expected, rtol=1e-7, atol=1e-9)
    assert np.asarray(vectors_ee.getInfo()).shape == (4, 4)
