"""Times of the halo recipes (ADR 0012) on 512x512 pixels of the demo tile, 256-pixel chunks.

PYTHONPATH=src python bench/halo_ops.py
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from affine import Affine

from openee.engine.chunks import materialize
from openee.raster.components import EIGHT, ComponentLabelBand, PixelCountBand
from openee.raster.distance import CumulativeCostBand, DistanceTransformBand, KernelDistanceBand
from openee.raster.grid import PixelGrid
from openee.raster.local import EntropyBand
from openee.raster.medial_axis import BANDS as MEDIAL_BANDS
from openee.raster.medial_axis import MedialAxisBand
from openee.raster.texture import METRICS, GlcmBand
from openee.values.kernel import Kernel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "raster"))
from test_raster_halo_ops import BRIGHT, LEVELS

GRID = PixelGrid("EPSG:32633", Affine(120.0, 0, 520_000.0, 0, -120.0, 5_080_000.0), 512, 512)
DIRECTIONS = ((-1, -1), (0, -1), (1, -1), (-1, 0))
CASES = {
    "fastDistanceTransform(256)": [DistanceTransformBand(BRIGHT, 256, "squared_euclidean")],
    "distance(euclidean 256)": [KernelDistanceBand(BRIGHT, Kernel("euclidean", radius=256))],
    "connectedComponents(256)": [ComponentLabelBand(LEVELS, EIGHT, 256)],
    "connectedPixelCount(100)": [PixelCountBand(LEVELS, 100, True)],
    "entropy(square 2)": [EntropyBand(LEVELS, Kernel("square", radius=2))],
    "glcmTexture() 18 bands": [GlcmBand(LEVELS, DIRECTIONS, 1, m) for m in METRICS],
    "cumulativeCost(5 km)": [CumulativeCostBand(LEVELS, BRIGHT, 5000.0)],
    "medialAxis(256) 4 bands": [MedialAxisBand(BRIGHT, 256, b) for b in MEDIAL_BANDS],
    "medialAxis(32) 4 bands": [MedialAxisBand(BRIGHT, 32, b) for b in MEDIAL_BANDS],
}


def main() -> None:
    with ThreadPoolExecutor(2) as pool:
        for name, sources in CASES.items():
            start = time.perf_counter()
            materialize(sources, GRID, pool, chunk_size=256)
            print(f"{name:32s} {time.perf_counter() - start:6.2f} s")


if __name__ == "__main__":
    main()
