"""String filters and DateRange filters through the stock client (issue 11, items 7 and 8).

`collection.filter('name == "Slovenia"')` sends the string itself; the server parses it into a
filter tree (ee.Filter.expression's documented operators: > >= < <= == != ( ) ! && ||). Each
filter's result is compared with the same predicate written in Python over the rows, and on the
demo catalog with the STAC items' own properties, read with `json`. `filterDate(ee.DateRange)`
and `ee.Filter.date(DateRange)` keep the images with start <= time < end (oracle.select_items).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from oracle import COLLECTION_ID, DEMO_ROOT, _parse_date, load_items

ROWS: list[dict] = [
    {"name": "Slovenia", "a": "x", "b": "q", "random": 0.5, "WRS_PATH": 38, "WRS_ROW": 28},
    {"name": "Italy", "a": "y", "b": "y", "random": 0.9, "WRS_PATH": 38, "WRS_ROW": 30},
    {"name": "Austria", "a": "z", "b": "z", "random": 0.8, "WRS_PATH": 39, "WRS_ROW": 29},
    {"name": "Croatia", "a": "x", "b": "y", "random": 0.1, "WRS_PATH": 38, "WRS_ROW": 29},
    {"name": "Hungary", "a": "w", "b": "v", "random": 0.3, "WRS_PATH": -2, "WRS_ROW": 27},
]

# (expression as Earth Engine's guides and samples write it, the same predicate in Python)
EXPRESSIONS: list[tuple[str, Callable[[dict], bool]]] = [
    ('name == "Slovenia"', lambda r: r["name"] == "Slovenia"),
    ("name != 'Italy'", lambda r: r["name"] != "Italy"),
    ('a == "x" || b == "y"', lambda r: r["a"] == "x" or r["b"] == "y"),
    ("random <= 0.8", lambda r: r["random"] <= 0.8),
    ("random > 0.8", lambda r: r["random"] > 0.8),
    ("random < 0.3", lambda r: r["random"] < 0.3),
    ("random >= 0.3", lambda r: r["random"] >= 0.3),
    ("0.5 < random", lambda r: r["random"] > 0.5),  # the value on the left
    ("WRS_PATH == 38 && (WRS_ROW == 28 || WRS_ROW == 29)",
     lambda r: r["WRS_PATH"] == 38 and r["WRS_ROW"] in (28, 29)),
    ("WRS_PATH == 38 && WRS_ROW == 28 || WRS_ROW == 29",  # && binds tighter than ||
     lambda r: (r["WRS_PATH"] == 38 and r["WRS_ROW"] == 28) or r["WRS_ROW"] == 29),
    ("!(random < 0.5)", lambda r: not r["random"] < 0.5),
    ("!(a == \"x\") && WRS_PATH > -1", lambda r: r["a"] != "x" and r["WRS_PATH"] > -1),
    ("a == b", lambda r: r["a"] == r["b"]),  # two properties
]  # fmt: skip


@pytest.fixture(scope="module")
def fc(ee_api):
    return ee_api.FeatureCollection([ee_api.Feature(None, row) for row in ROWS])


def test_string_filters_keep_what_the_predicate_keeps(ee_api, fc) -> None:
    ee = ee_api
    results = ee.List([fc.filter(text).aggregate_array("name") for text, _ in EXPRESSIONS])
    for (text, keep), names in zip(EXPRESSIONS, results.getInfo(), strict=True):
        expected = [r["name"] for r in ROWS if keep(r)]
        assert names == expected, text
        assert 0 < len(expected) < len(ROWS), text  # each case tells keeping from dropping


def test_filter_expression_is_the_same_filter(ee_api, fc) -> None:
    ee = ee_api
    got = fc.filter(ee.Filter.expression('a == "x" || b == "y"')).aggregate_array("name")
    assert got.getInfo() == ["Slovenia", "Italy", "Croatia"]


def stac_properties() -> dict[str, dict]:
    """Each demo item's STAC properties, read from its JSON file."""
    out = {}
    for path in DEMO_ROOT.rglob("*.json"):
        doc = json.loads(path.read_text())
        if doc.get("type") == "Feature":
            out[doc["id"]] = doc["properties"]
    return out


def test_string_filter_on_an_image_collection(ee_api) -> None:
    ee = ee_api
    collection = ee.ImageCollection(COLLECTION_ID)
    text = 'MGRS_TILE == "33TWL" && CLOUDY_PIXEL_PERCENTAGE < 10'
    got = collection.filter(text).aggregate_array("system:id").getInfo()
    props = stac_properties()
    expected = [
        item.image_id
        for item in load_items()
        if props[item.id]["grid:code"] == "MGRS-33TWL" and props[item.id]["eo:cloud_cover"] < 10
    ]
    assert sorted(got) == sorted(expected)
    assert 0 < len(expected) < len(load_items())


def test_bad_string_filters_are_clean_errors(ee_api, fc) -> None:
    ee = ee_api
    for text, message in [
        ("random <", "expected a property name"),
        ("random", "expected a comparison"),
        ("(random < 1", "expected '\\)'"),
        ("random < 1 # 2", "syntax error"),
        ("(" * 5000 + "random < 1" + ")" * 5000, "nested"),
        ("!" * 5000 + "(random < 1)", "nested"),
    ]:
        with pytest.raises(ee.EEException, match=message):
            fc.filter(text).size().getInfo()


# -- filterDate(ee.DateRange) and ee.Filter.date(DateRange) ------------------------------------


def _ids(collection) -> list[str]:
    return sorted(collection.aggregate_array("system:id").getInfo())


def _expected(start: str, end: str) -> list[str]:
    t0, t1 = _parse_date(start), _parse_date(end)
    return sorted(i.image_id for i in load_items() if t0 <= i.datetime < t1)


@pytest.mark.parametrize(
    ("start", "end"), [("2023-08-13", "2023-08-18"), ("2023-08-10T09:58:00", "2023-08-15")]
)
def test_filter_date_with_a_date_range(ee_api, start: str, end: str) -> None:
    ee = ee_api
    collection = ee.ImageCollection(COLLECTION_ID)
    date_range = ee.DateRange(start, end)
    expected = _expected(start, end)
    assert 0 < len(expected) < len(load_items())
    assert _ids(collection.filterDate(date_range)) == expected
    assert _ids(collection.filter(ee.Filter.date(date_range))) == expected


def test_filter_date_with_a_computed_date_range(ee_api) -> None:
    ee = ee_api
    start = ee.Date("2023-08-13")
    date_range = ee.DateRange(start, start.advance(5, "day"))
    features = ee.FeatureCollection(ee.ImageCollection(COLLECTION_ID)).filterDate(date_range)
    assert _ids(features) == _expected("2023-08-13", "2023-08-18")
