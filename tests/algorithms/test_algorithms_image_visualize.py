"""Image.visualize and Image.clipToBoundsAndScale on in-memory images."""

from __future__ import annotations

import numpy as np
import pytest
import shapely.geometry
from affine import Affine

from openee.algorithms.image_visualize import (
    BoundsClippedBand,
    VisualizedBand,
    bounds_grid,
    clip_to_bounds_and_scale,
    has_bounds_grid,
    visualize,
)
from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.image import Band, Image
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.values.geometry import Geometry
from openee.values.projection import Projection

GRID = PixelGrid("EPSG:4326", Affine(1, 0, 0, 0, -1, 4), 4, 4)
VALUES = np.arange(16, dtype=np.float64).reshape(4, 4) * 100  # 0 .. 1500


class ArrayBand(BandSource):
    """A band with fixed values on GRID (masked where the value is 700)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    def read(self, grid: PixelGrid) -> Pixels:
        assert grid == GRID
        return Pixels(self.values, self.values != 700)


def image(*arrays: np.ndarray) -> Image:
    return Image(tuple(Band(f"b{i}", ArrayBand(a)) for i, a in enumerate(arrays)))


def pixels(img: Image) -> list[np.ndarray]:
    return [b.source.read(GRID).data for b in img.bands]


def test_min_max_stretch_and_gamma() -> None:
    out = visualize(image(VALUES, VALUES / 2, VALUES * 2), min_=0, max_=[1500, 750, 3000])
    assert [b.name for b in out.bands] == ["vis-red", "vis-green", "vis-blue"]
    assert all(b.source.dtype == np.uint8 for b in out.bands)
    expected = np.rint(VALUES / 1500 * 255)
    for channel in pixels(out):
        np.testing.assert_array_equal(channel, expected)
    g = visualize(image(VALUES), min_="0", max_="1500", gamma=2)
    np.testing.assert_array_equal(pixels(g)[0], np.rint((VALUES / 1500) ** 0.5 * 255))
    assert g.band_names == ["vis-gray"]
    assert not g.bands[0].source.read(GRID).valid[1, 3]  # 700 is masked


def test_gain_bias() -> None:
    out = visualize(image(VALUES), gain=0.1, bias=5)
    np.testing.assert_array_equal(pixels(out)[0], np.clip(np.rint(VALUES * 0.1 + 5), 0, 255))
    with pytest.raises(InvalidArgumentError):
        visualize(image(VALUES), gain=1, min_=0)


def test_palette_interpolates_and_force_rgb() -> None:
    out = visualize(image(VALUES), min_=0, max_=1500, palette=["000000", "ff0000", "#ffffff"])
    r, g, b = pixels(out)
    unit = VALUES / 1500
    np.testing.assert_array_equal(r, np.rint(np.interp(unit, [0, 0.5, 1], [0, 255, 255])))
    np.testing.assert_array_equal(g, np.rint(np.interp(unit, [0, 0.5, 1], [0, 0, 255])))
    np.testing.assert_array_equal(g, b)
    named = visualize(image(VALUES), min_=0, max_=1500, palette="black,red")
    np.testing.assert_array_equal(pixels(named)[0], np.rint(unit * 255))
    rgb = visualize(image(VALUES), min_=0, max_=1500, forceRgbOutput=True)
    assert rgb.band_names == ["vis-red", "vis-green", "vis-blue"]


def test_default_stretch_is_the_type_range() -> None:
    out = visualize(image(np.full((4, 4), 65535, dtype=np.uint16)))
    assert (pixels(out)[0] == 255).all()
    floats = visualize(image(np.full((4, 4), 0.5)))
    assert (pixels(floats)[0] == 128).all()


def test_band_choice_and_errors() -> None:
    three = image(VALUES, VALUES, VALUES, VALUES)
    assert len(visualize(three).bands) == 3
    assert len(visualize(three, bands="b3").bands) == 1
    with pytest.raises(InvalidArgumentError):
        visualize(image(VALUES, VALUES))
    with pytest.raises(InvalidArgumentError):
        visualize(three, bands=["b0", "b1"])
    with pytest.raises(InvalidArgumentError):
        visualize(three, bands=["b0", "b1", "b2"], palette=["red", "blue"])
    with pytest.raises(InvalidArgumentError):
        visualize(image(VALUES), min_=[0, 1])
    with pytest.raises(InvalidArgumentError):
        visualize(image(VALUES), palette=["nocolour"])
    with pytest.raises(InvalidArgumentError):
        visualize(image(VALUES), opacity=2)


def test_opacity_is_a_fraction_of_the_mask() -> None:
    """visualize(opacity=...) multiplies the mask ("the opacity of the image"): the pixels
    keep their colour and a mask of that fraction, which PNG alpha shows (ADR 0055)."""
    out = visualize(image(VALUES), opacity=0.5)
    assert isinstance(out.bands[0].source, VisualizedBand)
    pixels = out.bands[0].source.read(GRID)
    expected_valid = VALUES != 700
    np.testing.assert_array_equal(pixels.valid, expected_valid)
    np.testing.assert_array_equal(pixels.fraction(), np.where(expected_valid, 0.5, 0))
    assert visualize(image(VALUES)).bands[0].source.read(GRID).weight is None


def test_bounds_grid_sizes() -> None:
    wgs = Projection("EPSG:4326")
    bounds = (10.0, 40.0, 14.0, 42.0)
    assert bounds_grid(bounds, wgs, None, None, 256, None) == (
        (4 / 256, 0.0, 10.0, 0.0, -2 / 128, 42.0), 256, 128,
    )  # fmt: skip
    _, w, h = bounds_grid(bounds, wgs, 100, None, None, None)
    assert (w, h) == (100, 50)
    _, w, h = bounds_grid(bounds, wgs, None, 10, None, None)
    assert (w, h) == (20, 10)
    _, w, h = bounds_grid(bounds, wgs, 30, 7, None, None)
    assert (w, h) == (30, 7)
    utm = Projection("EPSG:32633", (120.0, 0.0, 499980.0, 0.0, -120.0, 5100000.0))
    transform, w, h = bounds_grid(
        (500000.0, 5000000.0, 510000.0, 5005000.0), utm, None, None, None, None
    )
    # The projection's own pixels, snapped to its grid, covering the bounds.
    assert transform == (120.0, 0.0, 499980.0, 0.0, -120.0, 5005080.0)
    assert (w, h) == (84, 43)
    transform, w, h = bounds_grid(
        (500000.0, 5000000.0, 510000.0, 5005000.0), utm, None, None, None, 240
    )
    assert transform[0] == 240.0 and (w, h) == (42, 22)
    with pytest.raises(InvalidArgumentError):
        bounds_grid(bounds, wgs, 0, None, None, None)


def test_clip_to_bounds_and_scale_sets_the_grid() -> None:
    img = Image((Band("b", ArrayBand(VALUES)),))
    geom = Geometry(shapely.geometry.box(1, 1, 3, 2))
    out = clip_to_bounds_and_scale(img, geom, maxDimension=20)
    band = out.bands[0]
    assert isinstance(band.source, BoundsClippedBand) and has_bounds_grid(out)
    assert band.dimensions == (20, 10)
    assert band.projection == Projection("EPSG:4326", (0.1, 0.0, 1.0, 0.0, -0.1, 2.0))
    assert has_bounds_grid(visualize(out, min_=0, max_=1))
    assert not has_bounds_grid(img)
    with pytest.raises(InvalidArgumentError):
        clip_to_bounds_and_scale(img)  # unbounded, and no geometry


WIDE = PixelGrid("EPSG:4326", Affine(1, 0, 0, 0, -1, 64), 64, 64)


class WideBand(BandSource):
    """Fixed integer values on WIDE, none masked."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    def read(self, grid: PixelGrid) -> Pixels:
        return Pixels(self.values, np.ones(self.values.shape, bool))


@pytest.mark.parametrize(
    ("dtype", "low", "high", "vis_min", "vis_max", "gamma"),
    [
        (np.uint8, 0, 256, 10, 200, 1.0),
        (np.uint16, 0, 5000, 0, 3000, 1.0),  # a reflectance band: looked up
        (np.uint16, 0, 5000, 0, 3000, 1.7),
        (np.int16, -3000, 3000, -1000, 2500, 1.0),  # negative values
        (np.int32, -(2**30), 2**30, 0, 1e9, 1.0),  # more levels than pixels: computed
        (np.float32, -1, 2, 0.0, 1.0, 1.0),
    ],
)
@pytest.mark.parametrize("palette", [None, ["000004", "51127c", "b73779", "fc8961", "fcfdbf"]])
def test_integer_bands_visualize_as_the_formula_says(
    dtype: type, low: int, high: int, vis_min: float, vis_max: float, gamma: float, palette: object
) -> None:
    rng = np.random.default_rng(3)
    if np.dtype(dtype).kind == "f":
        values = rng.uniform(low, high, (64, 64)).astype(dtype)
    else:
        values = rng.integers(low, high, (64, 64), dtype=dtype)
    out = visualize(
        Image((Band("b", WideBand(values)),)),
        min_=vis_min,
        max_=vis_max,
        gamma=gamma,
        palette=palette,
    )
    # Earth Engine's rule, in float64 on each value: stretch, clamp, gamma; then 0-255 or the
    # palette's colours spread evenly over [0, 1], linear in between; rounded.
    unit = np.clip((values.astype(np.float64) - vis_min) / (vis_max - vis_min), 0, 1) ** (1 / gamma)
    if palette is None:
        expected = [np.rint(unit * 255)]
    else:
        rgb = np.array([[int(c[i : i + 2], 16) for i in (0, 2, 4)] for c in palette], float)
        stops = np.linspace(0, 1, len(palette))
        expected = [np.rint(np.interp(unit, stops, rgb[:, c])) for c in range(3)]
    got = [b.source.read(WIDE).data for b in out.bands]
    assert len(got) == len(expected)
    for channel, want in zip(got, expected, strict=True):
        assert channel.dtype == np.uint8
        np.testing.assert_array_equal(channel, want.astype(np.uint8))
