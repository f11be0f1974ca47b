"""What encoders receive: named bands of pixels on a grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openee.encode.npy import NpyFile
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels


@dataclass(frozen=True)
class ComputedRaster:
    names: list[str]
    bands: list[Pixels]
    grid: PixelGrid
    # Set when the bands' data already live in this NPY file, computed straight into it with
    # their masked pixels at 0 (engine/chunks.py fill_rows with zero_masked).
    npy: NpyFile | None = None

    def all_valid(self) -> np.ndarray:
        """Pixels valid in every band."""
        valid = np.ones(self.grid.shape, dtype=bool)
        for b in self.bands:
            valid &= b.valid
        return valid
