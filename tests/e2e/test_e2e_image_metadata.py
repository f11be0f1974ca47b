"""Image band selection, naming, masks, metadata and projections, plus collection composites,
through the stock client, against what rasterio, the STAC JSON and numpy say about the files."""

from __future__ import annotations

import numpy as np
import rasterio
from affine import Affine
from oracle import Grid, load_items, select_items, warp_band

LON, LAT = 15.02, 45.6
GRID = Grid.centered("EPSG:4326", LON, LAT, 0.0015, 48, 32)  # the tile's west edge crosses it
BANDS = ["B2", "B3", "B4", "B8", "SCL"]


def item(day: str = "20230815"):
    return next(i for i in load_items() if "33TWL" in i.id and day in i.id)


def compute_bands(ee, images: dict[str, object], grid: Grid = GRID) -> np.ndarray:
    stacked = None
    for name, image in images.items():
        img = ee.Image(image)
        pair = img.rename([name]).addBands(img.mask().rename([f"{name}__m"]))
        stacked = pair if stacked is None else stacked.addBands(pair)
    return ee.data.computePixels(
        {"expression": stacked, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def test_band_names_selection_and_renaming(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    b4 = img.select("B4")
    checks = ee.List(
        [
            img.bandNames(),
            img.select("B[48]").bandNames(),
            img.select([3, 0]).bandNames(),
            img.select(["B4", "SCL"], ["red", "classes"]).bandNames(),
            img.select(["B2", "B3"]).rename(["x", "y"]).bandNames(),
            b4.addBands(b4).bandNames(),
            b4.addBands(img.select(["B4", "B8"]), ["B8"]).bandNames(),
            b4.addBands(img.select("B8").rename("B4"), None, True).bandNames(),
            ee.Image.constant([1, 2.5]).bandNames(),
        ]
    ).getInfo()
    assert checks[0] == BANDS
    assert checks[1:] == [
        ["B4", "B8"],
        ["B8", "B2"],
        ["red", "classes"],
        ["x", "y"],
        ["B4", "B4_1"],
        ["B4", "B8"],
        ["B4"],
        ["constant_0", "constant_1"],  # as ee-image-constant.js documents
    ]


def test_added_and_overwritten_bands_carry_their_pixels(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    b4, b8 = img.select("B4"), img.select("B8")
    overwritten = b4.addBands(b8.rename("B4"), None, True)
    arr = compute_bands(
        ee,
        {
            "second": b4.addBands(b8).select(1),
            "overwritten": overwritten,
            "constant": ee.Image.constant(7).toInt16(),
        },
    )
    a = warp_band(item().band_path("B4"), GRID)
    b = warp_band(item().band_path("B8"), GRID)
    np.testing.assert_array_equal(arr["second"][b != 0], b[b != 0])
    np.testing.assert_array_equal(arr["overwritten"][b != 0], b[b != 0])
    np.testing.assert_array_equal(arr["second__m"] == 1, b != 0)
    assert (arr["constant"] == 7).all() and (arr["constant__m"] == 1).all()
    assert (a != 0).any()


def test_band_types_match_the_files(ee_api) -> None:
    it = item()
    types = ee_api.Image(it.image_id).bandTypes().getInfo()
    assert list(types) == BANDS
    for band in BANDS:
        with rasterio.open(it.band_path(band)) as src:
            info = np.iinfo(src.dtypes[0])
        assert types[band] == {
            "type": "PixelType",
            "precision": "int",
            "min": int(info.min),
            "max": int(info.max),
        }


def test_id_date_projection_and_load(ee_api) -> None:
    ee = ee_api
    it = item()
    img = ee.Image(it.image_id)
    got = ee.List(
        [
            img.id(),
            img.date().millis(),
            img.select("B4").projection(),
            ee.Image.load(it.image_id).bandNames(),
        ]
    ).getInfo()
    with rasterio.open(it.band_path("B4")) as src:
        transform, epsg = src.transform, src.crs.to_epsg()
    assert got[0] == it.image_id
    assert got[1] == it.time_start_ms
    assert got[2] == {"type": "Projection", "crs": f"EPSG:{epsg}", "transform": list(transform)[:6]}
    assert got[3] == BANDS


def test_set_default_projection_sets_every_bands_projection(ee_api) -> None:
    # Earth Engine's reference: "crs: The CRS to project the image to" (docs/decisions/0041).
    ee = ee_api
    collection = ee.ImageCollection.fromImages([ee.Image(item().image_id)])
    composite = collection.select("B4").median()
    with_default = composite.setDefaultProjection("EPSG:32633", [60, 0, 500000, 0, -60, 5000000])
    native = ee.Image(item().image_id).select("B4")
    moved = native.setDefaultProjection("EPSG:3857", None, 1000)
    got = ee.List(
        [with_default.projection(), moved.projection().crs(), composite.projection().crs()]
    ).getInfo()
    assert got[0] == {
        "type": "Projection",
        "crs": "EPSG:32633",
        "transform": [60, 0, 500000, 0, -60, 5000000],
    }
    assert got[1] == "EPSG:3857"  # a stored band's projection is replaced too
    assert got[2] == "EPSG:4326"  # a composite's default: WGS84


def test_masks(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    b4, b8 = img.select("B4"), img.select("B8")
    arr = compute_bands(
        ee,
        {
            "self": b4.gt(1000).selfMask(),
            "mask_arg": b4.mask(b8.gt(2500)),
            "update": b4.updateMask(b8.lte(2500)),
            "mask_of": b4.updateMask(b8.gt(2500)).mask(),
            "unmask": b4.updateMask(b8.gt(2500)).unmask(b4.multiply(0).add(9), False),
        },
    )
    a = warp_band(item().band_path("B4"), GRID)
    c = warp_band(item().band_path("B8"), GRID)
    ok = (a != 0) & (c != 0)
    assert (ok & (c > 2500)).any() and (ok & (c <= 2500)).any()
    np.testing.assert_array_equal(arr["self__m"] == 1, (a != 0) & (a > 1000))
    assert (arr["self"][arr["self__m"] == 1] == 1).all()
    np.testing.assert_array_equal(arr["mask_arg__m"] == 1, ok & (c > 2500))
    np.testing.assert_array_equal(arr["update__m"] == 1, ok & (c <= 2500))
    np.testing.assert_array_equal(arr["mask_of"], (ok & (c > 2500)).astype(np.uint8))
    assert (arr["mask_of__m"] == 1).all()
    # unmask with an image: masked pixels take its values where it is valid (a != 0).
    np.testing.assert_array_equal(arr["unmask__m"] == 1, a != 0)
    expected = np.where(ok & (c > 2500), a, 9)
    np.testing.assert_array_equal(arr["unmask"][a != 0], expected[a != 0])


def test_reproject_computes_on_the_coarse_grid_then_samples(ee_api) -> None:
    """B4 reprojected to a 200 m UTM lattice, requested on a 50 m grid offset from it: each fine
    pixel holds the coarse pixel containing its centre, that pixel being the source pixel
    containing the coarse centre (both exact nearest)."""
    ee = ee_api
    x0, y0 = 520_000.0, 5_052_000.0  # a corner of the coarse lattice
    coarse_t = Affine(200.0, 0, x0, 0, -200.0, y0)
    fine = Grid("EPSG:32633", Affine(50.0, 0, x0 + 10, 0, -50.0, y0 - 10), 60, 40)
    image = ee.Image(item().image_id).select("B4").reproject("EPSG:32633", list(coarse_t)[:6])
    arr = compute_bands(ee, {"r": image}, fine)
    coarse = warp_band(item().band_path("B4"), Grid("EPSG:32633", coarse_t, 16, 11))
    rows, cols = np.mgrid[0:40, 0:60] + 0.5
    cx, cy = x0 + 10 + 50 * cols, y0 - 10 - 50 * rows
    ci, cj = np.floor((y0 - cy) / 200).astype(int), np.floor((cx - x0) / 200).astype(int)
    expected = coarse[ci, cj]
    assert (expected != 0).all()
    np.testing.assert_array_equal(arr["r"], expected)
    assert len(np.unique(arr["r"][:4, :4])) == 1  # 4x4 fine pixels per coarse one
    direct = warp_band(item().band_path("B4"), fine)
    assert not np.array_equal(direct, expected)


def test_resample_interpolates(ee_api) -> None:
    ee = ee_api
    grid = Grid("EPSG:32633", Affine(40.0, 0, 530_010.0, 0, -40.0, 5_050_010.0), 30, 20)
    b4 = ee.Image(item().image_id).select("B4")
    arr = compute_bands(ee, {"near": b4, "bil": b4.resample("bilinear")}, grid)
    # Bilinear at a pixel centre lies between the min and max of the 2x2 source neighbourhood.
    with rasterio.open(item().band_path("B4")) as src:
        data, t = src.read(1).astype(float), src.transform
    rows, cols = np.mgrid[0:20, 0:30] + 0.5
    x, y = 530_010.0 + 40 * cols, 5_050_010.0 - 40 * rows
    fc, fr = (x - t.c) / t.a - 0.5, (y - t.f) / t.e - 0.5
    c0, r0 = np.floor(fc).astype(int), np.floor(fr).astype(int)
    corners = np.stack([data[r0, c0], data[r0, c0 + 1], data[r0 + 1, c0], data[r0 + 1, c0 + 1]])
    wc, wr = fc - c0, fr - r0
    expected = (
        corners[0] * (1 - wc) * (1 - wr) + corners[1] * wc * (1 - wr)
        + corners[2] * (1 - wc) * wr + corners[3] * wc * wr
    )  # fmt: skip
    assert np.abs(arr["bil"].astype(float) - expected).max() <= 1.0
    assert not np.array_equal(arr["bil"], arr["near"])


def _stack(band: str, grid: Grid) -> np.ma.MaskedArray:
    items = select_items("2023-08-01", "2023-09-01", 15.7, 45.55)
    data = np.stack([warp_band(i.band_path(band), grid) for i in items]).astype(np.float64)
    return np.ma.masked_equal(data, 0)


def test_collection_percentile_mode_and_quality_mosaic(ee_api) -> None:
    ee = ee_api
    grid = Grid.centered("EPSG:4326", 15.7, 45.55, 0.002, 40, 30)
    collection = (
        ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
        .filterBounds(ee.Geometry.Point([15.7, 45.55]))
        .filterDate("2023-08-01", "2023-09-01")
    )
    percentiles = collection.select("B8").reduce(ee.Reducer.percentile([25, 90]))
    assert percentiles.bandNames().getInfo() == ["B8_p25", "B8_p90"]
    arr = compute_bands(
        ee,
        {
            "p25": percentiles.select("B8_p25"),
            "p90": percentiles.select("B8_p90"),
            "mode": collection.select("SCL").reduce(ee.Reducer.mode()),
            "quality": collection.select(["B4", "B8"]).qualityMosaic("B8").select("B4"),
        },
        grid,
    )
    b8 = _stack("B8", grid)
    for name, q in (("p25", 25), ("p90", 90)):
        expected = np.array(
            [[np.percentile(b8[:, r, c].compressed(), q) for c in range(40)] for r in range(30)]
        )
        np.testing.assert_allclose(arr[name], expected, rtol=1e-9)
    scl = _stack("SCL", grid)

    def mode(values: np.ndarray) -> float:
        uniq, counts = np.unique(values, return_counts=True)
        return float(uniq[np.argmax(counts)])

    expected_mode = np.array(
        [[mode(scl[:, r, c].compressed()) for c in range(40)] for r in range(30)]
    )
    np.testing.assert_array_equal(arr["mode"], expected_mode)
    # qualityMosaic: B4 from the image whose B8 is highest (ties: the later image).
    b4 = _stack("B4", grid)
    quality = np.ma.filled(b8, -np.inf)
    best = quality.shape[0] - 1 - np.argmax(quality[::-1], axis=0)
    expected_b4 = np.take_along_axis(np.ma.filled(b4, 0), best[None], axis=0)[0]
    np.testing.assert_array_equal(arr["quality"], expected_b4)


def test_collection_shortcut_reductions_keep_band_names(ee_api) -> None:
    ee = ee_api
    grid = Grid.centered("EPSG:4326", 15.7, 45.55, 0.002, 40, 30)
    collection = (
        ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
        .filterBounds(ee.Geometry.Point([15.7, 45.55]))
        .filterDate("2023-08-01", "2023-09-01")
        .select(["B8", "SCL"])
    )
    shortcuts = {
        "mean": collection.mean(),
        "min": collection.min(),
        "max": collection.max(),
        "sum": collection.sum(),
        "mode": collection.mode(),
    }
    names = ee.List([image.bandNames() for image in shortcuts.values()]).getInfo()
    assert names == [["B8", "SCL"]] * len(shortcuts)
    arr = compute_bands(
        ee,
        {
            f"{k}_{band}": image.select(band)
            for k, image in shortcuts.items()
            for band in ("B8", "SCL")
        },
        grid,
    )
    for band in ("B8", "SCL"):
        stack = _stack(band, grid)
        expected = {
            "mean": stack.mean(axis=0),
            "min": stack.min(axis=0),
            "max": stack.max(axis=0),
            "sum": stack.sum(axis=0),
        }
        for name, values in expected.items():
            np.testing.assert_allclose(arr[f"{name}_{band}"], np.ma.getdata(values), rtol=1e-9)
        uniq = [
            np.unique(stack[:, r, c].compressed(), return_counts=True)
            for r in range(30)
            for c in range(40)
        ]
        mode = np.array([u[np.argmax(n)] for u, n in uniq]).reshape(30, 40)
        np.testing.assert_array_equal(arr[f"mode_{band}"], mode)
        native = np.uint16 if band == "B8" else np.uint8
        assert arr[f"sum_{band}"].dtype == np.int64 and arr[f"mean_{band}"].dtype == np.float64
        for name in ("min", "max", "mode"):
            assert arr[f"{name}_{band}"].dtype == native, name
