"""ImageCollection.cast, merge, combine, toBands and getRegion through the stock client, on the
demo Sentinel-2 scenes. Oracles: the catalog's item list (ids, times) and rasterio reads of the
band files at the pixel centres of a small region."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import rasterio
from oracle import load_items
from shapely.geometry import box

pytestmark = pytest.mark.e2e

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
TILE = "33TWM"
# Rows 520-522, columns 170-173 of the native 120 m grid: the box's edges run a quarter pixel
# inside the block's outer pixel edges, so exactly those 12 pixel centres are in it.
ROW0, COL0 = 520, 170
NATIVE = [120, 0, 499980, 0, -120, 5200020]
BLOCK = box(499980 + 120 * COL0 + 30, 5200020 - 120 * (ROW0 + 3) + 30,
            499980 + 120 * (COL0 + 4) - 30, 5200020 - 120 * ROW0 - 30)  # fmt: skip


def scenes():
    return sorted((i for i in load_items() if TILE in i.id), key=lambda i: i.time_start_ms)


def tile_collection(ee):
    return (
        ee.ImageCollection(COLLECTION)
        .filter(ee.Filter.stringContains("system:index", TILE))
        .sort("system:time_start")
    )


def block_geometry(ee):
    return ee.Geometry.Polygon([list(map(list, BLOCK.exterior.coords))], "EPSG:32633", False)


def test_merge_and_to_bands(ee_api) -> None:
    ee = ee_api
    items = scenes()
    first, second = tile_collection(ee).limit(2), tile_collection(ee).limit(1)
    merged = first.merge(second)
    got = ee.Dictionary(
        {
            "ids": merged.aggregate_array("system:index"),
            "bands": merged.select(["B4", "B8"]).toBands().bandNames(),
        }
    ).getInfo()
    want = [f"1_{items[0].id}", f"1_{items[1].id}", f"2_{items[0].id}"]
    assert got["ids"] == want
    assert got["bands"] == [f"{i}_{b}" for i in want for b in ("B4", "B8")]


def test_to_bands_values(ee_api) -> None:
    """Each stacked band holds its own image's pixels."""
    ee = ee_api
    items = scenes()[:2]
    stacked = tile_collection(ee).limit(2).select("B4").toBands()
    got = stacked.reduceRegion(ee.Reducer.first(), block_geometry(ee), 120).getInfo()
    for item in items:
        assert got[f"{item.id}_B4"] == _block(item, "B4")[0, 0]


def test_cast(ee_api) -> None:
    ee = ee_api
    cast = tile_collection(ee).limit(1).cast({"B4": "float", "B8": "int8"}, ["B8", "B4"])
    bands = cast.first().getInfo()["bands"]
    assert [b["id"] for b in bands] == ["B8", "B4"]
    assert bands[0]["data_type"] == {"type": "PixelType", "precision": "int", "min": -128,
                                     "max": 127}  # fmt: skip
    assert bands[1]["data_type"] == {"type": "PixelType", "precision": "float"}
    # Values beyond int8 saturate at 127.
    got = cast.first().reduceRegion(ee.Reducer.max(), block_geometry(ee), 120).getInfo()
    b8 = _block(scenes()[0], "B8")
    assert got["B8"] == min(127, int(b8.max()))
    with pytest.raises(ee.EEException, match="invalid type"):
        tile_collection(ee).cast({"B4": "complex"}, ["B4"]).first().getInfo()


def test_combine(ee_api) -> None:
    ee = ee_api
    items = scenes()
    col = tile_collection(ee)
    primary = col.select(["B4", "B8"]).limit(2)
    secondary = col.select(["B8", "SCL"], ["B8", "class"]).limit(3)
    got = ee.Dictionary(
        {
            "keep": primary.combine(secondary).first().bandNames(),
            "size": primary.combine(secondary).size(),
            "ids": primary.combine(secondary).aggregate_array("system:index"),
            "over": primary.combine(col.select(["B2"], ["B8"]).limit(2), True).first().bandNames(),
            "none": primary.combine(col.limit(1).merge(col.limit(1))).size(),
        }
    ).getInfo()
    assert got["keep"] == ["B4", "B8", "class"]
    assert got["size"] == 2
    assert got["ids"] == [items[0].id, items[1].id]
    assert got["over"] == ["B4", "B8"]
    assert got["none"] == 0  # merged ids are prefixed, so nothing matches
    # With overwrite, B8 now holds B2's pixels.
    combined = primary.combine(col.select(["B2"], ["B8"]).limit(2), True).first()
    value = combined.reduceRegion(ee.Reducer.first(), block_geometry(ee), 120).getInfo()["B8"]
    assert value == _block(items[0], "B2")[0, 0]


def test_get_region(ee_api) -> None:
    ee = ee_api
    items = scenes()[:2]
    table = (
        tile_collection(ee)
        .limit(2)
        .select(["B4", "SCL"])
        .getRegion(block_geometry(ee), None, "EPSG:32633", NATIVE)
        .getInfo()
    )
    assert table[0] == ["id", "longitude", "latitude", "time", "B4", "SCL"]
    rows = table[1:]
    assert len(rows) == 2 * 12
    to_wgs84 = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    xs = 499980 + 120 * (np.arange(COL0, COL0 + 4) + 0.5)
    ys = 5200020 - 120 * (np.arange(ROW0, ROW0 + 3) + 0.5)
    want = []
    for item in items:
        b4, scl = _block(item, "B4"), _block(item, "SCL")
        for r, y in enumerate(ys):
            for c, x in enumerate(xs):
                lon, lat = to_wgs84.transform(x, y)
                value = int(b4[r, c]) if b4[r, c] != 0 else None
                label = int(scl[r, c]) if scl[r, c] != 0 else None
                want.append([item.id, lon, lat, item.time_start_ms, value, label])
    assert [r[0] for r in rows] == [w[0] for w in want]
    assert [r[3:] for r in rows] == [w[3:] for w in want]
    assert np.allclose([r[1:3] for r in rows], [w[1:3] for w in want], atol=1e-9)


def _block(item, band: str) -> np.ndarray:
    """The 3 x 4 native pixels of BLOCK."""
    with rasterio.open(item.band_path(band)) as src:
        return src.read(1, window=((ROW0, ROW0 + 3), (COL0, COL0 + 4)))


def test_get_region_default_projection_at_a_scale(ee_api) -> None:
    """Without crs, a scale puts the pixels on WGS84's grid at that many metres per pixel: pixel
    centres one (scale / metres per degree at the equator) degree apart, at odd multiples of
    half of it."""
    ee = ee_api
    scale = 60.0
    step = scale / (2 * np.pi * 6378137.0 / 360)
    table = tile_collection(ee).limit(1).select("B4").getRegion(block_geometry(ee), scale)
    rows = table.getInfo()[1:]
    lons = sorted({round(r[1], 10) for r in rows})
    lats = sorted({round(r[2], 10) for r in rows})
    assert len(rows) == len(lons) * len(lats) >= 4
    assert np.allclose(np.diff(lons), step, rtol=1e-9)
    assert np.allclose(np.diff(lats), step, rtol=1e-9)
    assert np.allclose(np.asarray(lons) / step % 1, 0.5, atol=1e-6)
