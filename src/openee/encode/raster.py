"""What encoders receive: named bands of pixels on a grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openee.encode.npy import NpyFile
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels, min_weight


@dataclass(frozen=True)
class ComputedRaster:
    names: list[str]
    bands: list[Pixels]
    grid: PixelGrid
    # Set when the bands' data already live in this NPY file, computed straight into it with
    # their masked pixels at 0 (engine/chunks.py fill_rows with zero_masked); the bands'
    # `valid` are then not kept (all False): the file's zeros are the mask.
    npy: NpyFile | None = None

    def all_valid(self) -> np.ndarray:
        """Pixels valid in every band."""
        valid = np.ones(self.grid.shape, dtype=bool)
        for b in self.bands:
            valid &= b.valid
        return valid

    def weight(self) -> np.ndarray | None:
        """Each pixel's least mask fraction over the bands (a visualized pixel has one alpha),
        or None when every valid pixel of every band is whole (docs/decisions/0055)."""
        return min_weight(*self.bands)
