"""Bad input to the reducers, collections, geometries and terrain algorithms added for issue 6
gets a clear Earth-Engine-style error naming the algorithm, never an internal error."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

CASES = [
    ("ridge numX", lambda ee: ee.Reducer.ridgeRegression(0), "Reducer.ridgeRegression: numX"),
    ("ridge lambda", lambda ee: ee.Reducer.ridgeRegression(1, 1, -1), "lambda must not be negative"),
    ("geometric median eta", lambda ee: ee.Reducer.geometricMedian(2, 0), "eta must be positive"),
    ("2-D histogram", lambda ee: ee.Reducer.fixed2DHistogram(1, 0, 2, 0, 1, 2), "max > min"),
    ("covariance of strings", lambda ee: ee.List([["a"], ["b"]]).reduce(ee.Reducer.covariance()),
     "1-D arrays of numbers"),
    ("ragged arrays", lambda ee: ee.List([[1, 2], [3]]).reduce(ee.Reducer.covariance()),
     "differ in length"),
    ("disaggregate axis", lambda ee: ee.List([[1, 2]]).reduce(ee.Reducer.sum().disaggregate(3)),
     "axis 3 is out of range"),
    ("fillMinima neighborhood", lambda ee: ee.Terrain.fillMinima(ee.Image(1), None, -1),
     "Terrain.fillMinima: neighborhood must be from 0"),
    ("hillShadow zenith", lambda ee: ee.Terrain.hillShadow(ee.Image(1), 0, 95),
     "zenith must be from 0 to 90"),
    ("coveringGrid cells", lambda ee: ee.Geometry.Rectangle([0, 0, 10, 10]).coveringGrid(
        ee.Projection("EPSG:4326"), 1), "more than 1000000 grid cells"),
    ("S2 token", lambda ee: ee.Geometry.fromS2CellToken("12345678901234567"),
     "invalid S2 cell token"),
    ("reduceToImage reducer", lambda ee: ee.FeatureCollection([]).reduceToImage(
        ["v"], ee.Reducer.toList()), "Reducer.toList is not supported by reduceToImage"),
    ("draw colour", lambda ee: ee.FeatureCollection([]).draw("notacolour"), "Invalid color"),
    ("distance radius", lambda ee: ee.FeatureCollection([]).distance(-1), "must be positive"),
    ("cast type", lambda ee: ee.ImageCollection([ee.Image(1)]).cast({"constant": "int128"},
                                                                    ["constant"]), "invalid type"),
    ("toImage values", lambda ee: ee.Dictionary({"a": "x"}).toImage(), "must be a number"),
    ("collection array reducer", lambda ee: ee.ImageCollection([ee.Image(1)]).reduce(
        ee.Reducer.covariance()), "not supported on image collections"),
]  # fmt: skip


@pytest.mark.parametrize("make,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_clear_errors(ee_api, make, message: str) -> None:
    value = make(ee_api)
    with pytest.raises(ee_api.EEException, match=message) as caught:
        value.getInfo()
    assert "internal error" not in str(caught.value).lower()
