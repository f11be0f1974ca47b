"""A coarse grid over a big file without overviews: memory and blocks of the read (issue 16,
item 12). A measurement, not a test (tests/raster/test_raster_decimated_read.py holds the bound).

Builds a SIDE x SIDE uint8 GeoTIFF (DEFLATE, 256-px tiles, no overviews), then reads it into a
64 x 64 grid covering the whole file, nearest, with `openee.raster.read.read_into_grid`, once as
a window read (SPARSE_RATIO set out of reach: the read before issue 16 item 12) and once as a
sparse read (the default). Each mode runs in a fresh process: peak RSS growth (ru_maxrss less the
RSS before the read), tracemalloc peak (numpy arrays), pixels requested from GDAL, blocks GDAL
decodes, wall time. Both modes' pixels are compared.

    .venv/bin/python bench/decimated_read.py [--side 20000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

CRS = "EPSG:32633"
TILE = 256


def build(path: Path, side: int) -> None:
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": 1,
        "dtype": "uint8",
        "crs": CRS,
        "transform": Affine(10, 0, 500000, 0, -10, 5100000),
        "tiled": True,
        "blockxsize": TILE,
        "blockysize": TILE,
        "compress": "deflate",
    }
    cols = np.arange(side)
    with rasterio.open(path, "w", **profile) as dst:
        for r0 in range(0, side, TILE):
            rows = np.arange(r0, min(side, r0 + TILE))[:, None]
            data = ((rows * 3 + cols) % 251).astype(np.uint8)
            dst.write(data, 1, window=Window(0, r0, side, rows.shape[0]))


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(path: str, side: int, mode: str, out: str) -> None:
    """One read in this process; prints its figures as JSON."""
    from affine import Affine

    from openee.raster import sampling
    from openee.raster.grid import PixelGrid
    from openee.raster.read import read_into_grid

    if mode == "window":
        sampling.SPARSE_RATIO = 10**12
    pixel = 10 * side / 64
    grid = PixelGrid(CRS, Affine(pixel, 0, 500000, 0, -pixel, 5100000), 64, 64)
    where = sampling.sample_map(grid, CRS, Affine(10, 0, 500000, 0, -10, 5100000), side, side)
    assert where.window is not None
    rows, cols, _ = where.distinct
    if mode == "window":
        requested = int(where.window.width) * int(where.window.height)
        r0, c0 = int(where.window.row_off), int(where.window.col_off)
        r1, c1 = r0 + int(where.window.height) - 1, c0 + int(where.window.width) - 1
        blocks = (r1 // TILE - r0 // TILE + 1) * (c1 // TILE - c0 // TILE + 1)
    else:
        requested = rows.size  # each block window holds one sample here
        blocks = len({(int(r) // TILE, int(c) // TILE) for r, c in zip(rows, cols, strict=True)})
    before = rss_kib()
    tracemalloc.start()
    start = time.perf_counter()
    pixels = read_into_grid(path, 1, np.dtype("uint8"), None, grid)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    np.save(out, pixels.data)
    print(
        json.dumps(
            {
                "mode": mode,
                "seconds": round(seconds, 3),
                "rss_growth_mib": round((maxrss - before) / 1024, 1),
                "tracemalloc_peak_mib": round(peak / 2**20, 2),
                "pixels_requested": requested,
                "blocks_decoded": blocks,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=20000)
    parser.add_argument("--measure", nargs=3, metavar=("PATH", "MODE", "OUT"))
    args = parser.parse_args()
    if args.measure:
        measure(args.measure[0], args.side, args.measure[1], args.measure[2])
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.tif"
        build(path, args.side)
        print(f"{args.side} x {args.side} uint8, {path.stat().st_size / 2**20:.1f} MiB on disk")
        results = []
        for mode in ("window", "sparse"):
            out = str(Path(tmp) / f"{mode}.npy")
            cmd = [sys.executable, __file__, "--side", str(args.side), "--measure"]
            done = subprocess.run([*cmd, str(path), mode, out], capture_output=True, text=True)
            if done.returncode:
                sys.exit(done.stderr)
            results.append(json.loads(done.stdout))
            print(done.stdout.strip())
        same = np.array_equal(np.load(Path(tmp) / "window.npy"), np.load(Path(tmp) / "sparse.npy"))
        print(f"pixels identical: {same}")


if __name__ == "__main__":
    main()
