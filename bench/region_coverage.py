"""Time a region's pixels on a 2048-pixel bounding grid (10 m, EPSG:32633) with the centroid rule
only (unweighted reducers) and with the covered fractions of weighted reducers (ADR 0054), for a
rotated pentagon, a 4096-vertex circle and the circle with a hole. Run from the repository root:
PYTHONPATH=src python bench/region_coverage.py
"""

import time

import shapely
import shapely.affinity

from openee.engine.regions import Region
from openee.values.geometry import Geometry
from openee.values.projection import Projection

PROJECTION = Projection.of("EPSG:32633", [10, 0, 500000, 0, -10, 4200000])
PENTAGON = shapely.affinity.rotate(
    shapely.Polygon(
        [
            (500100, 4199900),
            (520000, 4195000),
            (515000, 4180500),
            (503000, 4182000),
            (501000, 4190000),
        ]
    ),
    17,
)
CIRCLE = shapely.Point(510240, 4189760).buffer(10000, 1024)
HOLE = shapely.Point(510240, 4189760).buffer(4000, 256)
RING = shapely.Polygon(CIRCLE.exterior.coords, [HOLE.exterior.coords])

for name, shape in (("rotated pentagon", PENTAGON), ("circle", CIRCLE), ("circle, hole", RING)):
    for weighted in (False, True):
        region = Region.of(Geometry(shape, "EPSG:32633", False), PROJECTION, weighted)
        start = time.perf_counter()
        pixels = sum(int(strip.selected.sum()) for strip in region.strips())
        ms = (time.perf_counter() - start) * 1000
        rule = "weighted" if weighted else "centres"
        print(f"{name:18s} {region.width}x{region.height} {rule:8s} {ms:6.0f} ms {pixels} pixels")
