"""Composites of files computed in chunks, against reducing every output pixel's own samples.

Two shortcuts of the pixel engine (docs/decisions/0048) must not change a value or a mask:
- chunks carry file reads, composites and results only in the box of the chunk that a file
  covers (BoxedPixels): chunks on, beyond and inside the tile's edge;
- a composite of files on one source grid reduces the files' shared window and gathers the
  result once (SourceWindow), when the window has fewer pixels than the grid's box; otherwise
  it gathers each file first.
The oracle: every output centre transformed with pyproj to the source pixel that holds it, the
whole files read with rasterio, and numpy's masked reductions.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer

from openee.engine.chunks import materialize
from openee.raster import sources
from openee.raster.grid import PixelGrid
from openee.raster.sources import FileBand, MaskedBand, ReducedBand

DEMO = (
    Path(__file__).resolve().parents[2]
    / "src/openee/demo/data/sentinel2/l2a_33TWL_33TWM_2023-08_120m/sentinel-2-l2a"
)
FILES = sorted(DEMO.glob("S2*_33TWL_*/B04.tif"))  # the 5 August images of tile 33TWL


def deg(metres: float) -> float:
    return metres / 111319.49


GRIDS = {
    # ~70 x 100 m pixels over 120 m source pixels: the window is smaller than the box.
    "finer than the source, over the tile's corner": PixelGrid(
        "EPSG:4326", Affine(deg(100), 0, 16.25, 0, -deg(100), 45.35), 300, 260
    ),
    # 200 m pixels (the 240 m overview is too coarse): the window is larger than the box.
    "coarser than the source, over the tile's corner": PixelGrid(
        "EPSG:4326", Affine(deg(200), 0, 16.1, 0, -deg(200), 45.45), 200, 180
    ),
}
WINDOWED = {
    "finer than the source, over the tile's corner": True,
    "coarser than the source, over the tile's corner": False,
}
REDUCERS = {
    "median": lambda m: np.ma.median(m, axis=0),
    "mean": lambda m: m.mean(axis=0),
    "min": lambda m: m.min(axis=0),
    "max": lambda m: m.max(axis=0),
}


def samples(path: Path, grid: PixelGrid) -> np.ma.MaskedArray:
    """The file's pixel holding each output centre, masked outside the file and at nodata."""
    with rasterio.open(path) as src:
        values, transform, crs = src.read(1), src.transform, src.crs
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    xs, ys = t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
    xs, ys = Transformer.from_crs(grid.crs, crs, always_xy=True).transform(xs, ys)
    inverse = ~transform
    col = np.floor(inverse.a * xs + inverse.b * ys + inverse.c).astype(np.int64)
    row = np.floor(inverse.d * xs + inverse.e * ys + inverse.f).astype(np.int64)
    inside = (col >= 0) & (col < values.shape[1]) & (row >= 0) & (row < values.shape[0])
    sampled = values[np.clip(row, 0, values.shape[0] - 1), np.clip(col, 0, values.shape[1] - 1)]
    return np.ma.masked_array(sampled, ~inside | (sampled == 0))


@pytest.mark.parametrize("reducer", list(REDUCERS))
@pytest.mark.parametrize("name", list(GRIDS))
def test_composite_in_chunks_is_the_reduction_of_every_pixels_samples(
    name: str, reducer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(FILES) == 5
    grid = GRIDS[name]
    gathers: list[int] = []
    real = sources.gathered

    def counting(where, window):  # type: ignore[no-untyped-def]
        gathers.append(1)
        return real(where, window)

    monkeypatch.setattr(sources, "gathered", counting)
    band = ReducedBand(reducer, tuple(FileBand(str(p), 1, "uint16", 0.0) for p in FILES))
    with ThreadPoolExecutor(2) as executor:
        # 64-pixel chunks: wholly inside the tile, across its edges, and wholly outside.
        (pixels,) = materialize([band], grid, executor, chunk_size=64)
    expected = REDUCERS[reducer](np.ma.stack([samples(p, grid) for p in FILES]))
    expected_valid = ~np.ma.getmaskarray(expected)
    assert expected_valid.any() and not expected_valid.all()
    np.testing.assert_array_equal(pixels.valid, expected_valid)
    np.testing.assert_array_equal(pixels.data[expected_valid], expected.data[expected_valid])
    assert np.all(pixels.data[~expected_valid] == 0)
    assert bool(gathers) is WINDOWED[name]


def test_masked_composite_in_chunks_is_the_reduction_of_every_pixels_samples() -> None:
    """A composite of masked file reads (updateMask by another image's band, whose coverage
    differs) goes through the boxes of the masked reads (their meet) and of the composite."""
    grid = GRIDS["finer than the source, over the tile's corner"]
    masks = [p.with_name("B08.tif") for p in FILES[1:] + FILES[:1]]
    band = ReducedBand(
        "median",
        tuple(
            MaskedBand(FileBand(str(p), 1, "uint16", 0.0), FileBand(str(m), 1, "uint16", 0.0))
            for p, m in zip(FILES, masks, strict=True)
        ),
    )
    with ThreadPoolExecutor(2) as executor:
        (pixels,) = materialize([band], grid, executor, chunk_size=64)
    layers = []
    for p, m in zip(FILES, masks, strict=True):
        values, mask = samples(p, grid), samples(m, grid)
        layers.append(np.ma.masked_array(values.data, values.mask | mask.mask))
    expected = np.ma.median(np.ma.stack(layers), axis=0)
    expected_valid = ~np.ma.getmaskarray(expected)
    # The masks take samples away from the plain composite: the case tests the mask.
    plain = np.ma.stack([samples(p, grid) for p in FILES])
    assert np.ma.count(np.ma.stack(layers)) < np.ma.count(plain)
    assert expected_valid.any()
    np.testing.assert_array_equal(pixels.valid, expected_valid)
    np.testing.assert_array_equal(pixels.data[expected_valid], expected.data[expected_valid])
