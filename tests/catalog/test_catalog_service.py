"""Asset operations on both stores: listing with the stock client's filters, paging 10,000
images, patch, delete, copy and move."""

from __future__ import annotations

from dataclasses import replace

import pytest
from ee import _cloud_api_utils

from openee.catalog.model import FOLDER, IMAGE, IMAGE_COLLECTION, TABLE, AssetRecord, FeatureRecord
from openee.catalog.service import (
    copy_asset,
    create_asset,
    list_assets,
    move_asset,
    parse_filter,
    patch_asset,
)
from openee.catalog.store import CatalogStore, ImageQuery, PropertyTerm
from openee.errors import AlreadyExistsError, FailedPreconditionError, InvalidArgumentError
from openee.values.date import Date

ROOT = "projects/p/assets"
COLL = f"{ROOT}/coll"
DAY = 86_400_000


def box(west: float, south: float, east: float, north: float) -> dict[str, object]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def image(i: int, cloud: float = 0.0) -> AssetRecord:
    """Image i: day i of 1970, a 1-degree box at longitude i % 100, CLOUD = cloud."""
    lon = float(i % 100)
    return AssetRecord(
        name=f"{COLL}/img_{i:05d}",
        type=IMAGE,
        properties={"CLOUD": cloud, "system:time_start": i * DAY},
        start_time=i * DAY,
        end_time=i * DAY,
        footprint=box(lon, 0, lon + 1, 1),
    )


def client_filter(**params: object) -> str:
    """The filter string the stock client's listImages sends."""
    converted = _cloud_api_utils.convert_list_images_params_to_list_assets_params(params)
    return str(converted["filter"])


def every_page(store: CatalogStore, parent: str, size: int, filter: str | None = None) -> list[str]:
    names: list[str] = []
    token: str | None = None
    while True:
        page = list_assets(store, parent, size, token, filter)
        names.extend(r.name for r in page.assets)
        token = page.next_page_token
        if token is None:
            return names


def test_pagination_over_10000_images_returns_each_once(store: CatalogStore) -> None:
    images = [image(i) for i in range(10_000)]
    store.put_many([AssetRecord(COLL, IMAGE_COLLECTION), *images])
    names = every_page(store, COLL, 1000)
    assert names == [r.name for r in images]


def test_pages_survive_inserts_between_pages(store: CatalogStore) -> None:
    store.put_many([AssetRecord(COLL, IMAGE_COLLECTION), *(image(i) for i in range(0, 40, 2))])
    first = list_assets(store, COLL, 10)
    store.put(image(1))  # sorts before the token: must not shift the next page
    rest = every_page_from(store, first.next_page_token)
    assert [r.name for r in first.assets] + rest == [image(i).name for i in range(0, 40, 2)]


def every_page_from(store: CatalogStore, token: str | None) -> list[str]:
    names: list[str] = []
    while token:
        page = list_assets(store, COLL, 10, token)
        names.extend(r.name for r in page.assets)
        token = page.next_page_token
    return names


def test_client_filters(store: CatalogStore) -> None:
    store.put_many(
        [AssetRecord(COLL, IMAGE_COLLECTION), *(image(i, cloud=i % 10) for i in range(300))]
    )
    flt = client_filter(
        startTime="1970-01-11T00:00:00Z",
        endTime="1970-04-11T00:00:00Z",
        region=box(20.5, 0.2, 30.5, 0.4),
        properties=["CLOUD < 5"],
    )
    expected = [
        image(i).name for i in range(10, 100) if 20 <= i % 100 <= 30 and i % 10 < 5
    ]  # day 100 excluded: endTime is exclusive
    assert every_page(store, COLL, 7, flt) == expected


def test_filter_terms() -> None:
    parsed = parse_filter('startTime >= "2020-01-01" AND properties.name = "a AND b"')
    assert [(t.field, t.op, t.value) for t in parsed.terms] == [
        ("startTime", ">=", Date.parse("2020-01-01").millis),
        ("properties.name", "=", "a AND b"),
    ]
    assert parse_filter('intersects("POINT (1 2)")').region is not None


@pytest.mark.parametrize(
    "bad",
    ["startTime >>= 1", 'intersects("{nope")', "DROP TABLE assets", 'properties.x = "open'],
)
def test_bad_filters_are_invalid_argument(bad: str) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_filter(bad)


def test_listing_a_missing_parent_is_not_found(store: CatalogStore) -> None:
    from openee.errors import AssetNotFoundError

    with pytest.raises(AssetNotFoundError):
        list_assets(store, f"{ROOT}/none")


def test_patch_properties_and_times(store: CatalogStore) -> None:
    store.put_many([AssetRecord(COLL, IMAGE_COLLECTION), image(1, cloud=50)])
    name = image(1).name
    patched = patch_asset(store, name, {"CLOUD": 3, "NEW": "x"}, start_time="2001-02-03")
    assert patched.properties["CLOUD"] == 3 and patched.properties["NEW"] == "x"
    assert patched.start_time == Date.parse("2001-02-03").millis
    masked = patch_asset(store, name, {}, update_mask=["properties.NEW"])
    assert "NEW" not in masked.properties and masked.properties["CLOUD"] == 3
    with pytest.raises(InvalidArgumentError):
        patch_asset(store, name, {"system:index": "x"}, update_mask=["properties.system:index"])


def test_copy_collection_with_everything_in_it(store: CatalogStore) -> None:
    table = AssetRecord(f"{ROOT}/f/t", TABLE)
    feats = [FeatureRecord({"type": "Point", "coordinates": [1.0, 2.0]}, {"a": 1}, "0")]
    store.put_many(
        [AssetRecord(f"{ROOT}/f", FOLDER), table, AssetRecord(f"{ROOT}/f/c", IMAGE_COLLECTION)],
        {table.name: feats},
    )
    copy_asset(store, f"{ROOT}/f", f"{ROOT}/g")
    assert [r.name for r in store.children(f"{ROOT}/g", 0, 10)] == [f"{ROOT}/g/c", f"{ROOT}/g/t"]
    assert store.features(f"{ROOT}/g/t") == feats
    with pytest.raises(AlreadyExistsError):
        copy_asset(store, f"{ROOT}/f", f"{ROOT}/g")
    with pytest.raises(InvalidArgumentError):
        copy_asset(store, f"{ROOT}/f", f"{ROOT}/f/inner")


def test_move(store: CatalogStore) -> None:
    store.put_many([AssetRecord(COLL, IMAGE_COLLECTION), image(1), image(2)])
    move_asset(store, COLL, f"{ROOT}/moved")
    assert store.get(COLL) is None
    assert len(list_assets(store, f"{ROOT}/moved").assets) == 2


def test_create_needs_an_existing_parent(store: CatalogStore) -> None:
    with pytest.raises(FailedPreconditionError):
        create_asset(store, AssetRecord(f"{ROOT}/no/such", FOLDER))
    created = create_asset(store, AssetRecord(f"{ROOT}/top", FOLDER))
    assert created.type == FOLDER
    with pytest.raises(AlreadyExistsError):
        create_asset(store, AssetRecord(f"{ROOT}/top", FOLDER))


class RecordingStore:
    """A store that counts the rows its `query_images` returns, to show what was pushed down."""

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


def test_property_filters_reach_the_store(store: CatalogStore) -> None:
    store.put_many(
        [AssetRecord(COLL, IMAGE_COLLECTION), *(image(i, cloud=i % 10) for i in range(300))]
    )
    recording = RecordingStore(store)
    flt = client_filter(properties=["CLOUD < 2", "CLOUD != 0"])
    got = every_page(recording, COLL, 1000, flt)  # type: ignore[arg-type]
    assert got == [image(i).name for i in range(300) if i % 10 == 1]
    assert recording.rows == 30  # only the matches left the store, not all 300 images
    assert recording.queries[0].properties == (
        PropertyTerm("CLOUD", "<", 2),
        PropertyTerm("CLOUD", "!=", 0),
    )


def test_filtered_pagination_over_10000_images_is_keyset(store: CatalogStore) -> None:
    """Each matching image comes back exactly once, while images are added between pages both
    before and after the page boundary."""
    images = [image(i, cloud=i % 4) for i in range(10_000)]
    store.put_many([AssetRecord(COLL, IMAGE_COLLECTION), *images])
    flt = client_filter(region=box(10.5, 0.2, 60.5, 0.4), properties=["CLOUD <= 1"])
    names: list[str] = []
    token: str | None = None
    added = 0
    later: list[str] = []
    while True:
        page = list_assets(store, COLL, 997, token, flt)
        names.extend(r.name for r in page.assets)
        token = page.next_page_token
        if token is None:
            break
        # A matching image dated before the boundary (must not shift the next page) and one
        # after it (must come back once, in its place).
        last = page.assets[-1].start_time or 0
        for day in (last // DAY - 3, last // DAY + 5):
            extra = replace(image(20_000 + added, cloud=0), start_time=day * DAY)
            extra = replace(extra, footprint=box(20, 0, 21, 1), name=f"{COLL}/new_{added:03d}")
            store.put(extra)
            if day * DAY > last:
                later.append(extra.name)
            added += 1
    expected = [
        r.name
        for r in images
        if 10 <= r.start_time // DAY % 100 <= 60 and r.properties["CLOUD"] <= 1
    ]  # type: ignore[operator]
    assert len(names) == len(set(names))
    originals = [n for n in names if "/img_" in n]
    assert originals == expected
    assert len(expected) > 2000
    assert sorted(n for n in names if "/new_" in n) == sorted(later)
