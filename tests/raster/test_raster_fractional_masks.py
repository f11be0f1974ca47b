"""Fractional masks (Pixels.weight, ADR 0055) through the recipes that combine pixels, the
chunked assembly and the PNG alpha. Inputs are built with a weight directly (as a clip's edge
fraction will be); the oracle is numpy on the same arrays: the minimum of the inputs' fractions
for per-pixel operations, the taken pixel's for composites, "over" compositing for blend."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest
import shapely.geometry
from affine import Affine
from PIL import Image as PILImage

from openee.algorithms.image_visualize import VisualizedBand
from openee.encode.formats import encode_auto, encode_png
from openee.encode.raster import ComputedRaster
from openee.encode.visualize import Visualization
from openee.engine.chunks import materialize
from openee.raster.bandmath import BinaryBand, UnaryBand, WhereBand
from openee.raster.color import BlendBand, ColorMapBand, ColorSpaceBand
from openee.raster.grid import PixelGrid
from openee.raster.lookup import (
    INTERPOLATE_BEHAVIORS,
    InterpolatedBand,
    PolynomialBand,
    RemappedBand,
)
from openee.raster.paint import PaintedBand
from openee.raster.pixels import BoxedPixels, Pixels
from openee.raster.reproject import ReprojectedBand
from openee.raster.sources import (
    BandSource,
    CastBand,
    ClippedBand,
    ConstantBand,
    MaskedBand,
    MaskOfBand,
    MosaicBand,
    QualityMosaicBand,
    UnmaskedBand,
)

GRID = PixelGrid("EPSG:4326", Affine(0.01, 0, 10, 0, -0.01, 50), 40, 30)
RNG = np.random.default_rng(55)


@dataclass(frozen=True, eq=False)
class FixedBand(BandSource):
    """Fixed pixels on GRID: values, a validity and a weight (None: whole)."""

    values: np.ndarray
    valid: np.ndarray
    weight: np.ndarray | None = None

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    def read(self, grid: PixelGrid) -> Pixels:
        assert grid == GRID
        return Pixels(self.values, self.valid, weight=self.weight)


def fixed(
    values: float | np.ndarray, valid: float = 1.0, weight: np.ndarray | None = None
) -> FixedBand:
    data = np.broadcast_to(np.asarray(values, dtype=np.float64), GRID.shape).copy()
    return FixedBand(data, RNG.random(GRID.shape) < valid, weight)


def fractions(shape: tuple[int, int] = GRID.shape) -> np.ndarray:
    """Weights in (0, 1], some whole."""
    w = RNG.integers(1, 9, shape).astype(np.float32) / 8
    return w


def fraction_of(p: Pixels) -> np.ndarray:
    return np.where(p.valid, p.weight if p.weight is not None else 1.0, 0.0)


def test_no_fraction_costs_nothing() -> None:
    """Binary masks (integer mask bands, whole inputs) leave weight None everywhere."""
    a, b = fixed(3.0, 0.7), fixed(4.0, 0.7)
    mask = FixedBand(np.ones(GRID.shape, np.uint8), np.ones(GRID.shape, bool))
    for source in (
        BinaryBand("add", a, b),
        UnaryBand("sqrt", a),
        MaskedBand(a, mask),
        MaskedBand(a, ConstantBand(1.0, "float64")),
        MosaicBand((a, b)),
        QualityMosaicBand((a, b), (b, a)),
        UnmaskedBand(a, b, same_footprint=False),
        BlendBand(a, b),
    ):
        assert source.read(GRID).weight is None, type(source).__name__


def test_band_math_takes_the_minimum_of_the_inputs_fractions() -> None:
    wa, wb = fractions(), fractions()
    a, b = fixed(3.0, 0.9, wa), fixed(4.0, 0.9, wb)
    whole = fixed(2.0)
    both = BinaryBand("multiply", a, b).read(GRID)
    np.testing.assert_array_equal(both.valid, a.valid & b.valid)
    np.testing.assert_array_equal(
        fraction_of(both), np.where(a.valid & b.valid, np.minimum(wa, wb), 0)
    )
    one = BinaryBand("add", whole, a).read(GRID)
    np.testing.assert_array_equal(fraction_of(one), np.where(a.valid, wa, 0))
    for source in (UnaryBand("abs", a), CastBand(a, "int16")):
        np.testing.assert_array_equal(fraction_of(source.read(GRID)), np.where(a.valid, wa, 0))
    # Image.where: the pixel taken from `value` brings its fraction.
    test = FixedBand(RNG.integers(0, 2, GRID.shape).astype(np.uint8), np.ones(GRID.shape, bool))
    where = WhereBand(a, test, b).read(GRID)
    take = test.values != 0
    np.testing.assert_array_equal(where.weight, np.where(take, wb, wa))


def test_clip_keeps_the_inputs_fraction_and_band_math_carries_it() -> None:
    """A clip (whose edges will be fractional, ADR 0054) keeps its input's fraction, and band
    math of the clipped image carries it. The box's edges lie on pixel edges."""
    w = fractions()
    a = fixed(3.0, 0.9, w)
    box = shapely.geometry.box(10.1, 49.8, 10.3, 49.9)  # columns 10-29, rows 10-19
    clipped = ClippedBand(a, json.dumps(shapely.geometry.mapping(box)), "EPSG:4326")
    summed = BinaryBand("add", clipped, fixed(1.0)).read(GRID)
    inside = np.zeros(GRID.shape, bool)
    inside[10:20, 10:30] = True
    np.testing.assert_array_equal(summed.valid, a.valid & inside)
    np.testing.assert_array_equal(fraction_of(summed), np.where(a.valid & inside, w, 0))


def test_remap_and_polynomial_keep_the_fraction() -> None:
    w = fractions()
    a = FixedBand(
        RNG.integers(0, 3, GRID.shape).astype(np.float64), RNG.random(GRID.shape) < 0.9, w
    )
    remapped = RemappedBand(a, (0.0, 1.0), (10.0, 11.0), None, "float64").read(GRID)
    np.testing.assert_array_equal(fraction_of(remapped), np.where(remapped.valid, w, 0))
    assert (remapped.valid == (a.valid & (a.values < 2))).all()
    poly = PolynomialBand(a, (1.0, 2.0)).read(GRID)
    np.testing.assert_array_equal(fraction_of(poly), np.where(a.valid, w, 0))


def test_interpolate_colour_conversions_and_sld_style_keep_the_fraction() -> None:
    """Per-pixel recipes of one or three inputs: the input's fraction, the least of three."""
    ws = [fractions() for _ in range(3)]
    bands = [FixedBand(RNG.random(GRID.shape), RNG.random(GRID.shape) < 0.9, w) for w in ws]
    a = bands[0]
    for behavior in INTERPOLATE_BEHAVIORS:
        out = InterpolatedBand(a, (0.2, 0.8), (0.0, 10.0), behavior).read(GRID)
        np.testing.assert_array_equal(fraction_of(out), np.where(out.valid, ws[0], 0))
    styled = ColorMapBand(a, "ramp", (0.0, 1.0), ((0, 0, 0), (255, 255, 255)), (1.0, 1.0), 0)
    out = styled.read(GRID)
    np.testing.assert_array_equal(fraction_of(out), np.where(a.valid, ws[0], 0))
    valid = bands[0].valid & bands[1].valid & bands[2].valid
    for conversion in ("rgbToHsv", "hsvToRgb"):
        out = ColorSpaceBand((bands[0], bands[1], bands[2]), conversion, 1).read(GRID)
        np.testing.assert_array_equal(out.valid, valid)
        np.testing.assert_array_equal(fraction_of(out), np.where(valid, np.minimum.reduce(ws), 0))


@dataclass(frozen=True)
class ParityBand(BandSource):
    """A fraction of 0.25 on even global columns, whole on odd ones, on any grid of GRID's
    pixels (it is read on reproject's intermediate grid)."""

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        col0 = round((grid.transform.c - GRID.transform.c) / GRID.transform.a)
        cols = np.broadcast_to(col0 + np.arange(grid.width), grid.shape)
        weight = np.where(cols % 2 == 0, 0.25, 1.0).astype(np.float32)
        return Pixels(cols.astype(np.float64), np.ones(grid.shape, bool), weight=weight)


def test_reproject_moves_the_fraction_with_its_pixel() -> None:
    out = ReprojectedBand(ParityBand(), GRID.crs, tuple(GRID.transform)[:6]).read(GRID)
    cols = np.broadcast_to(np.arange(GRID.width), GRID.shape)
    np.testing.assert_array_equal(out.data, cols)
    assert out.valid.all()
    np.testing.assert_array_equal(out.weight, np.where(cols % 2 == 0, 0.25, 1.0))


def test_paint_makes_painted_pixels_whole_and_keeps_the_rest() -> None:
    w = fractions()
    a = fixed(3.0, 0.9, w)
    box = shapely.geometry.box(10.1, 49.8, 10.3, 49.9)  # columns 10-29, rows 10-19
    stroke = (json.dumps(shapely.geometry.mapping(box)), "EPSG:4326", 7.0, None)
    out = PaintedBand(a, (stroke,), "float64").read(GRID)
    inside = np.zeros(GRID.shape, bool)
    inside[10:20, 10:30] = True
    np.testing.assert_array_equal(out.valid, a.valid | inside)
    np.testing.assert_array_equal(fraction_of(out), np.where(inside, 1, np.where(a.valid, w, 0)))


def test_update_mask_with_a_fraction_and_mask_reads_it() -> None:
    wa = fractions()
    a = fixed(5.0, 0.8, wa)
    mask_values = RNG.choice([0.0, 0.25, 0.5, 1.0, 3.0], GRID.shape)
    mask = FixedBand(mask_values, np.ones(GRID.shape, bool))
    masked = MaskedBand(a, mask).read(GRID)
    valid = a.valid & (mask_values != 0)
    np.testing.assert_array_equal(masked.valid, valid)
    expected = np.where(valid, np.minimum(wa, np.clip(mask_values, 0, 1)), 0)
    np.testing.assert_array_equal(fraction_of(masked), expected)
    read_back = MaskOfBand(MaskedBand(a, mask)).read(GRID)
    assert read_back.data.dtype == np.float32 and read_back.valid.all()
    np.testing.assert_array_equal(read_back.data, expected.astype(np.float32))
    # selfMask: the value is the mask.
    self_masked = MaskedBand(mask, mask).read(GRID)
    np.testing.assert_array_equal(fraction_of(self_masked), np.clip(mask_values, 0, 1))


def test_unmask_keeps_partly_valid_pixels_and_fills_the_rest() -> None:
    wa = fractions()
    a = fixed(5.0, 0.5, wa)
    out = UnmaskedBand(a, ConstantBand(9.0, "float64"), same_footprint=False).read(GRID)
    assert out.valid.all()
    np.testing.assert_array_equal(out.data, np.where(a.valid, 5.0, 9.0))
    np.testing.assert_array_equal(out.weight, np.where(a.valid, wa, 1))


def test_mosaic_keeps_the_fraction_of_the_pixel_it_takes() -> None:
    wb, wt = fractions(), fractions()
    bottom, top = fixed(1.0, 0.8, wb), fixed(2.0, 0.5, wt)
    out = MosaicBand((bottom, top)).read(GRID)
    np.testing.assert_array_equal(
        out.data, np.where(top.valid, 2.0, np.where(bottom.valid, 1.0, 0))
    )
    taken = np.where(top.valid, wt, np.where(bottom.valid, wb, 0))
    np.testing.assert_array_equal(fraction_of(out), taken)
    # A whole top pixel over a fractional bottom is whole.
    whole_top = MosaicBand((bottom, fixed(2.0, 0.5))).read(GRID)
    assert whole_top.weight is not None
    np.testing.assert_array_equal(whole_top.weight[whole_top.valid & ~bottom.valid], 1)


def test_quality_mosaic_keeps_the_fraction_of_the_pixel_it_takes() -> None:
    w1, w2 = fractions(), fractions()
    first, second = fixed(1.0, 0.8, w1), fixed(2.0, 0.8, w2)
    q1, q2 = fixed(RNG.random(GRID.shape)), fixed(RNG.random(GRID.shape))
    out = QualityMosaicBand((first, second), (q1, q2)).read(GRID)
    second_wins = second.valid & (~first.valid | (q2.values >= q1.values))
    taken = np.where(second_wins, w2, np.where(first.valid, w1, 0))
    np.testing.assert_array_equal(fraction_of(out), taken)


def test_blend_is_over_compositing() -> None:
    a_top, a_bottom = fractions(), fractions()
    top = FixedBand(
        RNG.integers(0, 256, GRID.shape).astype(np.uint8), RNG.random(GRID.shape) < 0.7, a_top
    )
    bottom = FixedBand(
        RNG.integers(0, 256, GRID.shape).astype(np.uint8), RNG.random(GRID.shape) < 0.7, a_bottom
    )
    out = BlendBand(bottom, top).read(GRID)
    t = np.where(top.valid, a_top, 0).astype(np.float64)
    b = np.where(bottom.valid, a_bottom, 0).astype(np.float64)
    alpha = t + b * (1 - t)
    colour = (top.values * t + bottom.values * b * (1 - t)) / np.where(alpha > 0, alpha, 1)
    valid = alpha > 0
    assert out.data.dtype == np.uint8
    np.testing.assert_array_equal(out.valid, valid)
    np.testing.assert_array_equal(out.data[valid], np.floor(colour + 0.5)[valid])
    np.testing.assert_allclose(fraction_of(out), np.where(valid, alpha, 0), rtol=1e-6)


def test_boxed_pixels_keep_their_weight() -> None:
    w = fractions((4, 5))
    inner = Pixels(np.ones((4, 5)), np.ones((4, 5), bool), weight=w)
    boxed = BoxedPixels((10, 10), (slice(2, 6), slice(3, 8)), inner)
    full = boxed.full()
    assert full.weight is not None
    np.testing.assert_array_equal(full.weight[2:6, 3:8], w)
    assert not full.valid[:2].any()
    crop = boxed.within((slice(3, 5), slice(4, 6)))
    assert crop.weight is not None
    np.testing.assert_array_equal(crop.weight, w[1:3, 1:3])


@dataclass(frozen=True)
class ColumnBand(BandSource):
    """The global column number; a fraction only from column `start` on (chunks before it
    have none), so the assembly must create weights lazily and keep 1 elsewhere."""

    start: int

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        col0 = round((grid.transform.c - GRID.transform.c) / GRID.transform.a)
        cols = np.broadcast_to(col0 + np.arange(grid.width, dtype=np.float64), grid.shape)
        valid = np.ones(grid.shape, bool)
        if cols.max() < self.start:
            return Pixels(cols.copy(), valid)
        weight = np.where(cols >= self.start, 0.5, 1.0).astype(np.float32)
        return Pixels(cols.copy(), valid, weight=weight)


def test_chunks_assemble_the_weights() -> None:
    with ThreadPoolExecutor(2) as pool:
        [out] = materialize([ColumnBand(start=25)], GRID, pool, chunk_size=8)
    cols = np.broadcast_to(np.arange(GRID.width), GRID.shape)
    np.testing.assert_array_equal(out.data, cols)
    assert out.weight is not None
    np.testing.assert_array_equal(out.weight, np.where(cols >= 25, 0.5, 1.0))


@pytest.mark.parametrize("opacity", [1.0, 0.5])
def test_png_alpha_is_the_least_band_fraction_rounded(opacity: float) -> None:
    valid = RNG.random(GRID.shape) < 0.8
    w1, w2 = fractions(), fractions()
    bands = [
        Pixels(np.full(GRID.shape, 200, np.uint8), valid, weight=w1),
        Pixels(np.full(GRID.shape, 100, np.uint8), np.ones(GRID.shape, bool), weight=w2),
        Pixels(np.full(GRID.shape, 50, np.uint8), np.ones(GRID.shape, bool)),
    ]
    raster = ComputedRaster(["r", "g", "b"], bands, GRID)
    png = np.asarray(PILImage.open(io.BytesIO(encode_png(raster, Visualization(opacity=opacity)))))
    expected = np.where(valid, np.floor(np.minimum(w1, w2) * 255 * opacity + 0.5), 0)
    np.testing.assert_array_equal(png[..., 3], expected)
    np.testing.assert_array_equal(png[..., :3][valid], np.tile([200, 100, 50], (valid.sum(), 1)))
    half = Pixels(
        np.zeros(GRID.shape, np.uint8),
        np.ones(GRID.shape, bool),
        weight=np.full(GRID.shape, 0.5, np.float32),
    )
    grey = encode_png(ComputedRaster(["v"], [half], GRID), Visualization())
    assert (np.asarray(PILImage.open(io.BytesIO(grey)))[..., 1] == 128).all()  # 127.5 rounds up


def test_auto_format_keeps_partial_transparency_as_png() -> None:
    """AUTO_JPEG_PNG is a JPEG only when every pixel is opaque: a wholly valid image with a
    fraction (or an opacity) is a PNG with that alpha."""
    whole = Pixels(np.full(GRID.shape, 9, np.uint8), np.ones(GRID.shape, bool))
    half = Pixels(whole.data, whole.valid, weight=np.full(GRID.shape, 0.5, np.float32))
    assert encode_auto(ComputedRaster(["v"], [whole], GRID), Visualization()).startswith(
        b"\xff\xd8"
    )
    for band, vis in ((half, Visualization()), (whole, Visualization(opacity=0.5))):
        out = encode_auto(ComputedRaster(["v"], [band], GRID), vis)
        assert out.startswith(b"\x89PNG")
        assert (np.asarray(PILImage.open(io.BytesIO(out)))[..., 1] == 128).all()


def test_visualize_at_opacity_zero_masks() -> None:
    """A mask is 0 (masked) or more (ee.Image.updateMask): opacity 0 leaves no valid pixel
    of weight 0 for a count or a blend to take."""
    a = fixed(0.5, 1.0, fractions())
    for opacity, expected in ((0.0, np.zeros(GRID.shape, bool)), (0.5, a.valid)):
        out = VisualizedBand(a, 0.0, 1.0, opacity=opacity).read(GRID)
        np.testing.assert_array_equal(out.valid, expected)
        assert (fraction_of(out)[out.valid] > 0).all()
