"""Image band plumbing and value lookups through the stock client: regexpRename, slice, cat,
cast, metadata, copyProperties, reduce (across bands), retile, remap, polynomial, interpolate.

Pixel inputs are Sentinel-2 bands warped by the oracle (exact nearest) onto a grid that leaves
the tile (so masks matter), or Image.pixelLonLat, whose values are known from pixel centres.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracle import Grid, load_items, warp_band

GRID = Grid.centered("EPSG:4326", 15.02, 45.6, 0.0015, 48, 32)  # the tile's west edge crosses it
LONLAT_GRID = Grid.centered("EPSG:4326", 2.0, 0.0, 0.1, 40, 2)  # longitudes 0.05 .. 3.95
S2_BANDS = ["B2", "B3", "B4", "B8"]


def item():
    return next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)


def compute(ee, image, grid: Grid = GRID) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def with_masks(ee, images: dict[str, object]):
    stacked = None
    for name, image in images.items():
        img = ee.Image(image)
        pair = img.rename([name]).addBands(img.mask().rename([f"{name}__m"]))
        stacked = pair if stacked is None else stacked.addBands(pair)
    return stacked


def longitudes(grid: Grid) -> np.ndarray:
    cols = np.arange(grid.width) + 0.5
    return np.broadcast_to(grid.transform.c + cols * grid.transform.a, (grid.height, grid.width))


def call(ee, name: str, *args):
    return ee.ApiFunction.call_(f"Image.{name}", *args)


def test_band_naming_slicing_and_concatenation(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select(S2_BANDS)
    got = ee.List(
        [
            img.regexpRename("B(\\d)", "band_$1").bandNames(),
            img.regexpRename("B", "b", False).bandNames(),
            img.rename(["aa", "ba", "ca", "da"]).regexpRename("a", "x").bandNames(),
            img.rename(["aa", "ba", "ca", "da"]).regexpRename("a", "x", False).bandNames(),
            img.slice(1).bandNames(),
            img.slice(1, 3).bandNames(),
            img.slice(-2).bandNames(),
            img.slice(0, -1).bandNames(),
            # The server's Image.cat (the client's ee.Image.cat chains addBands instead).
            ee.Image(call(ee, "cat", [img.select("B4"), img.select(["B4", "B8"]), 7])).bandNames(),
            call(ee, "retile", img, 128).bandNames(),
        ]
    ).getInfo()
    assert got == [
        ["band_2", "band_3", "band_4", "band_8"],
        ["b2", "b3", "b4", "b8"],
        ["xx", "bx", "cx", "dx"],
        ["xa", "bx", "cx", "dx"],
        ["B3", "B4", "B8"],
        ["B3", "B4"],
        ["B4", "B8"],
        ["B2", "B3", "B4"],
        ["B4", "B4_1", "B8", "constant"],
        S2_BANDS,
    ]


def test_cat_and_cast_pixels(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    b4, b8 = img.select("B4"), img.select("B8")
    scaled = b4.divide(7.0).rename("s")
    cast = scaled.addBands(b8).cast(
        {"s": "short", "B8": "uint8", "new": "double"}, ["new", "s", "B8"]
    )
    types = cast.bandTypes().getInfo()
    assert cast.bandNames().getInfo() == ["new", "s", "B8"]
    assert types["s"]["max"] == 32767 and types["B8"]["max"] == 255
    assert types["new"]["precision"] == "double"
    arr = compute(ee, ee.Image(call(ee, "cat", [cast.select(["s", "B8"]), b4])))
    a = warp_band(item().band_path("B4"), GRID).astype(np.int64)
    b = warp_band(item().band_path("B8"), GRID).astype(np.int64)
    valid = (a != 0) & (b != 0)
    assert arr.dtype.names == ("s", "B8", "B4")
    np.testing.assert_array_equal(arr["s"][valid], np.trunc(a / 7.0)[valid])
    np.testing.assert_array_equal(arr["B8"][valid], np.clip(b, 0, 255)[valid])
    np.testing.assert_array_equal(arr["B4"][a != 0], a[a != 0])


def test_metadata_and_copy_properties(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).set({"gain": 2.5, "offset": -3, "label": "x"})
    other = ee.Image(1).set({"gain": 9, "kept": "yes"})
    copied = ee.Image(call(ee, "copyProperties", other, img, ["gain", "label"]))
    excluded = ee.Image(call(ee, "copyProperties", other, img, None, ["label"]))
    info = ee.List(
        [
            copied.get("gain"),
            copied.get("label"),
            copied.get("kept"),
            copied.bandNames(),
            excluded.get("label"),
            excluded.get("offset"),
            img.metadata("gain").bandNames(),
            img.metadata("offset", "o").bandNames(),
        ]
    ).getInfo()
    assert info == [2.5, "x", "yes", ["constant"], None, -3, ["gain"], ["o"]]
    arr = compute(ee, img.metadata("gain").addBands(img.metadata("offset", "o")), LONLAT_GRID)
    assert arr["gain"].dtype == np.float64
    assert np.all(arr["gain"] == 2.5) and np.all(arr["o"] == -3.0)


def test_metadata_of_a_text_property_is_a_clean_error(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).set("label", "x")
    with pytest.raises(ee.EEException, match="not a number"):
        compute(ee, img.metadata("label"), LONLAT_GRID)


def test_reduce_across_bands_skips_masked_bands(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select(S2_BANDS)
    # B8 masked where it is below 2000, so pixels reduce over 3 or 4 bands.
    partly = img.addBands(img.select("B8").updateMask(img.select("B8").gte(2000)), None, True)
    reduced = with_masks(
        ee,
        {
            "mean": partly.reduce(ee.Reducer.mean()),
            "max": partly.reduce(ee.Reducer.max()),
            "count": partly.reduce(ee.Reducer.count()),
            "p": partly.reduce(ee.Reducer.percentile([25])),
        },
    )
    names = partly.reduce(ee.Reducer.percentile([10, 90])).bandNames().getInfo()
    assert names == ["p10", "p90"]
    arr = compute(ee, reduced)
    stack = np.stack([warp_band(item().band_path(b), GRID).astype(np.float64) for b in S2_BANDS])
    valid = stack != 0
    valid[3] &= stack[3] >= 2000
    any_valid = valid.any(axis=0)
    assert any_valid.any() and not any_valid.all() and (valid.sum(axis=0) == 3).any()
    masked = np.where(valid, stack, np.nan)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        expected_mean = np.nanmean(masked, axis=0)
        expected_p25 = np.nanpercentile(masked, 25, axis=0)
    np.testing.assert_array_equal(arr["mean__m"] == 1, any_valid)
    np.testing.assert_allclose(arr["mean"][any_valid], expected_mean[any_valid], rtol=1e-12)
    np.testing.assert_array_equal(arr["max"][any_valid], np.nanmax(masked[:, any_valid], axis=0))
    np.testing.assert_array_equal(arr["count"], valid.sum(axis=0))
    np.testing.assert_allclose(arr["p"][any_valid], expected_p25[any_valid], rtol=1e-12)


def test_remap_with_and_without_default(ee_api) -> None:
    ee = ee_api
    # Classes of B4 (integer division by 200): mostly 1, some 0 and 2 .. 13.
    classes = ee.Image(item().image_id).select("B4").divide(200).int().rename("c")
    images = {
        "masked": classes.remap([0, 2, 3], [1, 2, 3]),
        "default": classes.remap([0, 2], [10, 20], 0),
        "float": classes.addBands(ee.Image(0)).remap([0], [0.5], None, "c"),
    }
    assert classes.remap([4], [1]).bandNames().getInfo() == ["remapped"]
    arr = compute(ee, with_masks(ee, images))
    b4 = warp_band(item().band_path("B4"), GRID).astype(np.int64)
    valid = b4 != 0
    s = b4 // 200
    lookup = {0: 1, 2: 2, 3: 3}
    hit = np.isin(s, list(lookup)) & valid
    assert hit.any() and (valid & ~hit).any()
    np.testing.assert_array_equal(arr["masked__m"] == 1, hit)
    np.testing.assert_array_equal(arr["masked"][hit], [lookup[v] for v in s[hit]])
    np.testing.assert_array_equal(arr["default__m"] == 1, valid)
    expected = np.select([s == 0, s == 2], [10, 20], 0)
    np.testing.assert_array_equal(arr["default"][valid], expected[valid])
    assert arr["float"].dtype == np.float64
    np.testing.assert_array_equal(arr["float"][valid & (s == 0)], 0.5)
    np.testing.assert_array_equal(arr["float__m"] == 1, valid & (s == 0))


def test_polynomial_and_interpolate(ee_api) -> None:
    ee = ee_api
    lon = ee.Image.pixelLonLat().select("longitude")
    xs, ys = [1.0, 2.0, 3.0], [10.0, 30.0, 20.0]
    images = {"poly": lon.polynomial([1.5, -2, 0.25, 1e-3])}
    for behavior in ("extrapolate", "clamp", "input", "mask"):
        images[behavior] = lon.interpolate(xs, ys, behavior)
    assert lon.interpolate(xs, ys).bandNames().getInfo() == ["longitude"]
    arr = compute(ee, with_masks(ee, images), LONLAT_GRID)
    x = longitudes(LONLAT_GRID)
    np.testing.assert_allclose(arr["poly"], 1.5 - 2 * x + 0.25 * x**2 + 1e-3 * x**3, rtol=1e-12)
    inside = np.interp(x, xs, ys)
    below, above = x < 1, x > 3
    assert below.any() and above.any()
    extrapolated = np.where(below, 10 + (x - 1) * 20, np.where(above, 20 - (x - 3) * 10, inside))
    np.testing.assert_allclose(arr["extrapolate"], extrapolated, rtol=1e-12)
    np.testing.assert_allclose(arr["clamp"], inside, rtol=1e-12)
    np.testing.assert_allclose(arr["input"], np.where(below | above, x, inside), rtol=1e-12)
    np.testing.assert_array_equal(arr["mask__m"] == 1, ~below & ~above)
    np.testing.assert_allclose(arr["mask"][~below & ~above], inside[~below & ~above], rtol=1e-12)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda ee, img: img.slice(5), "out of bounds"),
        (lambda ee, img: img.remap([1, 2], [1]), "differ in length"),
        (lambda ee, img: img.interpolate([2, 1], [0, 1]), "strictly increasing"),
        (lambda ee, img: img.interpolate([1, 2], [0, 1], "wrap"), "invalid behavior"),
        (lambda ee, img: img.cast({"B4": "complex"}), "Invalid pixel type"),
        (lambda ee, img: img.regexpRename("(", "x"), "Invalid regular expression"),
        (lambda ee, img: call(ee, "retile", img, 0), "size must be"),
    ],
)
def test_bad_arguments_are_clean_errors(ee_api, make, message: str) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select(S2_BANDS)
    with pytest.raises(ee.EEException, match=message):
        ee.Image(make(ee, img)).bandNames().getInfo()


def test_link_collection_adds_bands_and_properties_of_the_matching_image(ee_api) -> None:
    ee = ee_api
    it = item()
    collection = ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
    source = ee.Image(it.image_id).select("B4").set("note", "mine")
    image_props = ee.Image(it.image_id).propertyNames().getInfo()
    prop = next(p for p in image_props if not p.startswith("system:"))
    linked = source.linkCollection(collection, ["B8", "B4"], [prop])
    alone = ee.Image(1).set("system:index", "nothing-matches").set(prop, 1)
    unlinked = alone.linkCollection(collection, ["B8"], [prop])
    info = ee.List(
        [
            linked.bandNames(),
            linked.get(prop),
            ee.Image(it.image_id).get(prop),
            linked.get("note"),
            unlinked.bandNames(),
            unlinked.get(prop),
        ]
    ).getInfo()
    assert info[0] == ["B4", "B8"]
    assert info[1] == info[2] and info[1] is not None
    assert info[3] == "mine"
    assert info[4] == ["constant", "B8"] and info[5] is None
    arr = compute(ee, with_masks(ee, {"b8": linked.select("B8"), "none": unlinked.select("B8")}))
    b = warp_band(it.band_path("B8"), GRID)
    valid = b != 0
    np.testing.assert_array_equal(arr["b8__m"] == 1, valid)
    np.testing.assert_array_equal(arr["b8"][valid], b[valid])
    assert not arr["none__m"].any()
