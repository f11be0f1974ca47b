"""Image.rsedTransform's recipe against a brute-force upper envelope of parabolas, and chunks
against the whole."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.rsed import RsedBand
from openee.raster.sources import BandSource

GRID = PixelGrid("EPSG:3857", Affine(10.0, 0, 0.0, 0, -10.0, 0.0), 48, 40)


class Sparse(BandSource):
    """A few valued pixels on an infinite zero plane (row, col in the plane's pixel units)."""

    def __init__(self, cells: dict[tuple[int, int], float]) -> None:
        self.cells = cells

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        data = np.zeros(grid.shape)
        col0 = round(grid.transform.c / 10.0)
        row0 = round(-grid.transform.f / 10.0)
        for (r, c), v in self.cells.items():
            if 0 <= r - row0 < grid.height and 0 <= c - col0 < grid.width:
                data[r - row0, c - col0] = v
        return Pixels(data, np.ones(grid.shape, dtype=bool))


CELLS = {(5, 5): 30.0, (20, 30): 90.0, (38, 2): 12.5, (-3, 40): 50.0, (25, 25): -40.0}


def brute(neighborhood: int) -> np.ndarray:
    out = np.zeros(GRID.shape)
    for r in range(GRID.height):
        for c in range(GRID.width):
            for (qr, qc), v in CELLS.items():
                if v != 0 and abs(qr - r) <= neighborhood and abs(qc - c) <= neighborhood:
                    out[r, c] = max(out[r, c], v - (qr - r) ** 2 - (qc - c) ** 2)
    return out


@pytest.mark.parametrize("neighborhood", [3, 6, 256])
def test_matches_brute_force_and_chunks_agree(neighborhood) -> None:
    band = RsedBand(Sparse(CELLS), neighborhood)
    whole = band.read(GRID)
    assert whole.valid.all()
    np.testing.assert_array_equal(whole.data, brute(neighborhood))
    for row, col, chunk in GRID.chunks(16):
        part = band.read(chunk)
        h, w = chunk.shape
        np.testing.assert_array_equal(part.data, whole.data[row : row + h, col : col + w])
