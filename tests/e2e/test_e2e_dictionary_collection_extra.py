"""Dictionary.toImage and Collection.fromColumns through the stock client; the oracle is the
input written out in Python."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_dictionary_to_image(ee_api) -> None:
    ee = ee_api
    values = {"b": 2.5, "a": 7, "c": -3}
    region = ee.Geometry.Rectangle([14.0, 46.0, 14.01, 46.01])
    sorted_image = ee.Dictionary(values).toImage()
    chosen = ee.Dictionary(values).toImage(["c", "b"])
    got = ee.Dictionary(
        {
            "names": sorted_image.bandNames(),
            "chosenNames": chosen.bandNames(),
            "values": sorted_image.reduceRegion(ee.Reducer.first(), region, 1000),
            "chosenValues": chosen.reduceRegion(ee.Reducer.first(), region, 1000),
        }
    ).getInfo()
    assert got["names"] == ["a", "b", "c"]
    assert got["chosenNames"] == ["c", "b"]
    assert got["values"] == values
    assert got["chosenValues"] == {"c": -3, "b": 2.5}
    with pytest.raises(ee.EEException, match="no key 'z'"):
        ee.Dictionary(values).toImage(["z"]).getInfo()


def test_collection_from_columns(ee_api) -> None:
    ee = ee_api
    names = ["id", "score", "label"]
    columns = [[1, 2, 3], [0.5, 1.5, None], ["x", "y", "z"]]
    fc = ee.FeatureCollection(
        ee.ApiFunction.call_("Collection.fromColumns", columns, names, ["Long", "Float", "String"])
    )
    got = fc.getInfo()
    rows = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    assert [f["properties"] for f in got["features"]] == rows
    assert [f["id"] for f in got["features"]] == ["0", "1", "2"]
    assert all(f["geometry"] is None for f in got["features"])
    assert fc.aggregate_sum("score").getInfo() == 2.0
    with pytest.raises(ee.EEException, match="differ in length"):
        ee.ApiFunction.call_("Collection.fromColumns", [[1], [1, 2]], ["a", "b"]).getInfo()
