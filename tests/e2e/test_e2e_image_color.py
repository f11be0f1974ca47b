"""Image colour algorithms through the stock client: rgbToHsv and hsvToRgb against Python's
colorsys, blend against numpy on the oracle's warp, sldStyle against numpy's interpolation of
the SLD's entries, randomVisualizer by the properties a colour-per-value map must have."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
from oracle import Grid, load_items, warp_band

GRID = Grid.centered("EPSG:4326", 15.02, 45.6, 0.0015, 48, 32)  # the tile's west edge crosses it
LONLAT_GRID = Grid.centered("EPSG:4326", 2.0, 0.0, 0.1, 40, 2)  # longitudes 0.05 .. 3.95


def item():
    return next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)


def compute(ee, image, grid: Grid = LONLAT_GRID) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    return t.c + cols * t.a, t.f + rows * t.e


def rgb_image(ee):
    lonlat = ee.Image.pixelLonLat()
    lon, lat = lonlat.select("longitude"), lonlat.select("latitude")
    return ee.Image.cat(
        [lon.divide(4), lon.divide(-4).add(1).multiply(0.6), lat.multiply(5).add(0.5)]
    )


def test_rgb_to_hsv_and_back_match_colorsys(ee_api) -> None:
    ee = ee_api
    rgb = rgb_image(ee)
    hsv = rgb.rgbToHsv()
    assert hsv.bandNames().getInfo() == ["hue", "saturation", "value"]
    assert hsv.hsvToRgb().bandNames().getInfo() == ["red", "green", "blue"]
    shifted = ee.Image.cat(
        [hsv.select("hue").add(0.37).mod(1), hsv.select(["saturation", "value"])]
    )
    arr = compute(ee, hsv.addBands(shifted.hsvToRgb()))
    lon, lat = centres(LONLAT_GRID)
    r, g, b = lon / 4, (1 - lon / 4) * 0.6, lat * 5 + 0.5
    expected_hsv = np.vectorize(colorsys.rgb_to_hsv)(r, g, b)
    for name, want in zip(("hue", "saturation", "value"), expected_hsv, strict=True):
        np.testing.assert_allclose(arr[name], want, atol=1e-12, err_msg=name)
    h2 = np.fmod(expected_hsv[0] + 0.37, 1)
    expected_rgb = np.vectorize(colorsys.hsv_to_rgb)(h2, expected_hsv[1], expected_hsv[2])
    for name, want in zip(("red", "green", "blue"), expected_rgb, strict=True):
        np.testing.assert_allclose(arr[name], want, atol=1e-12, err_msg=name)


def test_blend_puts_the_top_image_where_it_is_unmasked(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    b4, b8 = img.select("B4"), img.select("B8")
    top = b8.updateMask(b8.gte(2500))
    blended = b4.blend(top)
    assert blended.bandNames().getInfo() == ["B4"]
    arr = compute(ee, blended.addBands(blended.mask().rename("m")), GRID)
    a = warp_band(item().band_path("B4"), GRID)
    b = warp_band(item().band_path("B8"), GRID)
    top_valid = (b != 0) & (b >= 2500)
    valid = (a != 0) | top_valid
    assert top_valid.any() and ((a != 0) & ~top_valid).any() and not valid.all()
    np.testing.assert_array_equal(arr["m"] == 1, valid)
    np.testing.assert_array_equal(arr["B4"][valid], np.where(top_valid, b, a)[valid])


SLD = """<RasterSymbolizer>
  <ChannelSelection><GrayChannel><SourceChannelName>{band}</SourceChannelName></GrayChannel>
  </ChannelSelection>
  <ColorMap type="{kind}" extended="false">
    <ColorMapEntry color="#ff0000" quantity="1" label="one"/>
    <ColorMapEntry color="#00ff80" quantity="2" opacity="1"/>
    <ColorMapEntry color="#0000ff" quantity="3"/>
  </ColorMap>
</RasterSymbolizer>"""

FULL_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc">
  <NamedLayer><Name>x</Name><UserStyle><FeatureTypeStyle><Rule>
{symbolizer}
  </Rule></FeatureTypeStyle></UserStyle></NamedLayer>
</StyledLayerDescriptor>"""


def test_sld_style_color_maps(ee_api) -> None:
    ee = ee_api
    lonlat = ee.Image.pixelLonLat()
    lon = lonlat.select("longitude")
    whole = lon.multiply(10).floor().divide(10)  # 0.0, 0.1, ... so that 1, 2, 3 occur exactly
    ramp = lonlat.sldStyle(
        FULL_DOCUMENT.format(symbolizer=SLD.format(band="longitude", kind="ramp"))
    )
    intervals = lonlat.sldStyle(SLD.format(band="1", kind="intervals"))
    values = whole.sldStyle(SLD.format(band="longitude", kind="values"))
    assert ramp.bandNames().getInfo() == ["vis-red", "vis-green", "vis-blue"]
    stacked = None
    for name, styled in {"ramp": ramp, "intervals": intervals, "values": values}.items():
        part = styled.rename([f"{name}_r", f"{name}_g", f"{name}_b"])
        part = part.addBands(styled.select(0).mask().rename(f"{name}_m"))
        stacked = part if stacked is None else stacked.addBands(part)
    arr = compute(ee, stacked)
    lon_v, _ = centres(LONLAT_GRID)
    q = [1.0, 2.0, 3.0]
    palette = np.array([[255, 0, 0], [0, 255, 128], [0, 0, 255]], dtype=np.float64)
    for i, ch in enumerate("rgb"):
        want = np.rint(np.interp(lon_v, q, palette[:, i]))
        np.testing.assert_array_equal(arr[f"ramp_{ch}"], want, err_msg=ch)
    assert np.all(arr["ramp_m"] == 1)
    # intervals: the colour of the first entry whose quantity exceeds the value; none past 3.
    index = np.searchsorted(q, lon_v, side="right")
    inside = index < 3
    np.testing.assert_array_equal(arr["intervals_m"] == 1, inside)
    for i, ch in enumerate("rgb"):
        np.testing.assert_array_equal(arr[f"intervals_{ch}"][inside], palette[index[inside], i])
    rounded = np.floor(lon_v * 10) / 10
    exact = np.isin(rounded, q)
    assert exact.sum() == 3 * LONLAT_GRID.height
    np.testing.assert_array_equal(arr["values_m"] == 1, exact)
    np.testing.assert_array_equal(
        arr["values_r"][exact], palette[rounded[exact].astype(int) - 1, 0]
    )


@pytest.mark.parametrize(
    ("sld", "message"),
    [
        ("<RasterSymbolizer>", "invalid XML"),
        ("<Rule/>", "exactly one RasterSymbolizer"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><RasterSymbolizer/>', "ENTITY"),
        ("<RasterSymbolizer/>", "no ColorMap"),
        ('<RasterSymbolizer><ColorMap type="wave"/></RasterSymbolizer>', "ColorMap type"),
        (SLD.format(band="B99", kind="ramp"), "no band 'B99'"),
    ],
)
def test_bad_sld_is_a_clean_error(ee_api, sld: str, message: str) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match=message):
        ee.Image.pixelLonLat().sldStyle(sld).bandNames().getInfo()


def test_random_visualizer_gives_each_value_one_colour(ee_api) -> None:
    ee = ee_api
    classes = ee.Image(item().image_id).select("B4").divide(300).int().rename("c")
    viz = classes.randomVisualizer()
    assert viz.bandNames().getInfo() == ["viz-red", "viz-green", "viz-blue", "c"]
    arr = compute(ee, viz.addBands(viz.select(0).mask().rename("m")), GRID)
    a = warp_band(item().band_path("B4"), GRID).astype(np.int64)
    valid = a != 0
    np.testing.assert_array_equal(arr["m"] == 1, valid)
    np.testing.assert_array_equal(arr["c"][valid], (a // 300)[valid])
    colour = (
        arr["viz-red"].astype(np.int64) << 16
        | arr["viz-green"].astype(np.int64) << 8
        | arr["viz-blue"].astype(np.int64)
    )
    classes_seen = np.unique(arr["c"][valid])
    assert len(classes_seen) >= 4
    colours = {}
    for value in classes_seen:
        here = np.unique(colour[valid & (arr["c"] == value)])
        assert len(here) == 1, f"value {value} has {len(here)} colours"
        colours[value] = here[0]
    assert len(set(colours.values())) == len(colours)


def test_colour_conversion_needs_three_bands(ee_api) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match="expected a 3-band image, got 2"):
        ee.Image([0.1, 0.2]).hsvToRgb().bandNames().getInfo()
