"""The band recipe of Image.classify and Image.cluster: a trained classifier or clusterer applied
to each pixel's inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.values.classifier import Classifier
from openee.values.clusterer import Clusterer


@dataclass(frozen=True)
class ClassifiedBand(BandSource):
    """The classifier's (or clusterer's) output at each pixel whose inputs are all unmasked
    (masked elsewhere); `inputs` are the bands named by its schema, in its order."""

    classifier: Classifier | Clusterer
    inputs: tuple[BandSource, ...]
    dtype_name: str

    def read(self, grid: PixelGrid) -> Pixels:
        pixels = [source.read(grid) for source in self.inputs]
        valid = np.logical_and.reduce([p.valid for p in pixels])
        x = np.stack([p.data[valid].astype(np.float64) for p in pixels], axis=1)
        out = np.zeros(grid.shape, dtype=self.dtype)
        out[valid] = self.classifier.predict(x).astype(self.dtype)
        return Pixels(out, valid)
