"""Conformance: the Feature and FeatureCollection apidocs samples, through the stock client.

Rows come from google/earthengine-community samples/python/apidocs/<file> (named per row): the
inputs are the samples' own constructed features, and the expected values are what the sample
documents in its comments or states in its text ("the 'nonsense' category gets dropped"). Samples
built on catalog tables (WRI/GPPD/power_plants, WCMC/WDPA, TERRACLIMATE ...: the aggregate_*,
distinct, reduceColumns, toDictionary, iterate, buffer samples) document numbers of data openee
does not have, so they give no rows here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.e2e


def _rows(ee: Any) -> list[tuple[str, Any, Any]]:
    """(sample file, computed value, documented value)."""
    point = ee.Geometry.Point(-62.54, -27.32)
    listed = ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Point(-62.54, -27.32), {"key": "val1"}),
            ee.Feature(ee.Geometry.Point(-69.18, -10.64), {"key": "val2"}),
            ee.Feature(ee.Geometry.Point(-45.98, -18.09), {"key": "val3"}),
        ]
    )
    geojson = ee.FeatureCollection(
        {
            "type": "FeatureCollection",
            "columns": {"key": "String", "system:index": "String"},
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [-62.54, -27.32]},
                    "id": "0",
                    "properties": {"key": "val1"},
                }
            ],
        }
    )

    def cover(cls: str, points: list[list[float]]) -> Any:
        return ee.FeatureCollection(
            [
                ee.Feature(ee.Geometry.Point(p), {"id": i, "cover_class": cls})
                for i, p in enumerate(points)
            ]
        )

    forest = cover("forest", [[-122.248, 37.238], [-122.204, 37.222], [-122.110, 37.199]])
    urban = cover("urban", [[-121.953, 37.372], [-121.861, 37.308], [-121.984, 37.372]])
    merged = forest.merge(urban)
    trees = ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Point([1, 2]), {"isTree": "Tree"}),
            ee.Feature(ee.Geometry.Point([3, 4]), {"isTree": "NotTree"}),
            ee.Feature(ee.Geometry.Point([5, 6]), {"isTree": "nonsense"}),
        ]
    ).remap(["NotTree", "Tree"], [0, 1], "isTree")
    with_props = (
        ee.FeatureCollection([])
        .set("key_1", "value 1")
        .set("key_2", "value 2", "key_3", 3)
        .set({"key_5": ee.Array([1, 2, 3])})
    )
    return [
        (
            "ee_feature.py",
            ee.Feature(None),
            {"type": "Feature", "geometry": None, "properties": {}},
        ),
        ("ee_feature.py", ee.Feature(None, {"id": "yada"}).id(), None),
        ("ee_feature.py", ee.Feature(None, {"system:index": "abc123"}).id(), "abc123"),
        (
            "ee_feature.py",
            ee.Feature(ee.Geometry.Point([-114.318, 38.985])).geometry(),
            {"type": "Point", "coordinates": [-114.318, 38.985]},
        ),
        ("ee_featurecollection.py", ee.FeatureCollection(point).size(), 1),
        (
            "ee_featurecollection.py",
            ee.Feature(ee.FeatureCollection(point).first()).geometry(),
            {"type": "Point", "coordinates": [-62.54, -27.32]},
        ),
        (
            "ee_featurecollection.py",
            ee.FeatureCollection(ee.Feature(point, {"key": "val"})).aggregate_array("key"),
            ["val"],
        ),
        ("ee_featurecollection.py", listed.aggregate_array("key"), ["val1", "val2", "val3"]),
        ("ee_featurecollection.py", ee.Feature(geojson.first()).id(), "0"),
        ("ee_featurecollection.py", geojson.aggregate_array("key"), ["val1"]),
        ("ee_featurecollection_merge.py", merged.size(), 6),
        (
            "ee_featurecollection_merge.py",
            merged.aggregate_array("cover_class"),
            ["forest"] * 3 + ["urban"] * 3,
        ),
        ("ee_featurecollection_merge.py", merged.aggregate_array("id"), [0, 1, 2, 0, 1, 2]),
        # "The 'nonsense' category gets dropped."
        ("ee_featurecollection_remap.py", trees.aggregate_array("isTree"), [1, 0]),
        ("ee_featurecollection_set.py", with_props.get("key_1"), "value 1"),
        ("ee_featurecollection_set.py", with_props.get("key_3"), 3),
        ("ee_featurecollection_set.py", with_props.get("key_5"), [1, 2, 3]),
        (
            "ee_featurecollection_set.py",
            with_props.set("key_1", "overwritten").get("key_1"),
            "overwritten",
        ),
        (
            "ee_featurecollection_getarray.py",
            ee.FeatureCollection([])
            .set("array_property", ee.Array([1, 2, 3, 4]))
            .getArray("array_property"),
            [1, 2, 3, 4],
        ),
        (
            "ee_featurecollection_getnumber.py",
            ee.FeatureCollection([]).set("number_property", 1.5).getNumber("number_property"),
            1.5,
        ),
        (
            "ee_featurecollection_getstring.py",
            ee.FeatureCollection([])
            .set("string_property", "Abies magnifica")
            .getString("string_property"),
            "Abies magnifica",
        ),
    ]


def test_feature_samples(ee_api) -> None:
    ee = ee_api
    rows = _rows(ee)
    got = ee.List([value for _, value, _ in rows]).getInfo()
    mismatches = [
        (sample, value, want)
        for (sample, _, want), value in zip(rows, got, strict=True)
        if value != want
    ]
    assert not mismatches


def test_feature_collection_properties_and_getinfo(ee_api) -> None:
    """ee_featurecollection_set.py: properties of every kind (an image, a feature) are set on the
    collection and show in its getInfo; ee_featurecollection.py: a collection made from GeoJSON
    keeps the feature's id and properties."""
    ee = ee_api
    fc = ee.FeatureCollection([]).set(
        {"key_5": ee.Array([1, 2, 3]), "key_6": ee.Image(0), "key_7": ee.Feature(None)}
    )
    info = fc.set("key_1", "overwritten").getInfo()
    props = info["properties"]
    assert props["key_1"] == "overwritten"
    assert props["key_5"] == [1, 2, 3]
    assert props["key_6"]["type"] == "Image"
    assert props["key_7"] == {"type": "Feature", "geometry": None, "properties": {}}
    assert info["features"] == []


def test_random_points_random_column_make_array(ee_api) -> None:
    """ee_featurecollection_randompoints.py: 50 points (seed 0) inside a planar rectangle;
    ee_featurecollection_randomcolumn.py: a uniform column 'random' in [0, 1) that splits the
    collection in two ('random < 0.3', 'random >= 0.3'); ee_featurecollection_makearray.py: the
    four yearly properties become one array property 'gwh_by_year' (synthetic features stand
    in for the sample's power plants)."""
    ee = ee_api
    box = [-113.5, 40.0, -110.2, 41.9]
    region = ee.Geometry.Rectangle(coords=box, proj="EPSG:4326", geodesic=False)
    points = ee.FeatureCollection.randomPoints(region=region, points=50, seed=0, maxError=1)
    plants = ee.FeatureCollection(
        [
            ee.Feature(None, {"gwh_2013": i, "gwh_2014": i + 1, "gwh_2015": i + 2, "gwh_2016": 2.5})
            for i in range(20)
        ]
    ).randomColumn()
    years = ["gwh_2013", "gwh_2014", "gwh_2015", "gwh_2016"]
    got = ee.List(
        [
            points.size(),
            points.geometry().coordinates(),
            plants.aggregate_array("random"),
            plants.filter("random < 0.3").size(),
            plants.filter("random >= 0.3").size(),
            plants.makeArray(years, "gwh_by_year").aggregate_array("gwh_by_year").slice(0, 2),
        ]
    ).getInfo()
    assert got[0] == 50
    assert len(got[1]) == 50
    assert all(box[0] <= x <= box[2] and box[1] <= y <= box[3] for x, y in got[1])
    assert len(got[2]) == 20 and all(0 <= r < 1 for r in got[2])
    assert got[3] + got[4] == 20 and got[3] == sum(r < 0.3 for r in got[2])
    assert got[5] == [[0, 1, 2, 2.5], [1, 2, 3, 2.5]]


# ee_featurecollection_aggregate_stats.py documents its output for 66 Belgian power plants;
# those numbers satisfy total_var = sum_sq / n - mean², sample_var = total_var * n / (n - 1),
# *_sd = sqrt(*_var), weighted_sum = sum and weight_sum = n, which define the statistics below.
STATS_DOCUMENTED = {
    "max": 2910,
    "mean": 201.34242424242427,
    "min": 1.8,
    "sample_sd": 466.4808892319684,
    "sample_var": 217604.42001864797,
    "sum": 13288.600000000002,
    "sum_sq": 16819846.24,
    "total_count": 66,
    "total_sd": 462.9334545609107,
    "total_var": 214307.38335169878,
    "valid_count": 66,
    "weight_sum": 66,
    "weighted_sum": 13288.600000000002,
}


def _stats(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, dtype=float)
    n = len(v)
    total_var = float((v**2).sum() / n - v.mean() ** 2)
    return {
        "max": float(v.max()),
        "mean": float(v.mean()),
        "min": float(v.min()),
        "sample_sd": math.sqrt(total_var * n / (n - 1)),
        "sample_var": total_var * n / (n - 1),
        "sum": float(v.sum()),
        "sum_sq": float((v**2).sum()),
        "total_count": n,
        "total_sd": math.sqrt(total_var),
        "total_var": total_var,
        "valid_count": n,
        "weight_sum": n,
        "weighted_sum": float(v.sum()),
    }


def test_aggregate_stats_definitions_match_the_documented_output() -> None:
    """The oracle's definitions reproduce the sample's documented dictionary from its sums."""
    d = STATS_DOCUMENTED
    n = d["total_count"]
    assert d["mean"] == pytest.approx(d["sum"] / n, rel=1e-12)
    assert d["total_var"] == pytest.approx(d["sum_sq"] / n - d["mean"] ** 2, rel=1e-9)
    assert d["sample_var"] == pytest.approx(d["total_var"] * n / (n - 1), rel=1e-9)
    assert d["total_sd"] == pytest.approx(math.sqrt(d["total_var"]), rel=1e-12)
    assert d["sample_sd"] == pytest.approx(math.sqrt(d["sample_var"]), rel=1e-12)


def test_aggregate_functions(ee_api) -> None:
    """ee_featurecollection_aggregate_*.py and ee_imagecollection_aggregate_*.py on synthetic
    capacities (the samples' catalog tables are not here): the documented key set of
    aggregate_stats, and each aggregate against numpy with the definitions above."""
    ee = ee_api
    capacities = [1.8, 2910, 120.5, 44, 7.25, 44]
    fuels = ["Gas", "Nuclear", "Wind", "Wind", "Solar", "Gas"]
    fc = ee.FeatureCollection(
        [
            ee.Feature(None, {"capacitymw": c, "fuel1": f})
            for c, f in zip(capacities, fuels, strict=True)
        ]
    )
    ic = ee.ImageCollection([ee.Image(0).set("capacitymw", c) for c in capacities])
    calls = [
        "aggregate_stats",
        "aggregate_mean",
        "aggregate_sum",
        "aggregate_min",
        "aggregate_max",
        "aggregate_product",
        "aggregate_sample_sd",
        "aggregate_sample_var",
        "aggregate_total_sd",
        "aggregate_total_var",
        "aggregate_count",
        "aggregate_array",
        "aggregate_first",
    ]
    got = ee.List(
        [getattr(fc, c)("capacitymw") for c in calls]
        + [getattr(ic, c)("capacitymw") for c in calls]
        + [fc.aggregate_min("fuel1"), fc.aggregate_max("fuel1")]
        + [fc.aggregate_count_distinct("fuel1"), fc.aggregate_histogram("fuel1")]
    ).getInfo()
    s = _stats(capacities)
    want = [
        s,
        s["mean"],
        s["sum"],
        s["min"],
        s["max"],
        float(np.prod(capacities)),
        s["sample_sd"],
        s["sample_var"],
        s["total_sd"],
        s["total_var"],
        len(capacities),
        capacities,
        capacities[0],
    ]
    n = len(calls)
    for collection, values in (("FeatureCollection", got[:n]), ("ImageCollection", got[n : 2 * n])):
        assert set(values[0]) == set(STATS_DOCUMENTED), collection
        for call, value, expected in zip(calls, values, want, strict=True):
            assert value == pytest.approx(expected, rel=1e-9), (collection, call)
    # ee_imagecollection_aggregate_stats.py: "if the property is formatted as a string, min and
    # max will respectively return the first and last values according to alphanumeric order".
    assert got[-4:-2] == ["Gas", "Wind"]
    assert got[-2] == 4
    assert got[-1] == {"Gas": 2, "Nuclear": 1, "Solar": 1, "Wind": 2}


def test_select_union_copy_limit_sort_flatten(ee_api) -> None:
    """Data-independent facts of samples built on catalog tables, on synthetic power plants:
    ee_featurecollection_select.py (one, several, renamed, without geometry);
    ee_featurecollection_union.py ("a FeatureCollection with a single feature with no properties");
    ee_featurecollection_copyproperties.py (all non-system properties, selected ones, all but
    excluded ones); ee_featurecollection_limit.py and _sort.py (by a property, ascending or
    descending); ee_featurecollection_flatten.py (a collection of collections flattened)."""
    ee = ee_api
    plants = [
        ("Wind", 12.0, 4.4),
        ("Gas", 400.0, 4.5),
        ("Solar", 1.5, 4.6),
        ("Nuclear", 2910.0, 4.7),
    ]
    fc = ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Point([x, 50.8]), {"fuel1": f, "capacitymw": c, "name": f"p{i}"})
            for i, (f, c, x) in enumerate(plants)
        ]
    )
    source = ee.Image(0).set(
        {"system:time_start": 1500000000000, "SPACECRAFT_ID": "LANDSAT_8", "TIRS_SSM_MODEL": "x"}
    )
    single = ee.FeatureCollection([ee.Feature(None, {"a": 1})])

    def first(collection: Any) -> Any:
        return ee.Feature(collection.first())

    def copied(*args: Any, **kwargs: Any) -> Any:
        return ee.FeatureCollection(single.copyProperties(*args, **kwargs))

    got = ee.List(
        [
            first(fc.select("fuel1")).toDictionary(),
            first(fc.select(["fuel1", "capacitymw"])).toDictionary(),
            first(fc.select(["fuel1", "capacitymw"], ["Fuel_1", "Capacity_MW"])).toDictionary(),
            first(fc.select(propertySelectors=["fuel1"], retainGeometry=False)).geometry(),
            first(fc.select("fuel1")).geometry().type(),
            fc.union(1).size(),
            first(fc.union(1)).toDictionary(),
            first(fc.union(1)).geometry().type(),
            first(copied(source)).toDictionary(),
            copied(source).toDictionary(),
            copied(source=source, properties=["system:time_start", "SPACECRAFT_ID"]).toDictionary(
                ["system:time_start", "SPACECRAFT_ID", "TIRS_SSM_MODEL"]
            ),
            copied(source=source, exclude=["TIRS_SSM_MODEL"]).toDictionary(),
            fc.limit(2, "capacitymw").aggregate_array("fuel1"),
            fc.limit(2, "capacitymw", False).aggregate_array("fuel1"),
            fc.sort("capacitymw").aggregate_array("capacitymw"),
            fc.sort("capacitymw", False).aggregate_array("capacitymw"),
            ee.FeatureCollection([fc.limit(2), fc.limit(1)]).flatten().aggregate_array("name"),
        ]
    ).getInfo()
    assert got[0] == {"fuel1": "Wind"}
    assert got[1] == {"fuel1": "Wind", "capacitymw": 12.0}
    assert got[2] == {"Fuel_1": "Wind", "Capacity_MW": 12.0}
    assert got[3] is None
    assert got[4] == "Point"
    assert got[5] == 1
    assert got[6] == {}
    assert got[7] == "MultiPoint"
    assert got[8] == {"a": 1}  # the features are untouched: the collection gets the properties
    assert got[9] == {"SPACECRAFT_ID": "LANDSAT_8", "TIRS_SSM_MODEL": "x"}
    assert got[10] == {"SPACECRAFT_ID": "LANDSAT_8", "system:time_start": 1500000000000}
    assert got[11] == {"SPACECRAFT_ID": "LANDSAT_8"}
    assert got[12] == ["Solar", "Wind"]
    assert got[13] == ["Nuclear", "Gas"]
    assert got[14] == sorted(c for _, c, _ in plants)
    assert got[15] == sorted((c for _, c, _ in plants), reverse=True)
    assert got[16] == ["p0", "p1", "p0"]
