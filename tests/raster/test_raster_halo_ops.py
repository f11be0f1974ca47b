"""Halo recipes in process: a grid read in small chunks equals the grid read whole, for every
recipe whose result depends on a neighbourhood (distances, objects, local operations)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from openee.engine.chunks import materialize
from openee.raster.components import (
    EIGHT,
    ComponentLabelBand,
    ComponentReduceBand,
    PixelCountBand,
)
from openee.raster.distance import (
    CumulativeCostBand,
    DirectionalDistanceBand,
    DistanceTransformBand,
    KernelDistanceBand,
)
from openee.raster.grid import PixelGrid
from openee.raster.local import DifferenceBand, EntropyBand, OffsetBand, ZeroCrossingBand
from openee.raster.medial_axis import MedialAxisBand
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource, FileBand
from openee.raster.texture import GlcmBand
from openee.values.kernel import Kernel

DEMO = Path(__file__).resolve().parents[2] / "src/openee/demo/data/sentinel2"
B04 = next(DEMO.rglob("S2A_33TWL_20230815_0_L2A/B04.tif"))
BAND = FileBand(str(B04), 1, "uint16", 0.0)
GRID = PixelGrid("EPSG:32633", Affine(120.0, 0, 498_000.0, 0, -120.0, 5_050_000.0), 90, 70)


@dataclass(frozen=True)
class Threshold(BandSource):
    """1 where the band exceeds `level`, else 0 (masked where the band is)."""

    input: BandSource
    level: float

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8)

    def read(self, grid: PixelGrid) -> Pixels:
        p = self.input.read(grid)
        return Pixels((p.data > self.level).astype(np.uint8), p.valid)


@dataclass(frozen=True)
class Quantized(BandSource):
    """The band divided by `step`, rounded down: a few distinct values."""

    input: BandSource
    step: float

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.int32)

    def read(self, grid: PixelGrid) -> Pixels:
        p = self.input.read(grid)
        return Pixels((p.data // self.step).astype(np.int32), p.valid)


BRIGHT = Threshold(BAND, 450)
LEVELS = Quantized(BAND, 150)

RECIPES = {
    "derivative": DifferenceBand(BAND, "y"),
    "gradient": DifferenceBand(BAND, "x", per_metre=True),
    "zero_crossing": ZeroCrossingBand(DifferenceBand(BAND, "x")),
    "offset": OffsetBand(BAND, -2, 1),
    "entropy": EntropyBand(LEVELS, Kernel("square", radius=2)),
    "distance": KernelDistanceBand(BRIGHT, Kernel("euclidean", radius=6)),
    "distance_fixed": KernelDistanceBand(BRIGHT, Kernel("diamond", radius=3)),
    "fdt": DistanceTransformBand(BRIGHT, 9, "squared_euclidean"),
    "directional": DirectionalDistanceBand(BRIGHT, 30.0, 12),
    "labels": ComponentLabelBand(LEVELS, EIGHT, 12),
    "pixel_count": PixelCountBand(LEVELS, 20, False),
    "reduce_components": ComponentReduceBand(LEVELS, BAND, "mean", 15),
    "cumulative_cost": CumulativeCostBand(LEVELS, BRIGHT, 1500.0),
    "glcm_contrast": GlcmBand(LEVELS, ((-1, -1), (0, -1), (1, -1), (-1, 0)), 1, "contrast"),
    "glcm_imcorr1": GlcmBand(LEVELS, ((2, 0),), 2, "imcorr1", 0),
    **{f"medial_{b}": MedialAxisBand(BRIGHT, 9, b) for b in ("medial", "coverage", "xlabel")},
    "medial_ylabel": MedialAxisBand(BRIGHT, 9, "ylabel"),
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_chunked_equals_whole(name: str) -> None:
    source = RECIPES[name]
    whole = source.read(GRID)
    with ThreadPoolExecutor(2) as pool:
        chunked = materialize([source], GRID, pool, chunk_size=16)[0]
    assert whole.valid.any(), name
    np.testing.assert_array_equal(chunked.valid, whole.valid, err_msg=name)
    if name == "cumulative_cost":
        # Paths are searched in each chunk's window only; equal where the window holds them.
        close = np.isclose(chunked.data, whole.data, rtol=1e-9)
        assert close[whole.valid].mean() > 0.99
    else:
        np.testing.assert_allclose(chunked.data, whole.data, rtol=1e-12, err_msg=name)
