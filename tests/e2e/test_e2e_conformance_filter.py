"""Conformance: the Filter and Join apidocs samples, through the stock client.

Rows come from google/earthengine-community samples/python/apidocs/<file> (named per row), and
samples/javascript/apidocs/ee-join-simple.js: the samples' own constructed collections, with what
the samples say each filter keeps. The other Filter samples (eq, equals, greaterThan, ...,
calendarRange, bounds, maxDifference) filter catalog collections (GOES, Sentinel-2, BLM AIM) and
document no values, so they give no rows here.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def _rows(ee: Any) -> list[tuple[str, Any, Any]]:
    """(sample file, computed value, documented value)."""
    typed = ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Rectangle([0, 0, 1, 1]), {"x": 0}),
            ee.Feature(ee.Geometry.Rectangle(0, 0, 3, 3), {"x": "foo"}),
            ee.Feature(ee.Geometry.Point(0, 0)),
        ]
    )

    def has_type(field: str, kind: str) -> Any:
        return typed.filter(ee.Filter.hasType(leftField=field, rightValue=kind)).aggregate_array(
            "system:index"
        )

    site = ee.Geometry.Point([-119.56, 37.67])
    visits = ee.FeatureCollection(
        [
            ee.Feature(site, {"prop": p, "system:time_start": ee.Date(d)})
            for p, d in [
                (10, "2021-06-10"),
                (11, "2021-06-20"),
                (19, "2021-07-10"),
                (10, "2021-07-20"),
            ]
        ]
    )

    def july(filter_: Any) -> Any:
        return visits.filter(filter_).aggregate_array("prop")

    primary = ee.FeatureCollection(
        [
            ee.Feature(None, {"id": 1, "name": "Forest"}),
            ee.Feature(None, {"id": 2, "name": "Water"}),
            ee.Feature(None, {"id": 3, "name": "Urban"}),
            ee.Feature(None, {"id": 4, "name": "Shrub"}),
        ]
    )
    secondary = ee.FeatureCollection(
        [
            ee.Feature(None, {"type_id": 1, "label": "Natural"}),
            ee.Feature(None, {"type_id": 2, "label": "Natural"}),
        ]
    )
    joined = ee.Join.simple().apply(
        primary, secondary, ee.Filter.equals(leftField="id", rightField="type_id")
    )
    return [
        # "The third feature has a Point geometry."
        ("ee_filter_hastype.py", has_type(".geo", "Point"), ["2"]),
        # "The first two features have a Polygon geometry."
        ("ee_filter_hastype.py", has_type(".geo", "Polygon"), ["0", "1"]),
        # "The first feature has property x with type Number."
        ("ee_filter_hastype.py", has_type("x", "Number"), ["0"]),
        # "The second feature has property x with type String."
        ("ee_filter_hastype.py", has_type("x", "String"), ["1"]),
        # "Filter the observations in July 2021" (the last two), in every input format.
        ("ee_filter_date.py", july(ee.Filter.date("2021-07-01", "2021-08-01")), [19, 10]),
        (
            "ee_filter_date.py",
            july(ee.Filter.date(ee.DateRange("2021-07-01", "2021-08-01"))),
            [19, 10],
        ),
        ("ee_filter_date.py", july(ee.Filter.date(1625875200000, 1626739200001)), [19, 10]),
        (
            "ee_filter_date.py",
            july(ee.Filter.date(ee.Date("2021-07-01"), ee.Date("2021-08-01"))),
            [19, 10],
        ),
        (
            "ee_featurecollection_filterdate.py",
            visits.filterDate("2021-07-01", "2021-08-01").aggregate_array("prop"),
            [19, 10],
        ),
        (
            "ee_featurecollection_filterdate.py",
            visits.filterDate(ee.DateRange("2021-07-01", "2021-08-01")).aggregate_array("prop"),
            [19, 10],
        ),
        (
            "ee_featurecollection_filterdate.py",
            visits.filterDate(1625875200000, 1626739200001).aggregate_array("prop"),
            [19, 10],
        ),
        # ee-join-simple.js: "Only 'Forest' and 'Water' (IDs 1 and 2) will remain."
        ("ee-join-simple.js", joined.aggregate_array("name"), ["Forest", "Water"]),
    ]


def test_filter_and_join_samples(ee_api) -> None:
    ee = ee_api
    rows = _rows(ee)
    got = ee.List([value for _, value, _ in rows]).getInfo()
    mismatches = [
        (sample, value, want)
        for (sample, _, want), value in zip(rows, got, strict=True)
        if value != want
    ]
    assert not mismatches


def test_simple_join_on_intersecting_geometries(ee_api) -> None:
    """ee-join-simple.js, part 3: Join.simple with Filter.intersects(leftField='.geo',
    rightField='.geo') keeps the primary features (states) that intersect at least one secondary
    feature (power plants). Two squares and one point inside the first stand in for the
    catalog tables."""
    ee = ee_api
    states = ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Rectangle([-100, 38, -98, 40]), {"NAME": "A"}),
            ee.Feature(ee.Geometry.Rectangle([-97, 38, -95, 40]), {"NAME": "B"}),
        ]
    )
    plants = ee.FeatureCollection([ee.Feature(ee.Geometry.Point([-98.57, 39.82]), {"id": 1})])
    joined = ee.Join.simple().apply(
        primary=states,
        secondary=plants,
        condition=ee.Filter.intersects(leftField=".geo", rightField=".geo"),
    )
    assert joined.aggregate_array("NAME").getInfo() == ["A"]


def test_two_property_filters_and_grouping_join(ee_api) -> None:
    """ee_filter_maxdifference.py on synthetic plots (the sample's BLM AIM table is not here):
    equals / notEquals / lessThan / lessThanOrEquals / greaterThan / greaterThanOrEquals /
    maxDifference(10) between two properties; greaterThan against a constant on either side
    ("the complement of the previous example"); and Join.saveAll grouping the plots of each site
    found by distinct('SiteID'). The oracle is Python's comparison of the same values."""
    ee = ee_api
    inv, non = "InvAnnForbCover_AH", "NonInvAnnForbCover_AH"
    plots = [(0, 5, 5, "a"), (1, 30, 12, "a"), (2, 3, 40, "b"), (3, 25, 25, "c"), (4, 8, 14, "b")]
    fc = ee.FeatureCollection(
        [ee.Feature(None, {"plot": p, inv: i, non: n, "SiteID": s}) for p, i, n, s in plots]
    )

    def kept(filter_: Any) -> Any:
        return fc.filter(filter_).aggregate_array("plot")

    pair = {"leftField": inv, "rightField": non}
    sites = fc.distinct("SiteID")
    grouped = ee.Join.saveAll("site_plots").apply(
        sites, fc, ee.Filter.equals(leftField="SiteID", rightField="SiteID")
    )
    got = ee.List(
        [
            kept(ee.Filter.equals(**pair)),
            kept(ee.Filter.notEquals(**pair)),
            kept(ee.Filter.lessThan(**pair)),
            kept(ee.Filter.lessThanOrEquals(**pair)),
            kept(ee.Filter.greaterThan(**pair)),
            kept(ee.Filter.greaterThanOrEquals(**pair)),
            kept(ee.Filter.maxDifference(difference=10, **pair)),
            kept(ee.Filter.greaterThan(leftField=inv, rightValue=20)),
            kept(ee.Filter.greaterThan(leftValue=20, rightField=inv)),
            sites.aggregate_array("SiteID"),
            ee.List(ee.Feature(grouped.first()).get("site_plots")).map(
                lambda f: ee.Feature(f).get("plot")
            ),
        ]
    ).getInfo()

    def where(test: Any) -> list[int]:
        return [p for p, i, n, _ in plots if test(i, n)]

    assert got[:9] == [
        where(lambda i, n: i == n),
        where(lambda i, n: i != n),
        where(lambda i, n: i < n),
        where(lambda i, n: i <= n),
        where(lambda i, n: i > n),
        where(lambda i, n: i >= n),
        where(lambda i, n: abs(i - n) <= 10),
        where(lambda i, n: i > 20),
        where(lambda i, n: i < 20),
    ]
    assert sorted(got[7] + got[8]) == [p for p, *_ in plots]
    assert sorted(got[9]) == ["a", "b", "c"]
    first_site = got[9][0]
    assert sorted(got[10]) == [p for p, _, _, s in plots if s == first_site]
