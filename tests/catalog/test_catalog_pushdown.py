"""ImageCollection.load's filters reach the store's query: filterDate, filterBounds and property
comparisons (as the stock client sends them) narrow the rows the store returns, on both stores;
the images that come back are exactly those the filters keep, checked with plain Python."""

from __future__ import annotations

from typing import Any

import pytest

import openee.algorithms.filters  # noqa: F401  (registers the Filter algorithms)
from openee.algorithms.assets import fetch_images, store_query
from openee.algorithms.filter_expression import parse_filter
from openee.algorithms.registry import REGISTRY
from openee.catalog.model import IMAGE, IMAGE_COLLECTION, AssetRecord
from openee.catalog.store import CatalogStore, ImageQuery, PropertyTerm
from openee.values.date import Date, DateRange
from openee.values.filter import DateRangeFilter, Filter, NotFilter, OrFilter

COLL = "projects/p/assets/coll"
DAY = 86_400_000
SENSORS = ("OLI", "TM", "ETM+")


def image(i: int) -> AssetRecord:
    props: dict[str, Any] = {
        "CLOUD": (i * 7) % 100,
        "SENSOR": SENSORS[i % 3],
        "WRS_PATH": 190 + i % 5,
        "system:time_start": i * DAY,
    }
    lon = float(i % 50)
    ring = [[lon, 0.0], [lon + 1, 0.0], [lon + 1, 1.0], [lon, 1.0], [lon, 0.0]]
    return AssetRecord(
        name=f"{COLL}/img_{i:03d}",
        type=IMAGE,
        properties=props,
        start_time=i * DAY,
        end_time=i * DAY,
        footprint={"type": "Polygon", "coordinates": [ring]},
    )


IMAGES = [image(i) for i in range(200)]


class RecordingStore:
    """A store that counts the rows its `query_images` returns."""

    def __init__(self, store: CatalogStore) -> None:
        self.store = store
        self.queries: list[ImageQuery] = []
        self.rows = 0

    def query_images(self, query: ImageQuery) -> list[AssetRecord]:
        got = self.store.query_images(query)
        self.queries.append(query)
        self.rows += len(got)
        return got

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def ee_filter(name: str, **args: Any) -> Filter:
    """A filter built by the registered algorithm, as the server builds it from the graph."""
    built = REGISTRY.lookup(name).func(**args)
    assert isinstance(built, Filter)
    return built


@pytest.fixture
def recording(store: CatalogStore) -> RecordingStore:
    store.put_many([AssetRecord(COLL, IMAGE_COLLECTION), *IMAGES])
    return RecordingStore(store)


CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("Filter.lessThan", {"leftField": "CLOUD", "rightValue": 20}, lambda p: p["CLOUD"] < 20),
    ("Filter.lte", {"leftField": "CLOUD", "rightValue": 21}, lambda p: p["CLOUD"] <= 21),
    ("Filter.gt", {"leftField": "CLOUD", "rightValue": 90}, lambda p: p["CLOUD"] > 90),
    # value on the left: 90 <= CLOUD
    (
        "Filter.lessThanOrEquals",
        {"rightField": "CLOUD", "leftValue": 90},
        lambda p: p["CLOUD"] >= 90,
    ),
    ("Filter.eq", {"leftField": "SENSOR", "rightValue": "TM"}, lambda p: p["SENSOR"] == "TM"),
    ("Filter.equals", {"leftField": "WRS_PATH", "rightValue": 192}, lambda p: p["WRS_PATH"] == 192),
    ("Filter.neq", {"leftField": "SENSOR", "rightValue": "OLI"}, lambda p: p["SENSOR"] != "OLI"),
    ("Filter.gte", {"leftField": "SENSOR", "rightValue": "TM"}, lambda p: p["SENSOR"] >= "TM"),
    (
        "Filter.inList",
        {"leftField": "WRS_PATH", "rightValue": [190, 194]},
        lambda p: p["WRS_PATH"] in (190, 194),
    ),
    (
        "Filter.lessThan",
        {"leftField": "system:time_start", "rightValue": 30 * DAY + 1},
        lambda p: p["system:time_start"] <= 30 * DAY,
    ),
]


@pytest.mark.parametrize(("algorithm", "args", "keep"), CASES)
def test_comparison_is_pushed_down(
    recording: RecordingStore, algorithm: str, args: dict[str, Any], keep: Any
) -> None:
    flt = ee_filter(algorithm, **args)
    got = fetch_images(recording, COLL, (flt,))  # type: ignore[arg-type]
    expected = [r.id for r in IMAGES if keep(r.properties)]
    assert [img.id for img in got] == expected
    assert 0 < len(expected) < len(IMAGES)
    assert recording.rows == len(expected)  # the store returned only the matches


def test_date_bounds_and_properties_together(recording: RecordingStore) -> None:
    date = DateRangeFilter("system:time_start", DateRange(Date(50 * DAY), Date(150 * DAY)))
    bounds = ee_filter(
        "Filter.intersects",
        leftField=".all",
        rightValue={
            "type": "Polygon",
            "coordinates": [[[10.2, 0.2], [20.5, 0.2], [20.5, 0.5], [10.2, 0.5], [10.2, 0.2]]],
        },
    )
    cloud = ee_filter("Filter.lt", leftField="CLOUD", rightValue=50)
    both = ee_filter(
        "Filter.and", filters=[cloud, ee_filter("Filter.eq", leftField="SENSOR", rightValue="OLI")]
    )
    got = fetch_images(recording, COLL, (date, bounds, both))  # type: ignore[arg-type]
    expected = [
        r.id
        for r in IMAGES
        if 50 * DAY <= r.start_time < 150 * DAY  # type: ignore[operator]
        and 10 <= r.start_time // DAY % 50 <= 20  # type: ignore[operator]
        and r.properties["CLOUD"] < 50
        and r.properties["SENSOR"] == "OLI"
    ]
    assert [img.id for img in got] == expected
    assert recording.rows == len(expected)
    query = recording.queries[0]
    assert query.properties == (PropertyTerm("CLOUD", "<", 50), PropertyTerm("SENSOR", "=", "OLI"))


def test_filters_the_store_cannot_express_are_applied_exactly(recording: RecordingStore) -> None:
    either = OrFilter(
        (
            ee_filter("Filter.eq", leftField="SENSOR", rightValue="TM"),
            ee_filter("Filter.lt", leftField="CLOUD", rightValue=10),
        )
    )
    not_path = NotFilter(ee_filter("Filter.eq", leftField="WRS_PATH", rightValue=190))
    assert store_query(COLL, (either, not_path)) == ImageQuery(COLL)
    got = fetch_images(recording, COLL, (either, not_path))  # type: ignore[arg-type]
    expected = [
        r.id
        for r in IMAGES
        if (r.properties["SENSOR"] == "TM" or r.properties["CLOUD"] < 10)
        and r.properties["WRS_PATH"] != 190
    ]
    assert [img.id for img in got] == expected
    assert recording.rows == len(IMAGES)


def test_string_filters_are_pushed_down_as_their_filter_tree(recording: RecordingStore) -> None:
    # collection.filter('...') sends the text; its comparisons reach the store as Filter.lt,
    # Filter.eq would, and the Or the store cannot express is applied exactly afterwards.
    text = 'CLOUD < 50 && SENSOR == "OLI" && (WRS_PATH == 190 || WRS_PATH == 191)'
    got = fetch_images(recording, COLL, (parse_filter(text),))  # type: ignore[arg-type]
    expected = [
        r.id
        for r in IMAGES
        if r.properties["CLOUD"] < 50
        and r.properties["SENSOR"] == "OLI"
        and r.properties["WRS_PATH"] in (190, 191)
    ]
    assert [img.id for img in got] == expected
    assert len(expected) > 0
    query = recording.queries[0]
    assert query.properties == (PropertyTerm("CLOUD", "<", 50), PropertyTerm("SENSOR", "=", "OLI"))
    assert recording.rows == sum(
        1 for r in IMAGES if r.properties["CLOUD"] < 50 and r.properties["SENSOR"] == "OLI"
    )
