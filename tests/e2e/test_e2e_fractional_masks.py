"""Fractional masks through the stock client (ADR 0055): a mask between 0 and 1 set by
updateMask, selfMask, visualize(opacity) or a styled colour's alpha is kept, read back by
mask(), carried through band math as the minimum of the inputs' masks, and used as opacity by
blend. Oracles: the values Earth Engine's docs give ("New mask for the image, as a
floating-point value in the range [0, 1]", ee.Image.updateMask; "'FF000088' for 50% transparent
red", ee.FeatureCollection.style) and the alpha-compositing formula in numpy."""

from __future__ import annotations

import numpy as np
import pytest
from oracle import Grid

GRID = Grid.centered("EPSG:4326", 2.0, 0.0, 0.1, 40, 2)  # longitudes 0.05 .. 3.95


def compute(ee, image) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": GRID.to_pixel_grid()}
    )


def over(top: np.ndarray, a_top: float, bottom: np.ndarray, a_bottom: float):
    """Porter-Duff "over": the composite colour and opacity."""
    alpha = a_top + a_bottom * (1 - a_top)
    return (top * a_top + bottom * a_bottom * (1 - a_top)) / alpha, alpha


def test_update_mask_keeps_the_fraction_and_mask_reads_it(ee_api) -> None:
    ee = ee_api
    half = ee.Image.constant(7).updateMask(ee.Image.constant(0.5))
    image = ee.Image.cat(
        [
            half.rename("v"),
            half.mask().rename("m"),
            half.updateMask(ee.Image.constant(0.8)).mask().rename("min"),
            half.mask().eq(0.5).rename("eq"),
            ee.Image.constant(0.25).selfMask().mask().rename("self"),
            half.unmask(9).rename("kept"),
            half.unmask(9).mask().rename("kept_m"),
        ]
    )
    arr = compute(ee, image)
    assert (arr["v"] == 7).all()
    np.testing.assert_allclose(arr["m"], 0.5)
    np.testing.assert_allclose(arr["min"], 0.5)  # the lesser of 0.5 and 0.8
    assert (arr["eq"] == 1).all()
    np.testing.assert_allclose(arr["self"], 0.25)
    # unmask replaces only where the mask is zero: a half-valid pixel keeps value and mask.
    assert (arr["kept"] == 7).all()
    np.testing.assert_allclose(arr["kept_m"], 0.5)


def test_band_math_mask_is_the_minimum_of_the_inputs(ee_api) -> None:
    ee = ee_api
    half = ee.Image.constant(3).updateMask(0.5)
    whole = ee.Image.constant(4)
    quarter = ee.Image.constant(2).updateMask(0.25)
    image = ee.Image.cat(
        [
            half.add(whole).rename("sum"),
            half.add(whole).mask().rename("sum_m"),
            whole.multiply(half).mask().rename("product_m"),
            half.add(quarter).mask().rename("both_m"),
            half.sqrt().mask().rename("unary_m"),
            half.toInt16().mask().rename("cast_m"),
        ]
    )
    arr = compute(ee, image)
    assert (arr["sum"] == 7).all()
    for name, want in (("sum_m", 0.5), ("product_m", 0.5), ("both_m", 0.25)):
        np.testing.assert_allclose(arr[name], want, err_msg=name)
    np.testing.assert_allclose(arr["unary_m"], 0.5)
    np.testing.assert_allclose(arr["cast_m"], 0.5)


@pytest.mark.parametrize("a_bottom", [1.0, 0.5])
def test_blend_composites_with_the_masks_as_opacity(ee_api, a_bottom: float) -> None:
    ee = ee_api
    red = ee.Image.constant([255, 0, 0]).updateMask(0.5)
    blue = ee.Image.constant([0, 0, 255]).updateMask(a_bottom)
    blended = blue.blend(red)
    arr = compute(ee, blended.addBands(blended.select(0).mask().rename("m")))
    colour, alpha = over(np.array([255, 0, 0.0]), 0.5, np.array([0, 0, 255.0]), a_bottom)
    names = blended.bandNames().getInfo()
    for name, want in zip(names, np.floor(colour + 0.5), strict=True):
        assert (arr[name] == want).all(), (name, np.unique(arr[name]), want)
    np.testing.assert_allclose(arr["m"], alpha)


def test_visualize_opacity_blends_as_an_overlay(ee_api) -> None:
    """The dulling layer of the animation guide (image_collections10.js): a grey at opacity
    0.6 blended over an opaque visualization."""
    ee = ee_api
    base = ee.Image.constant([30, 60, 200]).visualize(min=0, max=255)
    dull = ee.Image.constant(175).visualize(opacity=0.6, min=0, max=255, forceRgbOutput=True)
    blended = base.blend(dull)
    arr = compute(ee, blended.addBands(dull.select(0).mask().rename("dull_m")))
    np.testing.assert_allclose(arr["dull_m"], 0.6, rtol=1e-6)
    colour, alpha = over(np.full(3, 175.0), 0.6, np.array([30, 60, 200.0]), 1.0)
    assert alpha == 1
    for name, want in zip(
        ("vis-red", "vis-green", "vis-blue"), np.floor(colour + 0.5), strict=True
    ):
        assert (arr[name] == want).all(), name


def test_style_colour_alpha_is_the_mask_fraction(ee_api) -> None:
    ee = ee_api
    square = ee.Geometry.Rectangle([0.5, -0.5, 3.5, 0.5], None, False)
    fc = ee.FeatureCollection([ee.Feature(square)])
    styled = fc.style(color="0000FF", fillColor="FF000080", width=0)
    default = fc.style(color="00FF00", width=0)
    image = styled.addBands(styled.select(0).mask().rename("m")).addBands(
        default.select(1).mask().rename("default_m")
    )
    arr = compute(ee, image)
    lon = 0.05 + 0.1 * np.arange(40)
    inside = (lon > 0.5) & (lon < 3.5)
    assert (arr["vis-red"][:, inside] == 255).all()
    assert (arr["vis-green"][:, inside] == 0).all() and (arr["vis-blue"][:, inside] == 0).all()
    np.testing.assert_allclose(arr["m"][:, inside], 0x80 / 255, rtol=1e-6)
    assert (arr["m"][:, ~inside] == 0).all()
    # An unset fillColor is "the 'color' at 0.66 opacity" (ee.FeatureCollection.style).
    np.testing.assert_allclose(arr["default_m"][:, inside], 0.66, rtol=1e-6)
