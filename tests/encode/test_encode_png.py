"""encode/png.py and encode_png: PNGs decoded back by another reader (Pillow) give the pixels
written, transparent where masked."""

from __future__ import annotations

import io

import numpy as np
import pytest
from affine import Affine
from PIL import Image as PILImage

from openee.encode.formats import encode_png
from openee.encode.png import write_png
from openee.encode.raster import ComputedRaster
from openee.encode.visualize import Range, Visualization
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def decoded(png: bytes) -> PILImage.Image:
    image = PILImage.open(io.BytesIO(png))
    image.load()  # checks every chunk's CRC and the deflate stream
    return image


@pytest.mark.parametrize("samples", [1, 2, 3, 4])
@pytest.mark.parametrize(("height", "width"), [(256, 256), (1, 1), (7, 300)])
def test_written_pixels_are_read_back(samples: int, height: int, width: int) -> None:
    pixels = np.random.default_rng(samples).integers(0, 256, (height, width, samples), np.uint8)
    image = decoded(write_png(pixels))
    assert image.mode == MODES[samples]
    assert image.size == (width, height)
    np.testing.assert_array_equal(np.asarray(image).reshape(pixels.shape), pixels)


def test_only_bytes_are_written() -> None:
    with pytest.raises(ValueError, match="uint8"):
        write_png(np.zeros((4, 4, 3), np.uint16))


GRID = PixelGrid("EPSG:4326", Affine(1, 0, 0, 0, -1, 0), 256, 256)


def raster(*bands: np.ndarray, valid: np.ndarray) -> ComputedRaster:
    return ComputedRaster(
        [f"b{i}" for i in range(len(bands))], [Pixels(b, valid) for b in bands], GRID
    )


@pytest.mark.parametrize("count", [1, 3])
def test_visualized_bytes_keep_their_values_and_masks(count: int) -> None:
    # What a map tile of Image.visualize is: bytes, drawn as they are, transparent where masked.
    rng = np.random.default_rng(5)
    bands = [rng.integers(0, 256, (256, 256), np.uint8) for _ in range(count)]
    valid = rng.random((256, 256)) > 0.2
    image = decoded(encode_png(raster(*bands, valid=valid), Visualization()))
    assert image.mode == ("LA" if count == 1 else "RGBA")
    out = np.asarray(image)
    for i, band in enumerate(bands):
        np.testing.assert_array_equal(out[..., i], band)
    np.testing.assert_array_equal(out[..., -1], np.where(valid, 255, 0))


def test_stretched_floats_with_opacity() -> None:
    values = np.linspace(-10, 110, 256 * 256).reshape(256, 256)
    valid = np.ones((256, 256), bool)
    vis = Visualization(ranges=(Range(0, 100),), opacity=0.5)
    out = np.asarray(decoded(encode_png(raster(values, valid=valid), vis)))
    expected = np.rint(np.clip(values / 100, 0, 1) * 255)
    np.testing.assert_array_equal(out[..., 0], expected)
    assert (out[..., 1] == 128).all()  # round(255 * 0.5)
