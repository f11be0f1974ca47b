"""S2 cell geometries and Geometry.coveringGrid through the stock client.

Oracles: the S2 cube geometry worked out by hand (face k's centre and the corners of its
cells from the face's (u, v) plane), and shapely over a grid built here with the same
integer-corner rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Polygon, box, shape

pytestmark = pytest.mark.e2e

# Latitude of a cube corner seen from the centre: atan(1 / sqrt(2)).
CORNER_LAT = math.degrees(math.atan(1 / math.sqrt(2)))


def face_zero_point(u: float, v: float) -> tuple[float, float]:
    """(lon, lat) of the point (1, u, v) of the cube: face 0 is centred on (0, 0)."""
    return math.degrees(math.atan2(u, 1.0)), math.degrees(math.atan2(v, math.hypot(1.0, u)))


def vertices(geojson: dict) -> set[tuple[float, float]]:
    ring = geojson["coordinates"][0]
    assert ring[0] == ring[-1]
    return {(round(x, 9), round(y, 9)) for x, y in ring[:-1]}


def corners(*points: tuple[float, float]) -> set[tuple[float, float]]:
    return {(round(x, 9), round(y, 9)) for x, y in points}


def test_face_cells(ee_api) -> None:
    ee = ee_api
    face0 = 1 << 60  # face 0, level 0: the face bits, then the trailing 1 bit
    got = ee.Dictionary(
        {
            "byId": ee.Geometry.fromS2CellId(face0),
            "byToken": ee.Geometry.fromS2CellToken("1"),
            "s2Cell": ee.Geometry.s2Cell(face0),
            # Face 5 (south pole): its id is above 2^63, so a signed Long is negative.
            "face5": ee.Geometry.fromS2CellId((5 << 61) + (1 << 60) - (1 << 64)),
            "child0": ee.Geometry.fromS2CellToken("04"),
        }
    ).getInfo()
    square = corners(*(face_zero_point(u, v) for u in (-1, 1) for v in (-1, 1)))
    assert vertices(got["byId"]) == square
    assert got["byToken"] == got["byId"] == got["s2Cell"]
    assert got["byId"]["type"] == "Polygon" and got["byId"]["geodesic"] is True
    assert {lat for _, lat in vertices(got["byId"])} == {
        round(CORNER_LAT, 9),
        round(-CORNER_LAT, 9),
    }
    # Face 5 is centred on the south pole: all four corners at -35.26 degrees.
    assert {round(lat, 9) for _, lat in vertices(got["face5"])} == {round(-CORNER_LAT, 9)}
    # The first level-1 child of face 0 (id 1 << 58, token '04') is the quadrant u, v <= 0
    # (Hilbert curve position 0 of a face with orientation 0).
    quadrant = corners(*(face_zero_point(u, v) for u in (-1, 0) for v in (-1, 0)))
    assert vertices(got["child0"]) == quadrant


def test_bad_cell_ids(ee_api) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match="not a valid S2 cell id"):
        ee.Geometry.fromS2CellId(0).getInfo()
    with pytest.raises(ee.EEException, match="invalid S2 cell token"):
        ee.Geometry.fromS2CellToken("xyz").getInfo()


def test_covering_grid(ee_api) -> None:
    ee = ee_api
    # A triangle in UTM 33N, covered by the 1 km grid of EPSG:32633.
    triangle = Polygon([(500_300, 5_100_200), (503_700, 5_100_900), (501_100, 5_102_600)])
    geometry = ee.Geometry.Polygon([list(map(list, triangle.exterior.coords))], "EPSG:32633", False)
    grid = geometry.coveringGrid(ee.Projection("EPSG:32633"), 1000).getInfo()
    got = {f["id"]: shape(f["geometry"]) for f in grid["features"]}
    want = {}
    for col in range(495, 510):
        for row in range(5095, 5110):
            # The projection's transform is the identity scaled to 1 km (y not flipped), so
            # cell (c, r) spans [1000 c, 1000 (c + 1)] x [1000 r, 1000 (r + 1)].
            cell = box(1000 * col, 1000 * row, 1000 * (col + 1), 1000 * (row + 1))
            if cell.intersects(triangle):
                want[f"{col},{row}"] = cell
    assert set(got) == set(want)
    for key, cell in want.items():
        assert got[key].equals(cell)
    assert all(f["geometry"]["crs"]["properties"]["name"] == "EPSG:32633" for f in grid["features"])
    assert np.isclose(sum(c.area for c in got.values()), 1e6 * len(want))
