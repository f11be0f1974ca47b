"""Projection algorithms through the stock client, checked against pyproj and the affine algebra."""

from __future__ import annotations

import math
import re

import pytest
from pyproj import CRS

pytestmark = pytest.mark.e2e


def test_projection_transform_algebra(ee_api) -> None:
    ee = ee_api
    base = ee.Projection("EPSG:32633", [10, 0, 500000, 0, -10, 5100000])
    got = ee.List(
        [
            base.scale(2, 3),
            base.translate(5, -2),
            base.nominalScale(),
            base.atScale(30).nominalScale(),
            base.crs(),
            base.wkt(),
            base.transform(),
        ]
    ).getInfo()
    a, b, c, d, e, f = 10, 0, 500000, 0, -10, 5100000
    assert got[0]["transform"] == [a * 2, b * 3, c, d * 2, e * 3, f]
    # Translating by (5, -2) pixels moves the origin by (a x + b y, d x + e y) CRS units.
    assert got[1]["transform"] == [a, b, c + a * 5 + b * -2, d, e, f + d * 5 + e * -2]
    assert got[2] == pytest.approx(math.hypot(a, d))
    assert got[3] == pytest.approx(30)
    assert got[4] == "EPSG:32633"
    assert CRS.from_wkt(got[5]).equals(CRS.from_epsg(32633))
    assert got[6].startswith('PARAM_MT["Affine"')
    assert all(f'"elt_{i}_{j}"' in got[6] for i in range(2) for j in range(3))
    # The elements carry the affine transform's values (absent elements are 0).
    elements = dict(re.findall(r'PARAMETER\["(elt_\d_\d)",\s*([-0-9.eE+]+)\]', got[6]))
    expected = {"elt_0_0": a, "elt_0_1": b, "elt_0_2": c, "elt_1_0": d, "elt_1_1": e, "elt_1_2": f}
    assert {k: float(elements.get(k, 0)) for k in expected} == expected
