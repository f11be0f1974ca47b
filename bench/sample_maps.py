"""Time the sample maps of the computePixels benchmark's grids (EPSG:4326, 100 m, centred at
bench_common's point) over the demo's 120 m UTM 33N files: one fresh map per chunk of the
2048² request (four 1024² chunks, three of them partly outside the tile) and of the 640² one,
each grid shifted by a fraction of a pixel per run as the benchmark's "new grid" is. CPU time of
this process, median of 15 runs; the process uses openee serve's allocator settings. Run from the
repository root: PYTHONPATH=src python bench/sample_maps.py
"""

from __future__ import annotations

import statistics
import time

import rasterio
from bench_common import DEMO_CATALOG_DIR, Grid, band_paths

from openee.engine.allocator import tune_allocator
from openee.raster import sampling
from openee.raster.grid import PixelGrid

RUNS = 15
SHIFT = 0.37  # pixels, as compute_pixels.py's NEW_GRID_SHIFT
CHUNK = 1024  # Settings.chunk_size's default


def chunks(grid: Grid) -> list[PixelGrid]:
    t = grid.transform
    return [
        PixelGrid(
            grid.crs,
            t * t.translation(col, row),
            min(CHUNK, grid.width - col),
            min(CHUNK, grid.height - row),
        )
        for row in range(0, grid.height, CHUNK)
        for col in range(0, grid.width, CHUNK)
    ]


def main() -> None:
    tune_allocator()
    with rasterio.open(band_paths(DEMO_CATALOG_DIR)["B4"][0]) as src:
        crs, transform, width, height = src.crs.to_string(), src.transform, src.width, src.height
    for size in (640, 2048):
        grid = Grid.centered(size, 100)
        seconds = []
        for run in range(RUNS + 1):
            sampling._maps.clear()
            parts = chunks(grid.shifted(SHIFT * (run + 1)))
            start = time.process_time()
            for part in parts:
                sampling.sample_map(part, crs, transform, width, height)
            if run:  # the first run loads code and caches of sizes
                seconds.append(time.process_time() - start)
        ms = statistics.median(seconds) * 1000
        print(
            f"{size}x{size} EPSG:4326 over {width}x{height} {crs}: {len(parts)} chunk maps, {ms:.1f} ms CPU (median of {RUNS})"
        )


if __name__ == "__main__":
    main()
