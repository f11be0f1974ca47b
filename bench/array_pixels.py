"""Time ImageCollection.toArray and arrayReduce(mean) of cloud-masked B4/B8 over the five 33TWM demo
scenes on a 512 x 512 grid, at the raster level (no HTTP). Run from the repository root:
PYTHONPATH=src python bench/array_pixels.py
"""

import sys
import time

sys.path.insert(0, "tests/e2e")
import numpy as np
from affine import Affine
from oracle import load_items

from openee.raster.array_bands import ArrayOpBand, CollectionArrayBand
from openee.raster.bandmath import BinaryBand
from openee.raster.grid import PixelGrid
from openee.raster.sources import ConstantBand, FileBand, MaskedBand

items = sorted((i for i in load_items() if "33TWM" in i.id), key=lambda i: i.time_start_ms)


def band(i, b):
    return FileBand(str(i.band_path(b)), 1, "uint16", 0.0)


def clear(i, b):
    return MaskedBand(band(i, b), BinaryBand("lt", band(i, "B4"), ConstantBand(5000.0, "float64")))


table = CollectionArrayBand(tuple((clear(i, "B4"), clear(i, "B8")) for i in items))
mean = ArrayOpBand("reduce", (table,), (("mean",), (0,), 0))
grid = PixelGrid(
    "EPSG:32633", Affine(120, 0, 499980 + 120 * 100, 0, -120, 5200020 - 120 * 100), 512, 512
)
for name, src in (
    ("read 5x2 bands", None),
    ("toArray", table),
    ("toArray+arrayReduce(mean)", mean),
):
    best = 1e9
    for _ in range(3):
        t = time.perf_counter()
        if src is None:
            [b.read(grid) for i in items for b in (band(i, "B4"), band(i, "B8"))]
        else:
            p = src.read(grid)
        best = min(best, time.perf_counter() - t)
    print(f"{name}: {best * 1000:.0f} ms")
print("lengths:", np.unique(table.read(grid).lengths[..., 0], return_counts=True))
