"""Image.register through the stock client: the demo B4 band shifted by a known whole-pixel
offset is registered back to itself. Oracle: the band file's window read with rasterio (bicubic
interpolation at whole-pixel positions returns the samples themselves)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import rasterio.windows
from test_e2e_kernel import item

pytestmark = pytest.mark.e2e

CRS = "EPSG:32633"
COL0, ROW0, WIDTH, HEIGHT = 310, 420, 24, 18  # a window of the file's 120 m grid
X0 = 499_980.0 + 120.0 * COL0
Y1 = 5_100_000.0 - 120.0 * ROW0


def window() -> np.ndarray:
    with rasterio.open(item().band_path("B4")) as ds:
        return ds.read(1, window=rasterio.windows.Window(COL0, ROW0, WIDTH, HEIGHT))


def test_register_undoes_a_known_shift(ee_api) -> None:
    ee = ee_api
    ref = ee.Image(item().image_id).select("B4")
    moved = ref.translate(-120, 240)  # content 1 px west, 2 px north
    grid = {
        "dimensions": {"width": WIDTH, "height": HEIGHT},
        "affineTransform": {"scaleX": 120.0, "shearX": 0.0, "translateX": X0,
                            "shearY": 0.0, "scaleY": -120.0, "translateY": Y1},
        "crsCode": CRS,
    }  # fmt: skip
    got = ee.data.computePixels(
        {
            "expression": moved.register(ref, 360, 600).rename("r"),
            "fileFormat": "NUMPY_NDARRAY",
            "grid": grid,
        }
    )
    registered = np.asarray(got["r"], dtype=np.float64)
    reference = window().astype(np.float64)
    assert np.mean(np.isclose(registered, reference, atol=1e-6)) > 0.9
    # Unregistered, the shifted band differs almost everywhere.
    shifted = ee.data.computePixels(
        {"expression": moved.rename("m"), "fileFormat": "NUMPY_NDARRAY", "grid": grid}
    )
    assert np.mean(np.asarray(shifted["m"], dtype=np.float64) == reference) < 0.2


def test_register_needs_matching_bands(ee_api) -> None:
    ee = ee_api
    ref = ee.Image(item().image_id).select(["B4", "B3"])
    with pytest.raises(ee.EEException, match="same, non-zero number of bands"):
        ref.select("B4").register(ref, 360).getInfo()
