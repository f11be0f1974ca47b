"""Xee 0.1.2 (`xr.open_dataset(..., engine='ee')`) against the live server.

What Xee does (xee/ext.py): one getInfo of [size, toDictionary, first, reduceColumns(toList
x2, ['system:id', 'system:time_start'])]; the `time` coordinate is the system:time_start list in
the collection's order; pixels come from computePixels (NPY) of
`ImageCollection(toList(..)).iterate(addBands)` unmasked to 2147483647, which Xee turns into NaN.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from affine import Affine
from oracle import Grid, select_items, warp_band

pytestmark = [
    pytest.mark.e2e,
    # xee 0.1.2 (ext.py, EarthEngineStore.project) composes transforms with `Affine * Affine`,
    # which affine >= 3.1 flags as pending deprecation. Not ours to fix.
    pytest.mark.filterwarnings(
        "ignore:Use `@` matmul instead of `\\*` mul operator:PendingDeprecationWarning"
    ),
]

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
LON, LAT = 15.9, 45.6
START, END = "2023-08-01", "2023-09-01"
# 64 x 48 px at 0.002 deg near the east edge of 33TWL, where the 13th and 18th (relative orbit
# R122) have an orbit-edge no-data wedge: the cube has both valid and masked pixels.
W, H = 64, 48
LON0, LAT0 = 16.14, 45.55
CRS_TRANSFORM = (0.002, 0.0, LON0, 0.0, -0.002, LAT0)
GRID = Grid("EPSG:4326", Affine(*CRS_TRANSFORM), W, H)
MIN_AGREEMENT = 0.995


# Fail fast instead of Xee's default 6 retries with exponential backoff (about 100 s).
GETITEM_KWARGS = {"max_retries": 1, "initial_delay": 100}


def _open(ee, **kwargs):
    collection = (
        ee.ImageCollection(COLLECTION)
        .filterBounds(ee.Geometry.Point([LON, LAT]))
        .filterDate(START, END)
        .select(["B4", "B8"])
    )
    return xr.open_dataset(
        collection,
        engine="ee",
        crs="EPSG:4326",
        crs_transform=CRS_TRANSFORM,
        shape_2d=(W, H),
        getitem_kwargs=GETITEM_KWARGS,
        **kwargs,
    )


@pytest.fixture(scope="module", params=["default-chunks", "one-image-per-request"])
def dataset(request, ee_api):
    """Xee's default chunking (all 5 dates in one request) and one date per request.

    With default chunks Xee stacks the dates with `addBands(img, ['B4'])` repeatedly, i.e. it
    relies on Earth Engine renaming duplicate band names (B4, B4_1, ...). One image per request
    avoids that and checks the pixel path on its own.
    """
    kwargs = {} if request.param == "default-chunks" else {"io_chunks": {"index": 1}}
    ds = _open(ee_api, **kwargs)
    yield ds
    ds.close()


def test_add_bands_renames_duplicates(ee_api):
    """What Xee's time stacking relies on (Image.addBands doc: `foo` -> `foo_1`, `foo_2`)."""
    ee = ee_api
    image = ee.Image(f"{COLLECTION}/S2A_33TWL_20230815_0_L2A").select(["B4"])
    stacked = image.addBands(image, ["B4"]).addBands(image, ["B4"])
    assert stacked.bandNames().getInfo() == ["B4", "B4_1", "B4_2"]


def test_dataset_structure(dataset):
    items = select_items(START, END, LON, LAT)
    assert set(dataset.data_vars) == {"B4", "B8"}
    assert dataset["B4"].dims == ("time", "y", "x")
    assert dataset["B4"].shape == (len(items), H, W)
    # Pixel-centre coordinates of the requested grid.
    np.testing.assert_allclose(dataset["x"].values, LON0 + 0.002 * (np.arange(W) + 0.5))
    np.testing.assert_allclose(dataset["y"].values, LAT0 - 0.002 * (np.arange(H) + 0.5))
    times_ms = dataset["time"].values.astype("datetime64[ms]").astype(np.int64)
    assert sorted(times_ms.tolist()) == sorted(it.time_start_ms for it in items)


@pytest.mark.parametrize("band", ["B4", "B8"])
def test_time_slices_match_oracle(dataset, band):
    items = {it.time_start_ms: it for it in select_items(START, END, LON, LAT)}
    values = dataset[band].values  # loads through computePixels
    assert values.dtype == np.float32
    times_ms = dataset["time"].values.astype("datetime64[ms]").astype(np.int64)
    saw_masked = False
    for index, t in enumerate(times_ms.tolist()):
        item = items[t]
        want = warp_band(item.band_path(band), GRID)
        got = values[index]
        valid = want != 0
        saw_masked |= bool((~valid).any())
        if valid.any():
            exact = got[valid] == want[valid].astype(np.float32)
            assert exact.mean() >= MIN_AGREEMENT, (
                f"{item.id} {band}: {int((~exact).sum())} of {int(valid.sum())} valid px differ"
            )
        if (~valid).any():
            nan = np.isnan(got[~valid])
            assert nan.mean() >= MIN_AGREEMENT, (
                f"{item.id} {band}: {int((~nan).sum())} masked px are not NaN, e.g. "
                f"{got[~valid][~nan][:5].tolist()}"
            )
        assert np.isnan(got[valid]).mean() <= 1 - MIN_AGREEMENT
    assert saw_masked, "the grid was meant to include the no-data wedge of the R122 dates"
